import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { LineCounter, parseDocument, visit, isAlias } from 'yaml';
import type { ErrorObject } from 'ajv';
import { Secret } from '../secret/secret.js';
import { interpolatedSecrets } from '../secret/policy-secrets.js';
import { PolicyError } from './errors.js';
import { interpolate, keyPath } from './interpolate.js';
import { interpolateScoped, type PolicyScope } from './scope.js';
import type { CredentialPolicy, Policy, PostgresSystem, SystemPolicy, TargetSpec } from './types.js';
import { loginsOf } from './logins.js';
import { validate } from './schema-validator.js';
import { splitTlsParams, urlLogin, urlProblem } from '../postgres/url.js';
import { sslModeOf } from '../postgres/tls.js';
import { describeError } from '../errors/errors.js';

export const DEFAULT_POLICY_PATH = '.github/rotation.yaml';
export const SCHEMA_PATH = join(dirname(fileURLToPath(import.meta.url)), '../../schema/rotation.schema.json');

/** A policy is a few kilobytes; anything past this is refused before it is parsed (memory). */
export const MAX_POLICY_BYTES = 1024 * 1024;
const tooLarge = (bytes: number) => `the policy file is ${bytes} bytes, over the limit of ${MAX_POLICY_BYTES} (1 MiB): is it the right file?`;

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

/**
 * What only the adapters know about a policy (the registry, src/registry/, supplies it; this folder
 * knows no adapter): the system types a method works on, the secret types its values leak as.
 */
export interface AdapterRules {
  /** The system types `method` works on; undefined: any, or a method the schema already refused. */
  methodSystems(method: string): readonly string[] | undefined;
  /** The secret types GitHub reports these methods' values under (the default of `exposure.secret_types`). */
  defaultSecretTypes(methods: Iterable<string>): string[];
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
  const data = options.withoutSecrets ? (interpolate(raw, env, [], undefined, used) as RawPolicy) : interpolateScoped(raw as RawPolicy, env, options.scope, problems, used);
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

/** The YAML as plain data; every syntax problem (and an alias bomb) named with the file and line. */
function readYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      file,
      doc.errors.map((e) => `line ${e.linePos?.[0]?.line ?? '?'}, column ${e.linePos?.[0]?.col ?? '?'}: ${e.message.split('\n')[0]}`),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // toJS() reports an unknown alias or an alias bomb without a position: name the alias's line
    // (the unresolved one, or the first).
    const unresolved = /unresolved/i.test((error as Error).message);
    let line: number | undefined;
    visit(doc, {
      Alias(_key, node) {
        if (!isAlias(node) || !node.range || (unresolved && node.resolve(doc))) return undefined;
        line = lineCounter.linePos(node.range[0]).line;
        return visit.BREAK;
      },
    });
    throw new PolicyError(file, [`${line ? `line ${line}: ` : ''}${(error as Error).message}`]);
  }
}

/** For verify: a `current` naming a variable that is not set is dropped, so a readable store is used. */
function dropUnsetCurrent(raw: RawPolicy, env: NodeJS.ProcessEnv): void {
  for (const c of Object.values(raw.credentials ?? {})) {
    const names = typeof c.current === 'string' ? [...c.current.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]) : [];
    if (names.some((name) => !env[name])) delete c.current;
  }
}

/**
 * The schema's errors, less those about a `${VAR}` string still to be interpolated, and the
 * if/oneOf verdicts that failed only because of one: such a string is judged once it is filled.
 */
