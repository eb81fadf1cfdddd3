import type { Runtime } from '../runtime/runtime.js';
import type { Policy, SystemPolicy } from '../policy/types.js';
import { clusterSystemOf } from '../policy/cluster-link.js';
import { digitalOceanSystemSettings, type DigitalOceanSettings } from './settings.js';

/** What finding a system's cluster needs (an adapter's context has it). */
export interface ClusterContext {
  policy: Policy;
  system: SystemPolicy;
  runtime: Runtime;
}

/** The settings of the DigitalOcean cluster a credential's system is or links to (policy/cluster-link.ts); undefined when none. */
export function linkedCluster(ctx: ClusterContext): DigitalOceanSettings | undefined {
  const system = clusterSystemOf(ctx.policy, ctx.system);
  return system ? digitalOceanSystemSettings(system, ctx.runtime) : undefined;
}
