import type { AdapterContext } from './context.js';
import { RotationError } from '../errors/errors.js';
import type { PostgresSystem, ProviderSystem } from '../policy/types.js';
import type { ServerCa } from '../postgres/tls.js';

/**
 * The CA a postgres system's connections are checked against, beyond a URL's own sslrootcert:
 * its `ca:` (PEM), or with `ca_from:` the CA of the DigitalOcean cluster that system names, read
 * from DigitalOcean's API (and DigitalOcean's code loaded) when a connection first needs it.
 */
export function systemCa(ctx: Pick<AdapterContext, 'policy' | 'system' | 'runtime'>): ServerCa | undefined {
  if (ctx.system.type !== 'postgres') return undefined;
  const system = ctx.system as PostgresSystem;
  if (system.ca) return { source: `systems.${system.id}.ca`, pem: system.ca };
  if (!system.caFrom) return undefined;
  const from = ctx.policy.systems[system.caFrom];
  if (from?.type !== 'digitalocean')
    throw new RotationError(`systems.${system.id}.ca_from: '${system.caFrom}' is not a digitalocean system`);
  const source = `the CA of DigitalOcean cluster ${String(from.settings.cluster_id)} (systems.${system.id}.ca_from: ${system.caFrom})`;
  return {
    source,
    load: async () => {
      const [{ clusterCa }, { digitalOceanSystemSettings }] = await Promise.all([
        import('../digitalocean/cluster-ca.js'),
        import('../digitalocean/settings.js'),
      ]);
      return clusterCa(digitalOceanSystemSettings(from as ProviderSystem, ctx.runtime), ctx.runtime, source).load!();
    },
  };
}
