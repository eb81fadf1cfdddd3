import type pg from 'pg';
import type { Secret } from '../secret/secret.js';
import type { RevocationProof } from '../methods/method.js';
import { tryLogin } from './connect.js';

/**
 * Terminates the sessions of `role` that started before `before` (the moment the new credential
 * went live, by the server's clock), other than the caller's own. Returns one line per session
 * cut off, for the incident record. The candidates are MATERIALIZED first: in a plain WHERE the
 * planner may apply pg_terminate_backend(pid) to every backend before the filter on the role.
 */
export async function terminateSessionsBefore(db: pg.Client, role: string, before: Date): Promise<string[]> {
  const { rows } = await db.query<{ pid: number; app: string | null; client: string | null; started: Date }>(
    `WITH old AS MATERIALIZED (
       SELECT pid, application_name AS app, host(client_addr) AS client, backend_start AS started FROM pg_stat_activity
        WHERE usename = $1 AND backend_start < $2 AND pid <> pg_backend_pid())
     SELECT * FROM old WHERE pg_terminate_backend(pid)`,
    [role, before],
  );
  return rows.map((r) => `${role} session pid ${r.pid} (application '${r.app ?? ''}', client ${r.client ?? 'local socket'}, opened ${r.started.toISOString()})`);
}

/**
 * Step 7 of a Postgres password change: the new password replaced the old one, so revocation is
 * done; this proves it. On exposure the sessions opened before the change are cut off first
 * (`cutOff`, returning one line per session for the incident record). `event` names the change
 * in the detail ("change", "reset").
 */
export async function proveOldPasswordRefused(options: {
  user: string;
  old: Secret | undefined;
  loginAs: (password: Secret) => pg.ClientConfig;
  cutOff?: () => Promise<string[] | undefined>;
  event: string;
}): Promise<RevocationProof> {
  const { user, old, event } = options;
  const cutOff = options.cutOff ? await options.cutOff() : undefined;
  const cut = cutOff ? `; ${cutOff.length} session(s) opened before the ${event} terminated` : '';
  const extra = cutOff ? { cut_off: cutOff } : {};
  // Honest evidence: with no current value nothing was tried, so nothing was proven refused.
  if (!old) return { tried: false, rejected: false, detail: `not tried: no current value was given (${user} now accepts only the new password, but nothing proved the old one refused)${cut}`, ...extra };
  const login = await tryLogin(options.loginAs(old));
  if (login.ok) return { tried: true, rejected: false, detail: `the old password of ${user} still logs in`, ...extra };
  if (!login.rejected) return { tried: true, rejected: false, detail: `the old password could not be tried: ${login.message}`, ...extra };
  return { tried: true, rejected: true, detail: `old password refused with SQLSTATE ${login.code}${cut}`, ...extra };
}

/**
 * What the connection lacks to cut off the sessions of `role`: PG16's pg_terminate_backend needs
 * the privileges of the backend's role or of pg_signal_backend, and seeing when a session started
 * (backend_start) those of the role or of pg_read_all_stats. 'USAGE' = privileges: a grant with
 * INHERIT FALSE (the rotation set-up) gives membership, not privileges.
 */
export async function missingCutOffPrivileges(db: pg.Client, role: string): Promise<{ signal: boolean; see: boolean; missing: string[] }> {
  const [may] = (
    await db.query<{ signal: boolean; see: boolean }>(
      `SELECT r.rolsuper OR pg_has_role(current_user, $1, 'USAGE') OR pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS signal,
              r.rolsuper OR pg_has_role(current_user, $1, 'USAGE') OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS see
         FROM pg_roles r WHERE r.rolname = current_user`,
      [role],
    )
  ).rows;
  return { ...may, missing: [...(may.signal ? [] : ['pg_signal_backend']), ...(may.see ? [] : ['pg_read_all_stats'])] };
}
