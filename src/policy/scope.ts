import { interpolate } from './interpolate.js';

/**
 * The credentials and systems a command touches (`provision odoo_app`, `verify odoo_app`, `audit
 * odoo-sor`): only their `${NAME}`s must be set. Elsewhere a variable that is not set is left as
 * written, as plan and status leave every one: a DBA provisioning odoo_app does not need
 * SUPERSET_RO_PASSWORD. Without a scope (rotate, the action) every variable must be set.
 */
export interface PolicyScope {
  /** Credential ids; each one's system is touched too. */
  credentials?: string[];
  /** System ids; each one's credentials are touched too (the audit checks them). */
  systems?: string[];
}

/** Keys by which a system names another whose settings it uses (the CA, the cluster's API token). */
const LINK_KEYS = ['ca_from', 'cluster'];

interface RawSections {
  systems: Record<string, Record<string, unknown>>;
  credentials: Record<string, Record<string, unknown>>;
}

/** The ids a scope reaches in the raw policy: its credentials and systems, and the systems they link. */
export function touched(raw: RawSections, scope: PolicyScope): { credentials: Set<string>; systems: Set<string> } {
  const given = new Set(scope.systems ?? []);
  const credentials = new Set(scope.credentials ?? []);
  for (const [id, c] of Object.entries(raw.credentials)) if (given.has(String(c.system))) credentials.add(id);
  const systems = new Set(given);
  for (const id of credentials) if (Object.hasOwn(raw.credentials, id)) systems.add(String(raw.credentials[id].system));
  for (const id of systems) {
    // A Set visits what is added while iterating: links of links are followed too.
    const system = Object.hasOwn(raw.systems, id) ? raw.systems[id] : {};
    for (const key of LINK_KEYS) if (typeof system[key] === 'string') systems.add(system[key]);
  }
  return { credentials, systems };
}

/**
 * interpolate() over the raw policy, strict (a missing variable goes to `problems`) at the top
 * level and inside the scope, lenient (left as `${NAME}`) in the other systems and credentials.
 */
export function interpolateScoped<T extends RawSections>(
  raw: T,
  env: NodeJS.ProcessEnv,
  scope: PolicyScope | undefined,
  problems: string[],
  used: Map<string, string[]>,
): T {
  if (!scope) return interpolate(raw, env, [], problems, used) as T;
  const reach = touched(raw, scope);
  const section = (name: keyof RawSections, ids: Set<string>) =>
    Object.fromEntries(
      Object.entries(raw[name]).map(([id, value]) => [id, interpolate(value, env, [name, id], ids.has(id) ? problems : undefined, used)]),
    );
  const top = Object.fromEntries(Object.entries(raw).filter(([key]) => key !== 'systems' && key !== 'credentials'));
  return {
    ...(interpolate(top, env, [], problems, used) as object),
    systems: section('systems', reach.systems),
    credentials: section('credentials', reach.credentials),
  } as unknown as T;
}
