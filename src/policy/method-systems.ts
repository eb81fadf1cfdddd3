/** Which kind of system each credential method rotates on; the policy loader checks it. */
export const METHOD_SYSTEM_TYPES: Record<string, string> = {
  'alter-role': 'postgres',
  'alternating-roles': 'postgres',
  'digitalocean-reset': 'digitalocean',
  'supabase-secret-key': 'supabase',
  'supabase-publishable-key': 'supabase',
};
