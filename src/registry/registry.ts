import type { CredentialMethod } from '../methods/method.js';
import type { Store } from '../stores/store.js';
import type { Consumer } from '../consumers/consumer.js';
import type { HealthProbe } from '../health/probe.js';
import type { AdapterContext, AdapterFactory } from '../adapters/context.js';
import type { CredentialPolicy, TargetSpec } from '../policy/types.js';
import { alternatingLoginProblems, fileKeyIdentity, githubSecretIdentity, roleNameProblems } from './policy-checks.js';

/*
 * The composition root: every adapter the policy can name, listed once.
 *
 * To add an adapter:
 *   1. write one file in its folder (methods/, stores/, consumers/, health/) that exports a
 *      factory of the kind's interface (CredentialMethod, Store, Consumer, HealthProbe; the
 *      contracts are in adapters/context.ts, runtime/runtime.ts and the interface files, which import nothing of the engine);
 *   2. add one line below: its policy name, the system types it works on, where its options live
 *      in schema/rotation.schema.json, a loader `() => import('...')`, and what the schema cannot
 *      check of its part of a policy (a method's `check`, a store's `identity`; policy-checks.ts);
 *   3. describe its options in the schema at that place (test/engine/registry.test.ts fails until the
 *      schema's kinds and method names agree with this list).
 *
 * Loaders are dynamic imports: the bundle (esbuild code splitting) puts each adapter and the
 * libraries only it uses in a chunk of its own, so a run parses the code of the adapters its
 * credential names and nothing else. Nothing here imports an adapter statically.
 */

export type SystemType = 'postgres' | 'digitalocean' | 'supabase';
export type MethodFactory = (ctx: AdapterContext) => CredentialMethod;

export interface RegistryEntry<F> {
  /** The system types it works on: a method needs one of these; `any` for targets that do not care. */
  systems: readonly SystemType[] | 'any';
  /** JSON pointer to its options (or its method name) in schema/rotation.schema.json. */
  schema: string;
  /** Loads its file and returns its factory. */
  load: () => Promise<F>;
  /** A method's own checks of a credential (`where`: its key path), beyond the schema's. */
  check?: (credential: CredentialPolicy, where: string) => string[];
  /** A store's place, from its options: two targets with one identity would overwrite each other (default: the options as written). */
  identity?: (options: Record<string, unknown>) => string;
}

export interface Registry {
  methods: Record<string, RegistryEntry<MethodFactory>>;
  stores: Record<string, RegistryEntry<AdapterFactory<Store>>>;
  consumers: Record<string, RegistryEntry<AdapterFactory<Consumer>>>;
  health: Record<string, RegistryEntry<AdapterFactory<HealthProbe>>>;
}

const METHOD_ENUM = '/definitions/credential/properties/method';
const store = (name: string) => `/definitions/storeTarget/properties/${name}`;
const consumer = (name: string) => `/definitions/consumer/properties/${name}`;
const probe = (name: string) => `/definitions/health/properties/${name}`;

export const REGISTRY: Registry = {
  methods: {
    'alter-role': {
      systems: ['postgres'],
      schema: METHOD_ENUM,
      check: roleNameProblems,
      load: async () => (await import('../methods/alter-role.js')).alterRole,
    },
    'alternating-roles': {
      systems: ['postgres'],
      schema: METHOD_ENUM,
      check: (credential, where) => [...alternatingLoginProblems(credential, where), ...roleNameProblems(credential, where)],
      load: async () => (await import('../methods/alternating-roles.js')).alternatingRoles,
    },
    'digitalocean-reset': {
      systems: ['digitalocean'],
      schema: METHOD_ENUM,
      load: async () => (await import('../methods/digitalocean-reset.js')).digitalOceanReset,
    },
    'supabase-secret-key': {
      systems: ['supabase'],
      schema: METHOD_ENUM,
      load: async () => (await import('../methods/supabase-key.js')).supabaseSecretKey,
    },
    'supabase-publishable-key': {
      systems: ['supabase'],
      schema: METHOD_ENUM,
      load: async () => (await import('../methods/supabase-key.js')).supabasePublishableKey,
    },
    'supabase-db-password': {
      systems: ['supabase'],
      schema: METHOD_ENUM,
      load: async () => (await import('../methods/supabase-db-password.js')).supabaseDbPassword,
    },
  },
  stores: {
    file: {
      systems: 'any',
      schema: store('file'),
      identity: fileKeyIdentity,
      load: async () => (await import('../stores/file.js')).fileStore,
    },
    github: {
      systems: 'any',
      schema: store('github'),
      identity: githubSecretIdentity,
      load: async () => (await import('../stores/github.js')).githubStore,
    },
  },
  consumers: {
    'digitalocean-app': {
      systems: 'any',
      schema: consumer('digitalocean-app'),
      load: async () => (await import('../consumers/digitalocean-app.js')).digitalOceanApp,
    },
    'github-workflow': {
      systems: 'any',
      schema: consumer('github-workflow'),
      load: async () => (await import('../consumers/github-workflow.js')).githubWorkflow,
    },
    'supabase-function-secrets': {
      systems: 'any',
      schema: consumer('supabase-function-secrets'),
      load: async () => (await import('../consumers/supabase-function-secrets.js')).supabaseFunctionSecrets,
    },
    'superset-database': {
      systems: 'any',
      schema: consumer('superset-database'),
      load: async () => (await import('../consumers/superset-database.js')).supersetDatabase,
    },
    'n8n-credential': {
      systems: 'any',
      schema: consumer('n8n-credential'),
      load: async () => (await import('../consumers/n8n-credential.js')).n8nCredential,
    },
    http: { systems: 'any', schema: consumer('http'), load: async () => (await import('../consumers/http-webhook.js')).httpWebhook },
  },
  health: {
    'no-stale-sessions': {
      systems: ['postgres', 'digitalocean'],
      schema: probe('no-stale-sessions'),
      load: async () => (await import('../health/no-stale-sessions.js')).noStaleSessions,
    },
    http: { systems: 'any', schema: probe('http'), load: async () => (await import('../health/http.js')).httpProbe },
    'postgres-login': {
      systems: 'any',
      schema: probe('postgres-login'),
      load: async () => (await import('../health/postgres-login.js')).postgresLogin,
    },
    'supabase-api': {
      systems: 'any',
      schema: probe('supabase-api'),
      load: async () => (await import('../health/supabase-api.js')).supabaseApiProbe,
    },
  },
};

/** The system types a method rotates on (the policy loader checks a credential's system against it). */
export function methodSystems(method: string): readonly SystemType[] | undefined {
  const systems = REGISTRY.methods[method]?.systems;
  return systems === 'any' ? undefined : systems;
}

/** What a credential's method finds wrong in it (the policy loader reports it with the rest). */
export function credentialProblems(credential: CredentialPolicy, where: string): string[] {
  return REGISTRY.methods[credential.method]?.check?.(credential, where) ?? [];
}

/** Which place a store target writes (duplicates are refused; the audit compares credentials' targets). */
export function targetIdentity(target: TargetSpec): string {
  return REGISTRY.stores[target.kind]?.identity?.(target.options) ?? `${target.kind}|${JSON.stringify(target.options)}`;
}