function schemaErrors(data: unknown): ErrorObject[] {
  if (validate(data)) return [];
  const all = validate.errors ?? [];
  const placeholder = (e: ErrorObject) => typeof e.data === 'string' && /\$\{[A-Za-z_]/.test(e.data);
  const deferred = all.filter(placeholder).map((e) => e.instancePath);
  const composite = (e: ErrorObject) => ['if', 'oneOf', 'anyOf', 'not'].includes(e.keyword) && deferred.some((p) => p.startsWith(`${e.instancePath}/`));
  return all.filter((e) => !placeholder(e) && !composite(e));
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
  return { file, version: 1, evidenceDir: data.evidence_dir ?? 'docs/evidence', allowOutsideWorkspace: data.allow_outside_workspace === true, systems, credentials, ...(exposure ? { exposure } : {}) };
}

function toSpecs(list: unknown, path: string[]): TargetSpec[] {
  return ((list as Record<string, Record<string, unknown>>[] | undefined) ?? []).map((entry, i) => {
    const [kind, options] = Object.entries(entry)[0];
    return { kind, options, path: keyPath([...path, String(i), kind]) };
  });
}

/** What a schema cannot say: references between sections and duplicates. */
function crossCheck(policy: Policy, rules: AdapterRules): string[] {
  const problems: string[] = [];
  for (const system of Object.values(policy.systems)) if (system.type === 'postgres') problems.push(...caProblems(policy, system as PostgresSystem));
  for (const system of Object.values(policy.systems)) {
    if (!('adminUrl' in system)) continue;
    const url = system.adminUrl.reveal();
    // Still a `${VAR}` (plan, status): judged where the variable is set.
    const problem = /\$\{[A-Za-z_]/.test(url) ? undefined : urlProblem(url);
    if (problem) problems.push(`systems.${system.id}.admin_url: not a usable PostgreSQL URL: ${problem}`);
    else if (!/\$\{[A-Za-z_]/.test(url)) problems.push(...tlsProblems(system as PostgresSystem, url));
  }
  for (const cred of Object.values(policy.credentials)) {
    const where = `credentials.${cred.id}`;
    const system = policy.systems[cred.system];
    if (!system) {
      problems.push(`${where}.system: expected one of the systems (${Object.keys(policy.systems).join(', ')}), got '${cred.system}'`);
    } else {
      const wanted = rules.methodSystems(cred.method);
      if (wanted && !wanted.includes(system.type)) {
        problems.push(`${where}.method: '${cred.method}' needs a system of type ${wanted.join(' or ')}, but '${cred.system}' is ${system.type}`);
      }
    }
    if (cred.settings.logins !== undefined && cred.method !== 'alternating-roles') problems.push(`${where}.logins: only method alternating-roles has logins (this credential's method is ${cred.method})`);
    const logins = cred.settings.logins as string[] | undefined;
    if (logins?.includes(cred.role)) problems.push(`${where}.logins: expected two logins other than the group role ${cred.role}`);
    problems.push(...nameLengthProblems(cred, where));
    const seen = new Map<string, string>();
    for (const target of cred.store) {
      const key = targetIdentity(target);
      const earlier = seen.get(key);
      if (earlier) problems.push(`${target.path}: duplicate store target (same as ${earlier})`);
      else seen.set(key, target.path);
    }
  }
  return problems;
}

/** PostgreSQL's limit on a name (NAMEDATALEN - 1): longer names are cut, silently but for a NOTICE. */
const MAX_NAME_BYTES = 63;

/** Role names PostgreSQL would cut: a role and its logins that are not the names the policy says (the two logins may even become one). */
function nameLengthProblems(cred: CredentialPolicy, where: string): string[] {
  if (cred.method !== 'alter-role' && cred.method !== 'alternating-roles') return [];
  const names = cred.method === 'alternating-roles' ? [cred.role, ...loginsOf(cred)] : [cred.role];
  const long = names.filter((name) => Buffer.byteLength(name) > MAX_NAME_BYTES);
  if (long.length === 0) return [];
  const cut = (name: string) => Buffer.from(name).subarray(0, MAX_NAME_BYTES).toString();
  const same = cred.method === 'alternating-roles' && new Set(loginsOf(cred).map(cut)).size === 1 ? ' (both logins would become the same role)' : '';
  const key = cred.method === 'alternating-roles' && cred.settings.logins !== undefined && Buffer.byteLength(cred.role) <= MAX_NAME_BYTES ? 'logins' : 'role';
  const advice = cred.method === 'alter-role' ? `choose a role of at most ${MAX_NAME_BYTES} bytes` : `choose a role of at most ${MAX_NAME_BYTES - 2} bytes (its logins add _a and _b), or logins of at most ${MAX_NAME_BYTES} bytes (logins: [a, b])`;
  return [`${where}.${key}: ${long.map((n) => `${JSON.stringify(n)} is ${Buffer.byteLength(n)} bytes`).join(', ')}; PostgreSQL cuts role names to ${MAX_NAME_BYTES} bytes, so it would be ${long.map((n) => JSON.stringify(cut(n))).join(', ')}${same}: ${advice}`];
}

/** The admin URL's TLS parameters, as connect would judge them (no file is read here). */
function tlsProblems(system: PostgresSystem, url: string): string[] {
  try {
    sslModeOf(splitTlsParams(url).ssl, urlLogin(url).host, system.ca !== undefined || system.caFrom !== undefined);
    return [];
  } catch (error) {
    return [`systems.${system.id}.admin_url: ${describeError(error)}`];
  }
}

/** A postgres system's CA: one source at most; ca_from and cluster each naming a digitalocean system, the same one. */
function caProblems(policy: Policy, system: PostgresSystem): string[] {
  const where = `systems.${system.id}`;
  if (system.ca !== undefined && system.caFrom !== undefined) return [`${where}: give ca or ca_from, not both`];
  const problems = [digitalOceanLink(policy, `${where}.ca_from`, system.caFrom), digitalOceanLink(policy, `${where}.cluster`, system.cluster)].filter((p) => p !== undefined);
  if (problems.length === 0 && system.caFrom !== undefined && system.cluster !== undefined && system.caFrom !== system.cluster) {
    problems.push(`${where}: cluster '${system.cluster}' and ca_from '${system.caFrom}' name different DigitalOcean systems (one server is one cluster)`);
  }
  return problems;
}

/** A key that must name a type: digitalocean system (unset is fine). */
function digitalOceanLink(policy: Policy, path: string, id: string | undefined): string | undefined {
  if (id === undefined || policy.systems[id]?.type === 'digitalocean') return undefined;
  const dos = Object.values(policy.systems).filter((s) => s.type === 'digitalocean').map((s) => s.id);
  return `${path}: expected the id of a type: digitalocean system${dos.length ? ` (${dos.join(', ')})` : ''}, got '${id}'`;
}

/** Two targets are the same place when they would overwrite each other. */
export function targetIdentity(t: TargetSpec): string {
  const o = t.options;
  if (t.kind === 'github') {
    const scope = o.organization ? `org:${String(o.organization).toLowerCase()}` : `repo:${String(o.repository).toLowerCase()}`;
    return `github|${scope}|${String(o.environment ?? '')}|${String(o.secret).toUpperCase()}`;
  }
  if (t.kind === 'file') return `file|${String(o.path)}|${String(o.key)}`;
  return `${t.kind}|${JSON.stringify(o)}`;
}

/** Turns ajv's errors into "key path: expected …" lines a person can act on. */
function describeSchemaErrors(errors: ErrorObject[], quoteValues = true): string[] {
  const lines = new Set<string>();
  // oneOf/anyOf/if report their branches' errors too; keep the most specific ones.
  const specific = errors.filter((e) => !['oneOf', 'anyOf', 'if', 'not'].includes(e.keyword));
  for (const e of specific.length > 0 ? specific : errors) {
    const path = keyPath(e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')));
    const expected = (e.parentSchema as { 'x-expected'?: string } | undefined)?.['x-expected'];
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        lines.add(`${path === '(top level)' ? key : `${path}.${key}`}: unknown key${expected ? ` (expected ${expected})` : ''}`);
        break;
      }
      case 'required':
        lines.add(`${path}: missing required key '${(e.params as { missingProperty: string }).missingProperty}'`);
        break;
      case 'propertyNames':
        break; // reported by the nested pattern error
      default:
        lines.add(`${path}: expected ${expected ?? describeKeyword(e)}${quoteValues ? `, got ${describeGot(e.data)}` : ' (after interpolation)'}`);
    }
  }
  return [...lines];
}

function describeKeyword(e: ErrorObject): string {
  const s = e.schema as unknown;
  switch (e.keyword) {
    case 'type':
      return `a ${String(s)}`;
    case 'enum':
      return (s as unknown[]).join(' | ');
    case 'const':
      return JSON.stringify(s);
    case 'minItems':
      return `at least ${String(s)} item(s)`;
    case 'minProperties':
      return `at least ${String(s)} entr${s === 1 ? 'y' : 'ies'}`;
    case 'maxProperties':
      return `at most ${String(s)} entr${s === 1 ? 'y' : 'ies'}`;
    default:
      return e.message ?? e.keyword;
  }
}

/** Quotes what was found, unless it could be a credential written into the file by mistake. */
function describeGot(data: unknown): string {
  if (typeof data !== 'string') return Array.isArray(data) ? 'a list' : data && typeof data === 'object' ? 'a mapping' : JSON.stringify(data);
  if (data.length > 60 || data.includes('://') || data.includes('@')) return 'a value not shown here';
  return JSON.stringify(data);
}
