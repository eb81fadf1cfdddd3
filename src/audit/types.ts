/**
 * The audit's vocabulary. A check is one rule applied to one subject (a role, a schema, the
 * policy); its findings are the evidence (the offending grant, table or session) and its fixes
 * are what to run or change, as SQL or as a policy edit. Nothing here ever holds a secret.
 */
export type Verdict = 'pass' | 'fail';
export type Severity = 'error' | 'warning';

export const RULES = {
  'readonly-is-readonly': 'Read-only means read-only (databases-and-roles 4.3)',
  'app-role-not-admin': 'The application role is not an admin (2.1, 9)',
  'break-glass-unused': 'The break-glass admin is not used by applications (7)',
  'rls-where-exposed': 'Row-Level Security where the public API reaches (2.2)',
  'policy-boundaries': 'Boundaries in the policy itself (4.2, 4.3, 5)',
  connect: 'The admin connection reads the catalogs',
} as const;
export type RuleId = keyof typeof RULES;

export interface Finding {
  /** What is wrong, for a person: "superset_ro holds INSERT on public.orders (granted to writer)". */
  what: string;
  severity: Severity;
  /** How to fix it: SQL to run (ending in ';') or a policy change; the first is the one to try. */
  fixes: string[];
  /** The facts behind it (object, privilege, grant path, session), for the JSON record. */
  facts?: Record<string, string | number | boolean | null>;
  /** Rules 1 and 2: the way the power comes through, for `provision` to act on the same finding. */
  path?: PowerPath;
  /** Rules 1 and 2: what it is on ("table public.orders", "role writer", "function public.f()"). */
  object?: string;
  /** The role whose rights the first fix needs, when a plain admin cannot run it (the grantor, the owner). */
  runAs?: string;
  /** The database the fix runs in, when it is not the one the admin URL names. */
  database?: string;
}

/**
 * How a role comes to write (rule 1) or act as an admin (rule 2). A path through a membership
 * keeps the kind of the power it brings (its first fix then cuts the membership).
 */
export const POWER_PATHS = {
  'table-privilege': 'a write privilege on a table, view or sequence',
  'column-privilege': 'a column-level write privilege',
  'schema-privilege': 'CREATE on a schema',
  'database-privilege': 'CREATE on a database',
  'large-object-privilege': 'UPDATE on a large object',
  'grant-option': 'a privilege held WITH GRANT OPTION (the holder may grant it to others)',
  'foreign-data-privilege': 'USAGE on a foreign server or foreign-data wrapper (CREATE USER MAPPING, CREATE SERVER)',
  'parameter-privilege': 'ALTER SYSTEM on a parameter, or SET on lo_compat_privileges',
  ownership: 'owns an object',
  'predefined-role': 'a predefined role (pg_write_all_data, server files or programs, …)',
  'default-privileges': 'ALTER DEFAULT PRIVILEGES grants a write on objects created later',
  'security-definer': "a SECURITY DEFINER function that runs with a writer's or admin's rights",
  'role-attribute': 'a role attribute (SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS)',
  'server-setting': 'a server setting that lifts privilege checks',
  'missing-role': 'the role does not exist',
  undecided: 'could not tell from the catalogs (fail-safe)',
} as const;
export type PowerPath = keyof typeof POWER_PATHS;

export interface AuditCheck {
  rule: RuleId;
  title: string;
  /** What the rule was applied to: a role, a schema list, a credential. */
  subject: string;
  verdict: Verdict;
  /** The worst finding's severity; absent on a pass. */
  severity?: Severity;
  /** One line: what was looked at, and the result. */
  detail: string;
  findings: Finding[];
}

export interface SystemAudit {
  system: string;
  type: string;
  /** host:port/database of the admin connection, for postgres systems. */
  target?: string;
  checks: AuditCheck[];
}

export interface AuditReport {
  policy: string;
  started_at: string;
  finished_at: string;
  systems: SystemAudit[];
}

/** A check from its findings: it passes when there are none. */
export function check(rule: RuleId, subject: string, findings: Finding[], detail: string): AuditCheck {
  const severity = findings.some((f) => f.severity === 'error') ? 'error' : findings.length > 0 ? 'warning' : undefined;
  return { rule, title: RULES[rule], subject, verdict: findings.length === 0 ? 'pass' : 'fail', severity, detail, findings };
}

/** Whether a report fails at the given threshold: `warning` fails on any failed check. */
export function failsAt(report: AuditReport, threshold: Severity): boolean {
  return report.systems.some((s) => s.checks.some((c) => c.verdict === 'fail' && (threshold === 'warning' || c.severity === 'error')));
}
