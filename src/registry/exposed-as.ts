/**
 * How each method's value looks when GitHub secret scanning finds it leaked: the form the matcher
 * reads (a connection string carries a login and a password; a key is its whole value) and the
 * secret types GitHub reports it under (docs.github.com "Supported secret scanning patterns":
 * `postgres_connection_string` is a non-provider pattern, listed only when asked for; Supabase's
 * `supabase_secret_key` and the legacy `supabase_service_key`). A method not named here is not
 * matched: its alerts are reported as not matched.
 */
export type LeakForm = 'connection-string' | 'key';

export interface ExposedAs {
  form: LeakForm;
  secretTypes: readonly string[];
}

const POSTGRES: ExposedAs = { form: 'connection-string', secretTypes: ['postgres_connection_string'] };

export const EXPOSED_AS: Readonly<Record<string, ExposedAs>> = {
  'alter-role': POSTGRES,
  'alternating-roles': POSTGRES,
  'digitalocean-reset': POSTGRES,
  'supabase-db-password': POSTGRES,
  'supabase-secret-key': { form: 'key', secretTypes: ['supabase_secret_key', 'supabase_service_key'] },
  // Publishable keys are public by design: GitHub raises no alert for them.
  'supabase-publishable-key': { form: 'key', secretTypes: [] },
};

/** The secret types that fit the credential kinds of a policy (the default of `exposure.secret_types`). */
export function defaultSecretTypes(methods: Iterable<string>): string[] {
  const types = new Set<string>();
  for (const method of methods) for (const type of EXPOSED_AS[method]?.secretTypes ?? []) types.add(type);
  return [...types].sort();
}

/** The form a secret type's value takes: connection strings are read for their login and password. */
export function formOfType(secretType: string): LeakForm {
  return /_connection_string$/.test(secretType) ? 'connection-string' : 'key';
}
