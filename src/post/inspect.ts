import type pg from 'pg';
import type { Policy, PostgresSystem } from '../policy/types.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Secret } from '../secret/secret.js';
import { loadAdapters } from '../registry/load-adapters.js';
import { describeError } from '../errors/errors.js';
import { APPLICATION_NAME, connect, connectionConfig, describeTarget, tryLogin, type LoginResult } from '../postgres/connect.js';
import { loginsOf } from '../policy/logins.js';
import { systemCa } from '../adapters/system-ca.js';

/** What the post step found after a main step that did not finish. Never holds a secret. */
export interface Inspection {
  /** One line per fact checked, for the log and the job summary. */
  findings: string[];
  /** True when every checked place agrees and the live value is the stored one. */
  consistent: boolean;
  /** Store targets that cannot be read back (GitHub secrets are write-only). */
  unverified: number;
}

/** How long the post step waits for Postgres to notice that the main step's connection is gone. */
const SESSION_GONE_WAIT_MS = 5_000;

/**
 * Looks at a credential whose rotation was cut off. For alter-role and alternating-roles: whether the main step's
 * admin session (and so an uncommitted ALTER ROLE) still exists, whether `current` logs in, and
 * whether each readable store target (a plain file value) logs in. Changes nothing.
 */
export async function inspectCredential(policy: Policy, credentialId: string, runtime: Runtime): Promise<Inspection> {
  const credential = policy.credentials[credentialId];
  if (credential.current) runtime.reporter.mask(credential.current);
  const system = policy.systems[credential.system];
  if (!['alter-role', 'alternating-roles'].includes(credential.method) || system.type !== 'postgres') {
    return {
      consistent: false,
      unverified: credential.store.length,
      findings: [`${credential.method}: the provider may already hold a new value that some stores lack; the post step cannot check it`],
    };
  }
  const adminUrl = (system as PostgresSystem).adminUrl;
  const role = credential.role;
  const findings: string[] = [];
  let consistent = true;
  let unverified = 0;
  const ca = systemCa({ policy, system, runtime });
  // alternating-roles: a value is live when it logs in as either login.
  const users = credential.method === 'alternating-roles' ? loginsOf(credential) : [role];
  const login = async (password: Secret): Promise<LoginResult> => {
    let last: LoginResult = { ok: false, rejected: true, message: 'not tried' };
    for (const user of users) {
      last = await tryLogin(connectionConfig(adminUrl, { user, password }, ca));
      if (last.ok) return last;
    }
    return last;
  };

  let db: pg.Client | undefined;
  try {
    db = await connect(
      connectionConfig(adminUrl, undefined, ca),
      `admin connection of system '${system.id}' (${describeTarget(adminUrl)})`,
    );
    const open = await waitForRotationSessions(db, runtime);
    if (open === 0) {
      findings.push(
        `no credential-rotation session is open on ${describeTarget(adminUrl)}: an uncommitted ALTER ROLE cannot exist (Postgres aborted it with the main step's connection)`,
      );
    } else {
      consistent = false;
      findings.push(
        `${open} credential-rotation session(s) still open on ${describeTarget(adminUrl)} (another run, or one Postgres has not yet closed)`,
      );
    }
  } catch (error) {
    consistent = false;
    findings.push(`could not inspect the admin connection: ${describeError(error)}`);
  } finally {
    await db?.end().catch(() => undefined);
  }

  if (credential.current) {
    const result = await login(credential.current);
    if (!result.ok) consistent = false;
    findings.push(
      result.ok
        ? `the current value of ${role} logs in`
        : `the current value of ${role} does not log in (${result.ok ? '' : (result.code ?? result.message)})`,
    );
  }

  const adapters = await loadAdapters(policy, credentialId, runtime);
  for (const [i, { store }] of adapters.stores.entries()) {
    const spec = credential.store[i];
    if (!store.read || spec.options.format !== undefined) {
      unverified++;
      findings.push(`${store.label}: cannot be read back (${store.read ? 'derived value' : 'write-only'}); a rerun rewrites it`);
      continue;
    }
    const value = await store.read().catch(() => undefined);
    if (!value) {
      consistent = false;
      findings.push(`${store.label}: holds no value`);
      continue;
    }
    runtime.reporter.mask(value);
    const result = await login(value);
    if (!result.ok) consistent = false;
    findings.push(
      `${store.label}: ${result.ok ? 'its value logs in' : `its value does not log in (${result.code ?? 'no login'}): the cancelled run wrote it before its change was aborted`}`,
    );
  }
  await adapters.method.close().catch(() => undefined);
  return { findings, consistent, unverified };
}

/** Open sessions of the tool other than ours; waits briefly for a dead process's session to end. */
async function waitForRotationSessions(db: pg.Client, runtime: Runtime): Promise<number> {
  const deadline = runtime.now().getTime() + SESSION_GONE_WAIT_MS;
  for (;;) {
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND usename = current_user AND pid <> pg_backend_pid()',
      [APPLICATION_NAME],
    );
    if (rows[0].n === 0 || runtime.now().getTime() >= deadline) return rows[0].n;
    await runtime.sleep(200);
  }
}

/** The commands that finish (or repair) the rotation; they carry no secret. */
export function repairCommands(credentialId: string): string[] {
  return [
    `rerun the workflow 'dispatch.yml' with credential=${credentialId} (GitHub: Actions → rotate a credential → Run workflow)`,
    `or locally, with the same environment variables: npx credential-rotation rotate ${credentialId}`,
  ];
}
