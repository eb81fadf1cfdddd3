import type { AdapterContext } from '../adapters/context.js';
import type { Runtime } from '../runtime/runtime.js';
import type { PostgresSystem, ProviderSystem } from '../policy/types.js';
import { digitalOceanSystemSettings, type DigitalOceanSettings } from './settings.js';

/**
 * The DigitalOcean cluster a credential's system is: a `type: digitalocean` system itself, or the
 * one a postgres system names with `cluster:` (else `ca_from:`, which names the same cluster).
 * Undefined for a server DigitalOcean does not manage (or that the policy does not link).
 */
export function linkedCluster(ctx: Pick<AdapterContext, 'policy' | 'system'> & { runtime: Runtime }): DigitalOceanSettings | undefined {
  const { system } = ctx;
  if (system.type === 'digitalocean') return digitalOceanSystemSettings(system as ProviderSystem, ctx.runtime);
  if (system.type !== 'postgres') return undefined;
  const pg = system as PostgresSystem;
  const id = pg.cluster ?? pg.caFrom;
  const linked = id === undefined ? undefined : ctx.policy.systems[id];
  // The policy loader checked the link names a digitalocean system.
  return linked?.type === 'digitalocean' ? digitalOceanSystemSettings(linked as ProviderSystem, ctx.runtime) : undefined;
}
