import type { Policy, PostgresSystem, ProviderSystem, SystemPolicy } from './types.js';

/**
 * The `type: digitalocean` system a system is or links to: itself, or the one a postgres system
 * names with `cluster:` (else `ca_from:`, which names the same cluster). Undefined for a server
 * DigitalOcean does not manage (or that the policy does not link). Policy data only: callers
 * decide from it whether to load any DigitalOcean code at all.
 */
export function clusterSystemOf(policy: Policy, system: SystemPolicy): ProviderSystem | undefined {
  if (system.type === 'digitalocean') return system as ProviderSystem;
  if (system.type !== 'postgres') return undefined;
  const pg = system as PostgresSystem;
  const id = pg.cluster ?? pg.caFrom;
  const linked = id === undefined ? undefined : policy.systems[id];
  // The policy loader checked the link names a digitalocean system.
  return linked?.type === 'digitalocean' ? (linked as ProviderSystem) : undefined;
}
