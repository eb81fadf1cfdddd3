import type pg from 'pg';
import type { Policy, PostgresSystem } from '../policy/types.js';
import { RotationError } from '../errors/errors.js';
import { connect, connectionConfig, describeTarget, pgError } from '../postgres/connect.js';
import { systemCa } from '../adapters/system-ca.js';
import type { Runtime } from '../runtime/runtime.js';
import { planProvision, type ProvisionOptions, type ProvisionPlan } from './plan.js';

/** The plan as a SQL script a person can read, review and run: one transaction. */
export function renderPlan(plan: ProvisionPlan, target: string): string {
  const head = `-- credential-rotation provision ${plan.credential} (${plan.access}) on ${target}, as ${plan.admin}`;
  const notes = plan.notes.map((n) => `-- note: ${n}`);
  if (plan.statements.length === 0) return [head, `-- nothing to do: ${plan.credential} is provisioned as the policy says`, ...notes].join('\n');
  const body = plan.statements.flatMap((s) => [`-- ${s.why}`, `${s.sql};`]);
  return [head, 'BEGIN;', ...body, 'COMMIT;', ...notes].join('\n');
}

export interface ProvisionResult {
  plan: ProvisionPlan;
  script: string;
  applied: boolean;
}

/**
 * Plans the credential's roles with the system's admin connection and, with `apply`, runs the plan
 * in one transaction (all of it or nothing). The plan is returned (and shown by the CLI) first.
 */
export async function provisionCredential(policy: Policy, id: string, options: ProvisionOptions & { apply: boolean; runtime: Runtime; show?: (script: string) => void }): Promise<ProvisionResult> {
  const credential = policy.credentials[id];
  if (!credential) throw new RotationError(`unknown credential '${id}'`, { hint: `${policy.file} defines: ${Object.keys(policy.credentials).join(', ')}` });
  const system = policy.systems[credential.system];
  if (system?.type !== 'postgres') throw new RotationError(`credentials.${id}.system: provision needs a postgres system, '${credential.system}' is ${system?.type ?? 'unknown'}`);
  const url = (system as PostgresSystem).adminUrl;
  const db = await connect(connectionConfig(url, undefined, systemCa({ policy, system, runtime: options.runtime })), `admin connection of system '${system.id}' (${describeTarget(url)})`);
  try {
    const plan = await planProvision(db, policy, credential, options);
    const script = renderPlan(plan, describeTarget(url));
    options.show?.(script);
    if (!options.apply || plan.statements.length === 0) return { plan, script, applied: false };
    await runInTransaction(db, plan);
    return { plan, script, applied: true };
  } finally {
    await db.end().catch(() => undefined);
  }
}

async function runInTransaction(db: pg.Client, plan: ProvisionPlan): Promise<void> {
  await db.query('BEGIN');
  for (const statement of plan.statements) {
    try {
      await db.query(statement.sql);
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw pgError(`provision ${plan.credential}: ${statement.sql.split('\n')[0]} (nothing was changed, the transaction was rolled back)`, error);
    }
  }
  await db.query('COMMIT');
}
