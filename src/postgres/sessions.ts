import type pg from 'pg';

/** What an exposure cut-off did: one line per session, for the incident record. No secrets. */
export interface CutOff {
  /** Sessions opened before the change and ended. */
  cut: string[];
  /** Sessions that may have been opened with the old credential and are still open, with why. */
  survived: string[];
  /** The GRANTs (run as a superuser) that would let this connection end them. */
  grants: string[];
}

interface Candidate {
  pid: number;
  app: string | null;
  client: string | null;
  started: Date | null;
}

/**
 * Ends the sessions of `role` opened before `before` (the moment the new credential went live, by
 * the server's clock), other than the caller's own and those in `spare` (the rotation lock's).
 * It never stops at what it may not do, because the password has already changed by then
 * (invariant 6: an exposure rotation is not blocked by what only the cut-off needs):
 * - PG16 pg_terminate_backend needs the privileges of the session's role or pg_signal_backend,
 *   else 42501 for that session: it is listed as surviving, with the GRANT.
 * - Seeing backend_start (and application, client) of another role's session needs its
 *   privileges or pg_read_all_stats, else NULL: such a session may be an attacker's or a consumer
 *   that already runs on the new value, so it is not ended but listed, with the GRANT.
 * Each session is ended by its own statement, so one refusal does not hide the others.
 */
export async function cutOffSessionsBefore(db: pg.Client, role: string, before: Date, spare: number[] = []): Promise<CutOff> {
  const { rows } = await db.query<Candidate>(
    `SELECT pid, application_name AS app, host(client_addr) AS client, backend_start AS started FROM pg_stat_activity
      WHERE usename = $1 AND (backend_start < $2 OR backend_start IS NULL) AND pid <> pg_backend_pid() AND NOT pid = ANY($3::int[])
      ORDER BY pid`,
    [role, before, spare],
  );
  const may = await cutOffPrivileges(db, role);
  const me = may.user;
  const result: CutOff = { cut: [], survived: [], grants: [] };
  const grant = (what: string) => {
    const sql = `GRANT ${what} TO ${/^[a-z_][a-z0-9_]*$/.test(me) ? me : db.escapeIdentifier(me)}`;
    if (!result.grants.includes(sql)) result.grants.push(sql);
  };
  for (const session of rows) {
    if (!session.started) {
      result.survived.push(
        `${role} session pid ${session.pid} (start, application and client not visible to ${me}: it may predate the change)`,
      );
      grant('pg_read_all_stats');
      if (!may.signal) grant('pg_signal_backend');
      continue;
    }
    try {
      // false: the session ended on its own meanwhile.
      const {
        rows: [ended],
      } = await db.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [session.pid]);
      if (ended.ok) result.cut.push(describeSession(role, session));
    } catch (error) {
      if ((error as { code?: string }).code !== '42501') throw error;
      result.survived.push(`${describeSession(role, session)}: ${me} may not end it`);
      grant('pg_signal_backend');
    }
  }
  return result;
}

function describeSession(role: string, s: Candidate): string {
  return `${role} session pid ${s.pid} (application '${s.app ?? ''}', client ${s.client ?? 'local socket'}, opened ${s.started!.toISOString()})`;
}

/**
 * Whether this connection may end (`signal`) and see the start of (`see`) sessions of `role`.
 * PG16: pg_terminate_backend needs the privileges of the backend's role or of pg_signal_backend,
 * backend_start those of the role or of pg_read_all_stats. 'USAGE' = privileges: a grant WITH
 * INHERIT FALSE (the rotation set-up) gives membership, not privileges.
 */
export async function cutOffPrivileges(
  db: pg.Client,
  role: string,
): Promise<{ user: string; signal: boolean; see: boolean; missing: string[] }> {
  const { rows } = await db.query<{ user: string; signal: boolean; see: boolean }>(
    `SELECT current_user AS user,
            r.rolsuper OR pg_has_role(current_user, $1, 'USAGE') OR pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS signal,
            r.rolsuper OR pg_has_role(current_user, $1, 'USAGE') OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS see
       FROM pg_roles r WHERE r.rolname = current_user`,
    [role],
  );
  const may = rows[0];
  return { ...may, missing: [...(may.signal ? [] : ['pg_signal_backend']), ...(may.see ? [] : ['pg_read_all_stats'])] };
}

/** Several cut-offs (alternating-roles: both logins) as one. */
export function mergeCutOffs(...cutOffs: CutOff[]): CutOff {
  return {
    cut: cutOffs.flatMap((c) => c.cut),
    survived: cutOffs.flatMap((c) => c.survived),
    grants: [...new Set(cutOffs.flatMap((c) => c.grants))],
  };
}

/** Exposure: the password changes whatever the admin may do to sessions (invariant 6); this says up front what the cut-off will lack. */
export async function exposureNote(db: pg.Client, role: string): Promise<string> {
  const may = await cutOffPrivileges(db, role);
  if (may.missing.length === 0) return `exposure: sessions of ${role} opened before the change will be terminated`;
  const admin = /^[a-z_][a-z0-9_]*$/.test(may.user) ? may.user : db.escapeIdentifier(may.user);
  return `exposure: the admin lacks ${may.missing.join(' and ')}, so sessions of ${role} opened before the change may survive it; the password changes first, and any survivor fails the run (GRANT ${may.missing.join(', ')} TO ${admin})`;
}
