import type { CredentialPolicy, Policy, PostgresSystem, TargetSpec } from './types.js';
import { loginsOf } from './logins.js';
import { splitTlsParams, urlLogin, urlProblem } from '../postgres/url.js';
import { sslModeOf } from '../postgres/tls.js';
import { describeError } from '../errors/errors.js';

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

/** What a schema cannot say: references between sections and duplicates. */
export function crossCheck(policy: Policy, rules: AdapterRules): string[] {
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
