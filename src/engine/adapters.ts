import type { TargetSpec } from '../policy/types.js';
import type { Policy } from '../policy/types.js';
import type { Secret } from '../secret/secret.js';
import type { CredentialMethod } from '../methods/method.js';
import type { Store } from '../stores/store.js';
import type { Consumer } from '../consumers/consumer.js';
import type { HealthProbe } from '../health/probe.js';
import { METHODS } from '../methods/index.js';
import { STORES } from '../stores/index.js';
import { CONSUMERS } from '../consumers/index.js';
import { PROBES } from '../health/index.js';
import type { AdapterContext, Runtime } from './runtime.js';
import { RotationError } from './errors.js';
import { renderFormat } from '../stores/format.js';
import type { Reason } from '../evidence/record.js';

export interface Adapters {
  method: CredentialMethod;
  /** Each store with the function that turns the bare value (held by `user`) into what that target holds. */
  stores: { store: Store; render: (value: Secret, user?: string) => Secret }[];
  consumers: Consumer[];
  probes: HealthProbe[];
}

export type AdapterFactory<T> = (spec: TargetSpec, ctx: AdapterContext) => T;

/** Builds the adapters the policy names for one credential. Nothing is contacted yet. */
export function buildAdapters(policy: Policy, credentialId: string, runtime: Runtime, reason: Reason = 'manual'): Adapters {
  const credential = policy.credentials[credentialId];
  const factory = METHODS[credential.method];
  if (!factory) throw new RotationError(`credentials.${credential.id}.method: no method '${credential.method}'`);
  // `{user}`: the login the method says holds the new value (built below), else the role.
  let method: CredentialMethod | undefined;
  const user = () => method?.user?.() ?? credential.role;
  const ctx: AdapterContext = { policy, credential, system: policy.systems[credential.system], runtime, reason, user };
  method = factory(ctx);
  return {
    method,
    stores: credential.store.map((spec) => ({
      store: pick(STORES, spec, 'store')(spec, ctx),
      render: (value: Secret, as = user()) => renderFormat(spec.options.format as string | undefined, value, as),
    })),
    consumers: credential.consumers.map((spec) => pick(CONSUMERS, spec, 'consumer')(spec, ctx)),
    probes: credential.health.map((spec) => pick(PROBES, spec, 'health check')(spec, ctx)),
  };
}

function pick<T>(registry: Record<string, AdapterFactory<T>>, spec: TargetSpec, what: string): AdapterFactory<T> {
  const factory = registry[spec.kind];
  if (!factory) throw new RotationError(`${spec.path}: no ${what} kind '${spec.kind}' (known: ${Object.keys(registry).join(', ')})`);
  return factory;
}
