import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Secret } from '../secret/secret.js';
import { interpolatedSecrets } from '../secret/policy-secrets.js';
import { PolicyError } from './errors.js';
import { interpolate, keyPath } from './interpolate.js';
import { interpolateScoped, type PolicyScope } from './scope.js';
import type { CredentialPolicy, Policy, SystemPolicy, TargetSpec } from './types.js';
import { readYaml } from './yaml.js';
import { describeSchemaErrors, schemaErrors } from './schema-errors.js';
import { crossCheck, type AdapterRules } from './cross-checks.js';

export const DEFAULT_POLICY_PATH = '.github/rotation.yaml';
export const SCHEMA_PATH = join(dirname(fileURLToPath(import.meta.url)), '../../schema/rotation.schema.json');

/** A policy is a few kilobytes; anything past this is refused before it is parsed (memory). */
export const MAX_POLICY_BYTES = 1024 * 1024;
const tooLarge = (bytes: number) =>
  `the policy file is ${bytes} bytes, over the limit of ${MAX_POLICY_BYTES} (1 MiB): is it the right file?`;

/** Reads, interpolates and validates a policy file. Every problem is reported at once. */
export interface LoadOptions {
  /**
   * Leave `${NAME}` as written when NAME is not set: for `plan` and `status`, which read only the
   * policy's shape and run where the secrets are not.
   */
  withoutSecrets?: boolean;
  /** How messages name the file (default: the path as given). */
  label?: string;
  /**
   * A `current` whose variable is not set is left out instead of being an error: for `verify`,
   * which then proves the value a readable store holds.
   */
  optionalCurrent?: boolean;
  /** Only these credentials' and systems' variables must be set (src/policy/scope.ts): audit, provision, verify. */
  scope?: PolicyScope;
}

