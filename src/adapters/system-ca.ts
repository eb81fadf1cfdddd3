import type { AdapterContext } from './context.js';
import { RotationError } from '../errors/errors.js';
import type { PostgresSystem, ProviderSystem } from '../policy/types.js';
import { clusterCa } from '../digitalocean/cluster-ca.js';
import { digitalOceanSystemSettings } from '../digitalocean/settings.js';
import type { ServerCa } from '../postgres/tls.js';

/**
 * The CA a postgres system's connections are checked against, beyond a URL's own sslrootcert:
 * its `ca:` (PEM), or with `ca_from:` the CA of the DigitalOcean cluster that system names.
 */
export function systemCa(ctx: Pick<AdapterContext, 'policy' | 'system' | 'runtime'>): ServerCa | undefined {
  if (ctx.system.type !== 'postgres') return undefined;
  const system = ctx.system as PostgresSystem;
  if (system.ca) return { source: `systems.${system.id}.ca`, pem: system.ca };
  if (!system.caFrom) return undefined;
  const from = ctx.policy.systems[system.caFrom];
  if (from?.type !== 'digitalocean')
    throw new RotationError(`systems.${system.id}.ca_from: '${system.caFrom}' is not a digitalocean system`);
  const settings = digitalOceanSystemSettings(from as ProviderSystem, ctx.runtime);
  return clusterCa(
    settings,
    ctx.runtime,
    `the CA of DigitalOcean cluster ${settings.clusterId} (systems.${system.id}.ca_from: ${system.caFrom})`,
  );
}
