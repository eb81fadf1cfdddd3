import type pg from 'pg';
import type { CredentialPolicy, Policy, PostgresSystem, SystemPolicy } from '../policy/types.js';
import { connect, connectionConfig, describeTarget } from '../postgres/connect.js';
import { systemCa } from '../adapters/system-ca.js';
import type { Runtime } from '../runtime/runtime.js';
import { urlLogin } from '../postgres/url.js';
import { describeError } from '../errors/errors.js';
import { check, type AuditCheck, type AuditReport, type Finding, type SystemAudit } from './types.js';
import { readonlyCheck } from './rules/readonly.js';
import { notAdminCheck } from './rules/not-admin.js';
import { breakGlassPolicyFindings, breakGlassSessionFindings } from './rules/break-glass.js';
import { rlsCheck } from './rules/rls.js';
import { policyBoundaryFindings } from './rules/policy-boundaries.js';
import { credentialsOf } from './roles.js';
import { RotationError } from '../errors/errors.js';

export interface AuditCollaborators {
  /** The clock, and what reads a `ca_from:` cluster's CA from DigitalOcean. */
  runtime: Runtime;
  /** Opens the admin connection of a postgres system (default: its admin_url, as the tool connects), to `database` when given. */
  connect?: (system: PostgresSystem, database?: string) => Promise<pg.Client>;
}

/**
 * Checks the policy's access rules against the live catalogs, one system at a time; changes
 * nothing. Each postgres system is read through its own admin connection; the rules of a
 * credential on a provider system (doadmin on DigitalOcean) that need SQL run on every postgres
 * system of the policy, where its sessions would show.
 */
export async function runAudit(policy: Policy, only: string | undefined, io: AuditCollaborators): Promise<AuditReport> {
  const startedAt = io.runtime.now();
  const open =
    io.connect ??
    ((system: PostgresSystem, database?: string) =>
      connect(
        {
          ...connectionConfig(system.adminUrl, undefined, systemCa({ policy, system, runtime: io.runtime })),
          ...(database ? { database } : {}),
        },
        `systems.${system.id}.admin_url (${describeTarget(system.adminUrl)})${database ? ` to database ${database}` : ''}`,
      ));
  if (only && !policy.systems[only])
    throw new RotationError(`unknown system '${only}' (${policy.file} defines: ${Object.keys(policy.systems).join(', ')})`, {
      code: 'USAGE',
    });
  const systems: SystemAudit[] = [];
  // Sessions are the cluster's: each cluster's are read once, through its first system.
  const clusters = new Set<string>();
  for (const system of Object.values(policy.systems)) {
    if (only && system.id !== only) continue;
    if (system.type !== 'postgres') {
      systems.push(auditProvider(policy, system));
      continue;
    }
    const pgSystem = system as PostgresSystem;
    const { host, port } = urlLogin(pgSystem.adminUrl.reveal());
    const cluster = `${host}:${port}`;
    systems.push(await auditPostgres(policy, pgSystem, open, !clusters.has(cluster)));
    clusters.add(cluster);
  }
  return { policy: policy.file, started_at: startedAt.toISOString(), finished_at: io.runtime.now().toISOString(), systems };
}

async function auditPostgres(
  policy: Policy,
  system: PostgresSystem,
  open: (s: PostgresSystem, database?: string) => Promise<pg.Client>,
  readSessions: boolean,
): Promise<SystemAudit> {
  const audit: SystemAudit = { system: system.id, type: system.type, target: describeTarget(system.adminUrl), checks: [] };
  const credentials = credentialsOf(policy, system.id);
  let db: pg.Client;
  try {
    db = await open(system);
  } catch (error) {
    audit.checks.push(connectFailure(system, error));
    audit.checks.push(...credentials.map((c) => policyCheck(policy, c)));
    return audit;
  }
  try {
    const admin = String(connectionConfig(system.adminUrl).user ?? 'the admin');
    // Break-glass credentials of any system: their sessions show on every postgres system of the
    // cluster. Read first, while the audit has no connection but this one: the admin may be the
    // break-glass role itself (doadmin), and a connection just closed can linger in pg_stat_activity.
    const breakGlass: AuditCheck[] = [];
    for (const credential of Object.values(policy.credentials).filter((c) => c.breakGlass && (readSessions || c.system === system.id))) {
      const sessions = readSessions ? await breakGlassSessionFindings(db, credential, admin) : [];
      const own = credential.system === system.id ? breakGlassPolicyFindings(policy, credential) : [];
      breakGlass.push(
        check(
          'break-glass-unused',
          credential.id,
          [...own, ...sessions],
          sessions.length === 0
            ? `no session of ${credential.role} but the audit's own and a rotation lock's, seen from ${system.id}`
            : `${sessions.length} session(s) of ${credential.role} open`,
        ),
      );
    }
    // Privileges are per database: rules 1 and 2 read every other database the role may connect to as well.
    const database = (name: string) => open(system, name);
    for (const credential of credentials) {
      if (credential.access === 'readonly')
        audit.checks.push(await readonlyCheck(db, credential, { writer: writerOf(policy, credential), database }));
      if (credential.access === 'readwrite') audit.checks.push(await notAdminCheck(db, credential, { database }));
    }
    audit.checks.push(...breakGlass);
    if (system.exposedSchemas.length > 0) audit.checks.push(await rlsCheck(db, system.exposedSchemas));
  } catch (error) {
    audit.checks.push(connectFailure(system, error));
  } finally {
    await db.end().catch(() => undefined);
  }
  audit.checks.push(...credentials.map((c) => policyCheck(policy, c)));
  return audit;
}

/** The role a read-only credential's objects go to when the audit's fix moves them: its system's read-write role. */
function writerOf(policy: Policy, credential: CredentialPolicy): string | undefined {
  return credentialsOf(policy, credential.system).find((c) => c.access === 'readwrite')?.role;
}

/** A provider system (DigitalOcean, Supabase) has no catalogs of its own here: only the policy's rules. */
function auditProvider(policy: Policy, system: SystemPolicy): SystemAudit {
  const audit: SystemAudit = { system: system.id, type: system.type, checks: [] };
  for (const credential of credentialsOf(policy, system.id)) {
    if (credential.breakGlass) {
      const findings = breakGlassPolicyFindings(policy, credential);
      const seenFrom = Object.values(policy.systems)
        .filter((s) => s.type === 'postgres')
        .map((s) => s.id);
      audit.checks.push(
        check(
          'break-glass-unused',
          credential.id,
          findings,
          `no consumer and no other credential uses ${credential.role}${seenFrom.length ? `; sessions are checked from ${seenFrom.join(', ')}` : '; no postgres system to check its sessions from'}`,
        ),
      );
    }
    audit.checks.push(policyCheck(policy, credential));
  }
  return audit;
}

function policyCheck(policy: Policy, credential: CredentialPolicy): AuditCheck {
  const findings: Finding[] = policyBoundaryFindings(policy, credential);
  return check(
    'policy-boundaries',
    credential.id,
    findings,
    findings.length === 0
      ? `${credential.consumers.length} consumer(s), store targets of its own`
      : `${findings.length} boundary problem(s)`,
  );
}

function connectFailure(system: PostgresSystem, error: unknown): AuditCheck {
  return check(
    'connect',
    system.id,
    [
      {
        what: describeError(error),
        severity: 'error',
        fixes: [`check systems.${system.id}.admin_url and that the admin may CONNECT (docs/audit.md)`],
      },
    ],
    'the catalogs could not be read',
  );
}
