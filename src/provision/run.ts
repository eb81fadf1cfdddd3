import type pg from 'pg';
import type { Policy, PostgresSystem } from '../policy/types.js';
import { RotationError } from '../errors/errors.js';
import { connect, connectionConfig, describeTarget, pgError } from '../postgres/connect.js';
import { systemCa } from '../adapters/system-ca.js';
import type { Runtime } from '../runtime/runtime.js';
import { planProvision, type ProvisionOptions, type ProvisionPlan, type Statement } from './plan.js';

/** The SQL of one statement: run as another role, it is wrapped in SET ROLE … RESET ROLE. */
function sqlOf(statement: Statement, db: pg.Client): string[] {
  return statement.as ? [`SET ROLE ${db.escapeIdentifier(statement.as)}`, statement.sql, 'RESET ROLE'] : [statement.sql];
}

/** The plan as a SQL script a person can read, review and run: one transaction per database. */
export function renderPlan(plan: ProvisionPlan, target: string, db: pg.Client): string {
  const head = `-- credential-rotation provision ${plan.credential} (${plan.access}) on ${target}, as ${plan.admin}`;
  const left = unresolvedOf(plan).map((n) => `-- not done: ${n}`);
  const notes = plan.notes.map((n) => `-- note: ${n}`);
  if (!hasStatements(plan)) {
    const status =
      left.length === 0
        ? `-- nothing to do: ${plan.credential} is provisioned as the policy says`
        : `-- nothing provision can do with this admin connection; ${left.length} thing(s) left:`;
    return [head, status, ...left, ...notes].join('\n');
  }
  const transaction = (statements: Statement[]) => [
    'BEGIN;',
    ...statements.flatMap((s) => [`-- ${s.why}`, ...sqlOf(s, db).map((sql) => `${sql};`)]),
    'COMMIT;',
  ];
  const main = plan.statements.length > 0 ? transaction(plan.statements) : [];
  const others = plan.elsewhere
    .filter((d) => d.statements.length > 0)
    .flatMap((d) => [
      `-- in database ${d.database}, in a transaction of its own:`,
      `\\connect ${db.escapeIdentifier(d.database)}`,
      ...transaction(d.statements),
    ]);
  return [head, ...main, ...others, ...left, ...notes].join('\n');
}

/** Everything left undone, the other databases' included. */
function unresolvedOf(plan: ProvisionPlan): string[] {
  return [...plan.unresolved, ...plan.elsewhere.flatMap((d) => d.unresolved)];
}

/** How many statements the plan runs, in every database. */
export function statementCount(plan: ProvisionPlan): number {
  return plan.statements.length + plan.elsewhere.reduce((n, d) => n + d.statements.length, 0);
}

function hasStatements(plan: ProvisionPlan): boolean {
  return statementCount(plan) > 0;
}

export interface ProvisionResult {
  plan: ProvisionPlan;
  script: string;
  applied: boolean;
  /** The audit passes the credential and a rerun would plan nothing. */
  converged: boolean;
  /** What is left when not converged: unresolved items, or statements a rerun would still plan. */
  remaining: string[];
}

/**
 * Plans the credential's roles with the system's admin connection and, with `apply`, runs the plan
 * in one transaction (all of it or nothing; a WARNING such as "no privileges were granted" rolls
 * it back). The plan is returned (and shown by the CLI) first. After applying, the catalogs are
 * read again: what a rerun would still do, or the audit still finds, is `remaining`.
 */
export async function provisionCredential(
  policy: Policy,
  id: string,
  options: ProvisionOptions & { apply: boolean; runtime: Runtime; show?: (script: string) => void },
): Promise<ProvisionResult> {
  const credential = policy.credentials[id];
  if (!credential)
    throw new RotationError(`unknown credential '${id}'`, {
      hint: `${policy.file} defines: ${Object.keys(policy.credentials).join(', ')}`,
      code: 'USAGE',
    });
  const system = policy.systems[credential.system];
  if (system?.type !== 'postgres')
    throw new RotationError(
      `credentials.${id}.system: provision needs a postgres system, '${credential.system}' is ${system?.type ?? 'unknown'}`,
      { code: 'USAGE' },
    );
  const url = (system as PostgresSystem).adminUrl;
  const config = connectionConfig(url, undefined, systemCa({ policy, system, runtime: options.runtime }));
  const db = await connect(config, `admin connection of system '${system.id}' (${describeTarget(url)})`);
  options = {
    database: (name) => connect({ ...config, database: name }, `admin connection of system '${system.id}' to database ${name}`),
    ...options,
  };
  try {
    const plan = await planProvision(db, policy, credential, options);
    const script = renderPlan(plan, describeTarget(url), db);
    options.show?.(script);
    if (!options.apply || !hasStatements(plan))
      return {
        plan,
        script,
        applied: false,
        converged: !hasStatements(plan) && unresolvedOf(plan).length === 0,
        remaining: unresolvedOf(plan),
      };
    if (plan.statements.length > 0) await runInTransaction(db, plan);
    for (const other of plan.elsewhere.filter((d) => d.statements.length > 0)) {
      const client = await options.database!(other.database);
      try {
        await runInTransaction(client, {
          ...plan,
          statements: other.statements,
          credential: `${plan.credential} (in database ${other.database})`,
        });
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    const after = await planProvision(db, policy, credential, options);
    const still = [...after.statements, ...after.elsewhere.flatMap((d) => d.statements)];
    const remaining = [...unresolvedOf(after), ...still.map((s) => `a rerun would still run: ${s.sql}; (${s.why})`)];
    return { plan, script, applied: true, converged: remaining.length === 0, remaining };
  } finally {
    await db.end().catch(() => undefined);
  }
}

/**
 * Runs the plan in one transaction. PostgreSQL answers some statements it ignores with a WARNING
 * (a GRANT by a role without GRANT OPTION: "no privileges were granted"): that is a failure, and
 * nothing is committed.
 */
export async function runInTransaction(db: pg.Client, plan: ProvisionPlan): Promise<void> {
  const warnings: string[] = [];
  const listen = (notice: { severity?: string; message?: string }) => {
    if (notice.severity === 'WARNING') warnings.push(notice.message ?? 'warning');
  };
  db.on('notice', listen);
  try {
    await db.query('BEGIN');
    for (const statement of plan.statements) {
      for (const sql of sqlOf(statement, db)) {
        try {
          await db.query(sql);
        } catch (error) {
          await db.query('ROLLBACK').catch(() => undefined);
          throw pgError(
            `provision ${plan.credential}: ${sql.split('\n')[0]} (nothing was changed, the transaction was rolled back)`,
            error,
          );
        }
        if (warnings.length > 0) {
          await db.query('ROLLBACK').catch(() => undefined);
          throw new RotationError(
            `provision ${plan.credential}: PostgreSQL did not do ${sql.split('\n')[0]}: WARNING: ${warnings.join('; ')} (nothing was changed, the transaction was rolled back)`,
            {
              hint: `the admin connection (${plan.admin}) lacks the right: run that statement as the object's owner or a superuser, or provision with such an admin_url`,
            },
          );
        }
      }
    }
    await db.query('COMMIT');
  } finally {
    db.off('notice', listen);
  }
}
