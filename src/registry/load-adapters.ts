import type { Policy, TargetSpec } from '../policy/types.js';
import type { Secret } from '../secret/secret.js';
import type { Reason } from '../evidence/record.js';
import type { AdapterContext } from '../adapters/context.js';
import type { Runtime } from '../runtime/runtime.js';
import type { CredentialMethod } from '../methods/method.js';
import type { Store } from '../stores/store.js';
import type { Consumer } from '../consumers/consumer.js';
import type { HealthProbe } from '../health/probe.js';
import { REGISTRY, type Registry, type RegistryEntry } from './registry.js';
import { RotationError } from '../errors/errors.js';
import { carriesPassword, renderFormat, unformat } from '../adapters/format.js';
import { optionsOf } from '../adapters/options.js';

/** The adapters of one credential, as the engine receives them (built by loadAdapters below). */
export interface Adapters {
  method: CredentialMethod;
  /** Each store with the function that turns the bare value (held by `user`, default: the login the method set) into what that target holds, and back. */
  stores: {
    store: Store;
    render: (value: Secret, user?: string) => Secret;
    unrender: (held: Secret) => Secret | undefined;
    /** What the target holds carries no secret (a `{user}`-only format: a login name, which messages and evidence name). */
    public?: boolean;
  }[];
  consumers: Consumer[];
  probes: HealthProbe[];
}

/** How the engine gets the adapters of a credential: loadAdapters in production. */
export type AdapterLoader = (policy: Policy, credentialId: string, runtime: Runtime, reason?: Reason) => Promise<Adapters>;

/**
 * Loads (on demand, see registry.ts) and builds the adapters the policy names for one credential.
 * Nothing is contacted yet.
 */
export async function loadAdapters(
  policy: Policy,
  credentialId: string,
  runtime: Runtime,
  reason: Reason = 'manual',
  registry: Registry = REGISTRY,
): Promise<Adapters> {
  const credential = policy.credentials[credentialId];
  // `{user}`: the login the method says holds the new value (built below), else the role.
  const built: { method?: CredentialMethod } = {};
  const user = () => built.method?.user?.() ?? credential.role;
  const currentUser = () => built.method?.currentUser?.() ?? credential.role;
  const ctx: AdapterContext = { policy, credential, system: policy.systems[credential.system], runtime, reason, user, currentUser };
  const method = registry.methods[credential.method];
  if (!method) throw new RotationError(`credentials.${credential.id}.method: no method '${credential.method}'`);
  // Every file at once: the loads are independent, and the builds below keep policy order.
  const [methodFactory, storeFactories, consumerFactories, probeFactories] = await Promise.all([
    method.load(),
    Promise.all(credential.store.map((spec) => pick(registry.stores, spec, 'store').load())),
    Promise.all(credential.consumers.map((spec) => pick(registry.consumers, spec, 'consumer').load())),
    Promise.all(credential.health.map((spec) => pick(registry.health, spec, 'health check').load())),
  ]);
  built.method = methodFactory(ctx);
  return {
    method: built.method,
    stores: credential.store.map((spec, i) => {
      const format = optionsOf(spec, runtime).optionalString('format');
      return {
        store: storeFactories[i](spec, ctx),
        render: (value: Secret, as = user()) => renderFormat(format, value, as),
        // The bare value inside what the target holds, for adopting a stored value as the current one.
        unrender: (held: Secret) => unformat(format, held),
        public: !carriesPassword(format),
      };
    }),
    consumers: credential.consumers.map((spec, i) => consumerFactories[i](spec, ctx)),
    probes: credential.health.map((spec, i) => probeFactories[i](spec, ctx)),
  };
}

function pick<F>(entries: Record<string, RegistryEntry<F>>, spec: TargetSpec, what: string): RegistryEntry<F> {
  const entry = Object.hasOwn(entries, spec.kind) ? entries[spec.kind] : undefined;
  if (!entry) throw new RotationError(`${spec.path}: no ${what} kind '${spec.kind}' (known: ${Object.keys(entries).join(', ')})`);
  return entry;
}
