import type { ProjectSpec } from '../models/supabase.js';

/** The project the Supabase tests rotate keys of. */
export const REF = 'spdtwktxdalcfigzeqrz';

/** A project's own keys besides the legacy pair: a secret key, a publishable key, and another tool's secret key. */
export const SERVICE_AND_WEB_KEYS: NonNullable<ProjectSpec['keys']> = [
  { name: 'service_key', type: 'secret' },
  { name: 'web_key', type: 'publishable' },
  { name: 'other_tool', type: 'secret' },
];

/**
 * A `type: supabase` entry under `systems:` of a policy (`supabase-ssot` unless `id` says), the
 * access token from the env; `dbUrl` and `dbPooler` for supabase-db-password.
 */
export function supabaseSystemYaml(
  ref: string,
  projectUrl?: string,
  more: { id?: string; dbUrl?: string; dbPooler?: boolean } = {},
): string {
  return `  ${more.id ?? 'supabase-ssot'}:
    type: supabase
    project_ref: ${ref}
    access_token: \${SUPABASE_ACCESS_TOKEN}
${projectUrl ? `    project_url: ${projectUrl}\n` : ''}${more.dbUrl ? `    db_url: ${more.dbUrl}\n` : ''}${more.dbPooler ? '    db_pooler: true\n' : ''}`;
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

/**
 * What the project's gateway answers to a key, as a user checks it with curl where Supabase serves
 * its kind: a secret (or service_role) key at `/rest/v1/`, a publishable (or anon) key at
 * `/auth/v1/settings` (`/rest/v1/` answers those 403 since 2026-03-11).
 */
export async function keyStatus(projectUrl: string, key: string): Promise<number> {
  const role = key.startsWith('eyJ')
    ? (JSON.parse(Buffer.from(key.split('.')[1], 'base64url').toString()) as { role?: string }).role
    : undefined;
  const secret = key.startsWith('sb_secret_') || role === 'service_role';
  return (await fetch(`${projectUrl}${secret ? '/rest/v1/' : '/auth/v1/settings'}`, { headers: { apikey: key } })).status;
}
