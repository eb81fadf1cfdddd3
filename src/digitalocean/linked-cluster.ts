import type { Runtime } from '../runtime/runtime.js';
import type { Policy, PostgresSystem, ProviderSystem, SystemPolicy } from '../policy/types.js';
import { digitalOceanSystemSettings, type DigitalOceanSettings } from './settings.js';

/** What finding a system's cluster needs (an adapter's context has it). */
export interface ClusterContext {
  policy: Policy;
  system: SystemPolicy;
  runtime: Runtime;
}

/**
 * The DigitalOcean cluster a credential's system is: a `type: digitalocean` system itself, or the
 * one a postgres system names with `cluster:` (else `ca_from:`, which names the same cluster).
 * Undefined for a server DigitalOcean does not manage (or that the policy does not link).
 */
export function linkedCluster(ctx: ClusterContext): DigitalOceanSettings | undefined {
  const { system } = ctx;
  if (system.type === 'digitalocean') return digitalOceanSystemSettings(system as ProviderSystem, ctx.runtime);
  if (system.type !== 'postgres') return undefined;
  const pg = system as PostgresSystem;
  const id = pg.cluster ?? pg.caFrom;
  const linked = id === undefined ? undefined : ctx.policy.systems[id];
  // The policy loader checked the link names a digitalocean system.
  return linked?.type === 'digitalocean' ? digitalOceanSystemSettings(linked as ProviderSystem, ctx.runtime) : undefined;
}
