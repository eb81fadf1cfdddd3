import type { ProjectSpec } from '../models/supabase.js';

/** The project the Supabase tests rotate keys of. */
export const REF = 'spdtwktxdalcfigzeqrz';

/** A project's own keys besides the legacy pair: a secret key, a publishable key, and another tool's secret key. */
export const SERVICE_AND_WEB_KEYS: NonNullable<ProjectSpec['keys']> = [
  { name: 'service_key', type: 'secret' },
  { name: 'web_key', type: 'publishable' },
  { name: 'other_tool', type: 'secret' },
];

/** The `supabase-ssot` entry under `systems:` of a policy; the access token comes from the env. */
export function supabaseSystemYaml(ref: string, projectUrl?: string): string {
  return `  supabase-ssot:
    type: supabase
    project_ref: ${ref}
    access_token: \${SUPABASE_ACCESS_TOKEN}
${projectUrl ? `    project_url: ${projectUrl}\n` : ''}`;
}

/**
 * The service_key credential (after `credentials:`), its value in `${CURRENT}`: stored in a file and
 * a GitHub secret, set as an Edge Function secret, probed with the project API.
 */
export const SERVICE_KEY_CREDENTIAL = `
  service_key:
    system: supabase-ssot
    method: supabase-secret-key
    key_name: service_key
    cadence: quarterly
    current: \${CURRENT}
    store:
      - file: { path: .secrets/supabase.env, key: SUPABASE_SECRET_KEY }
      - github: { repository: acme/ops, secret: SUPABASE_SECRET_KEY }
    consumers:
      - supabase-function-secrets: { names: [SERVICE_KEY] }
    health:
      - supabase-api: {}
`;
