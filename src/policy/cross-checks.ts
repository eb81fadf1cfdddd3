import type { CredentialPolicy, Policy, PostgresSystem, TargetSpec } from './types.js';
import { splitTlsParams, urlLogin, urlProblem } from '../postgres/url.js';
import { sslModeOf } from '../postgres/tls.js';
import { describeError } from '../errors/errors.js';

/**
 * What only the adapters know about a policy (the registry, src/registry/, supplies it; this folder
 * knows no adapter): what each method and store kind checks of its own part of a policy.
 */
export interface AdapterRules {
  /** The system types `method` works on; undefined: any, or a method the schema already refused. */
  methodSystems(method: string): readonly string[] | undefined;
  /** The secret types GitHub reports these methods' values under (the default of `exposure.secret_types`). */
  defaultSecretTypes(methods: Iterable<string>): string[];
  /** What the credential's method finds wrong in it (`where`: its key path). */
  credentialProblems(credential: CredentialPolicy, where: string): string[];
  /** Which place a store target writes: two targets with one identity would overwrite each other. */
  targetIdentity(target: TargetSpec): string;
}

/** What a schema cannot say: references between sections and duplicates. */
export function crossCheck(policy: Policy, rules: AdapterRules): string[] {
  const problems: string[] = [];
  for (const system of Object.values(policy.systems))
    if (system.type === 'postgres') problems.push(...caProblems(policy, system as PostgresSystem));
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
        problems.push(
          `${where}.method: '${cred.method}' needs a system of type ${wanted.join(' or ')}, but '${cred.system}' is ${system.type}`,
        );
      }
    }
    if (cred.settings.logins !== undefined && cred.method !== 'alternating-roles')
      problems.push(`${where}.logins: only method alternating-roles has logins (this credential's method is ${cred.method})`);
    problems.push(...rules.credentialProblems(cred, where));
    const seen = new Map<string, string>();
    for (const target of cred.store) {
      const key = rules.targetIdentity(target);
      const earlier = seen.get(key);
      if (earlier) problems.push(`${target.path}: duplicate store target (same as ${earlier})`);
      else seen.set(key, target.path);
    }
  }
  return problems;
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
  const problems = [
    digitalOceanLink(policy, `${where}.ca_from`, system.caFrom),
    digitalOceanLink(policy, `${where}.cluster`, system.cluster),
  ].filter((p) => p !== undefined);
  if (problems.length === 0 && system.caFrom !== undefined && system.cluster !== undefined && system.caFrom !== system.cluster) {
    problems.push(
      `${where}: cluster '${system.cluster}' and ca_from '${system.caFrom}' name different DigitalOcean systems (one server is one cluster)`,
    );
  }
  return problems;
}

/** A key that must name a type: digitalocean system (unset is fine). */
function digitalOceanLink(policy: Policy, path: string, id: string | undefined): string | undefined {
  if (id === undefined || policy.systems[id]?.type === 'digitalocean') return undefined;
  const dos = Object.values(policy.systems)
    .filter((s) => s.type === 'digitalocean')
    .map((s) => s.id);
  return `${path}: expected the id of a type: digitalocean system${dos.length ? ` (${dos.join(', ')})` : ''}, got '${id}'`;
}