/** Reads a policy file and checks it (see readPolicy). src/registry/load-policy.ts binds the adapters' rules. */
export function readPolicyFile(file: string, env: NodeJS.ProcessEnv, options: LoadOptions, rules: AdapterRules): Policy {
  let text: string;
  try {
    const { size } = statSync(file);
    if (size > MAX_POLICY_BYTES) throw new PolicyError(options.label ?? file, [tooLarge(size)]);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof PolicyError) throw error;
    throw new PolicyError(options.label ?? file, [`cannot read the policy file (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  return readPolicy(text, options.label ?? file, env, options, rules);
}

/** Reads, interpolates and validates a policy's text, then checks it across sections and with the adapters' rules. */
export function readPolicy(text: string, file: string, env: NodeJS.ProcessEnv, options: LoadOptions, rules: AdapterRules): Policy {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_POLICY_BYTES) throw new PolicyError(file, [tooLarge(bytes)]);
  const raw = readYaml(text, file);
  // Structure first, on the raw text, so a typo is reported even when variables are missing.
  const shapeErrors = schemaErrors(structuredClone(raw));
  if (shapeErrors.length > 0) throw new PolicyError(file, describeSchemaErrors(shapeErrors));

  if (options.optionalCurrent) dropUnsetCurrent(raw as RawPolicy, env);
  const problems: string[] = [];
  const used = new Map<string, string[]>();
  const data = options.withoutSecrets
    ? (interpolate(raw, env, [], undefined, used) as RawPolicy)
    : interpolateScoped(raw as RawPolicy, env, options.scope, problems, used);
  if (problems.length > 0) throw new PolicyError(file, problems);
  // Again after interpolation (this also applies the schema's defaults). The values now may hold
  // secrets, so these messages never quote them.
  const valueErrors = schemaErrors(data);
  if (valueErrors.length > 0) throw new PolicyError(file, describeSchemaErrors(valueErrors, false));
  const policy = toPolicy(file, data, used, rules);
  policy.secrets = interpolatedSecrets(raw, env);
  const crossProblems = crossCheck(policy, rules);
  if (crossProblems.length > 0) throw new PolicyError(file, crossProblems);
  return policy;
}

/** For verify: a `current` naming a variable that is not set is dropped, so a readable store is used. */
function dropUnsetCurrent(raw: RawPolicy, env: NodeJS.ProcessEnv): void {
  for (const c of Object.values(raw.credentials ?? {})) {
    const names = typeof c.current === 'string' ? [...c.current.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]) : [];
    if (names.some((name) => !env[name])) delete c.current;
  }
}

interface RawPolicy {
  version: 1;
  evidence_dir?: string;
  allow_outside_workspace?: boolean;
  systems: Record<string, Record<string, unknown> & { type: string }>;
  credentials: Record<string, Record<string, unknown>>;
  exposure?: { repositories?: string[]; organizations?: string[]; secret_types?: string[] };
}

function toPolicy(file: string, data: RawPolicy, used: Map<string, string[]>, rules: AdapterRules): Policy {
  const systems: Record<string, SystemPolicy> = {};
  for (const [id, sys] of Object.entries(data.systems)) {
    if (sys.type === 'postgres') {
      systems[id] = {
        id,
        type: 'postgres',
        adminUrl: new Secret(String(sys.admin_url)),
        lockTimeoutSeconds: sys.lock_timeout_seconds as number | undefined,
        ca: typeof sys.ca === 'string' ? sys.ca : undefined,
        caFrom: typeof sys.ca_from === 'string' ? sys.ca_from : undefined,
        cluster: typeof sys.cluster === 'string' ? sys.cluster : undefined,
        exposedSchemas: (sys.exposed_schemas as string[] | undefined) ?? [],
      };
    } else {
      const { type, ...settings } = sys;
      // A Supabase access token becomes a Secret at once, like admin_url.
      if (type === 'supabase' && typeof settings.access_token === 'string') settings.access_token = new Secret(settings.access_token);
      // Its db_url may be the project's connection string, password included.
      if (type === 'supabase' && typeof settings.db_url === 'string') settings.db_url = new Secret(settings.db_url);
      // A DigitalOcean API token too.
      if (type === 'digitalocean' && typeof settings.token === 'string') settings.token = new Secret(settings.token);
      systems[id] = { id, type, settings };
    }
  }
  const credentials: Record<string, CredentialPolicy> = {};
  for (const [id, c] of Object.entries(data.credentials)) {
    const { system, method, role, cadence, current, length, access, break_glass, schemas, store, consumers, health, ...settings } = c;
    const base = ['credentials', id];
    credentials[id] = {
      id,
      system: String(system),
      method: String(method),
      // Supabase's API changes the password of the project's `postgres` role only.
      role: typeof role === 'string' ? role : method === 'supabase-db-password' ? 'postgres' : id,
      cadence: String(cadence),
      current: typeof current === 'string' && current !== '' ? new Secret(current) : undefined,
      currentVariables: used.get(keyPath([...base, 'current'])) ?? [],
      length: length as number | undefined,
      access: access as CredentialPolicy['access'],
      breakGlass: break_glass === true,
      schemas: (schemas as string[] | undefined) ?? ['public'],
      store: toSpecs(store, [...base, 'store']),
      consumers: toSpecs(consumers, [...base, 'consumers']),
      health: toSpecs(health, [...base, 'health']),
      settings,
    };
  }
  const exposure = data.exposure && {
    repositories: data.exposure.repositories ?? [],
    organizations: data.exposure.organizations ?? [],
    secretTypes: data.exposure.secret_types ?? rules.defaultSecretTypes(Object.values(credentials).map((c) => c.method)),
  };
  return {
    file,
    version: 1,
    evidenceDir: data.evidence_dir ?? 'docs/evidence',
    allowOutsideWorkspace: data.allow_outside_workspace === true,
    systems,
    credentials,
    ...(exposure ? { exposure } : {}),
  };
}

function toSpecs(list: unknown, path: string[]): TargetSpec[] {
  return ((list as Record<string, Record<string, unknown>>[] | undefined) ?? []).map((entry, i) => {
    const [kind, options] = Object.entries(entry)[0];
    return { kind, options, path: keyPath([...path, String(i), kind]) };
  });
}
