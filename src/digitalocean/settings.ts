import type { Runtime } from '../runtime/runtime.js';
import { RotationError } from '../errors/errors.js';
import type { ProviderSystem } from '../policy/types.js';
import { Secret } from '../secret/secret.js';

export const DEFAULT_API_URL = 'https://api.digitalocean.com';

/** The settings of a `type: digitalocean` system, with the token as a Secret (masked at once). */
export function digitalOceanSystemSettings(system: ProviderSystem, runtime: Runtime) {
  const s = system.settings;
  const raw = s.token;
  if (!(raw instanceof Secret) && (typeof raw !== 'string' || raw === '')) {
    throw new RotationError(`systems.${system.id}.token: expected a DigitalOcean API token, e.g. \${DIGITALOCEAN_TOKEN}`);
  }
  const token = raw instanceof Secret ? raw : new Secret(raw);
  runtime.reporter.mask(token);
  return {
    id: system.id,
    clusterId: String(s.cluster_id),
    token,
    apiUrl: typeof s.api_url === 'string' ? s.api_url : (runtime.env.DIGITALOCEAN_API_URL ?? DEFAULT_API_URL),
    database: typeof s.database === 'string' ? s.database : undefined,
    sslmode: typeof s.sslmode === 'string' ? s.sslmode : undefined,
  };
}
export type DigitalOceanSettings = ReturnType<typeof digitalOceanSystemSettings>;
