import type pg from 'pg';
import { holdsRotationLockSql } from '../postgres/lock.js';

/**
 * Reads of the live catalogs the audit's rules share. Read-only: every statement is a SELECT on
 * pg_catalog, which any role may read (session details of other roles need pg_read_all_stats).
 */

/** A role the subject can reach through memberships: 'act' = can SET ROLE to it, 'inherit' = has its privileges only. */
export interface ReachedRole {
  oid: number;
  name: string;
  mode: 'act' | 'inherit';
  /** The membership path from the subject, subject first. */
  path: string[];
  /** What each membership of the path passes on: 'inherit', 'set' or 'admin' (ADMIN OPTION). */
  edges: string[];
  /** Who granted the path's first membership (REVOKE … GRANTED BY needs it). */
  grantor: string | null;
}

/**
 * Every role whose privileges `role` holds, following PG16's membership flags: INHERIT passes
 * privileges on, SET lets the member become the group (and so gain its attributes and, through
 * the group's own INHERIT memberships, its privileges). ADMIN OPTION counts as SET whatever the
 * other flags say: the member may grant the group to itself WITH SET TRUE and then SET ROLE
 * (tried on PG16: GRANT writer TO ro WITH SET TRUE works for ro holding ADMIN OPTION, INHERIT
 * FALSE, SET FALSE), and a role whose privileges it has lends it its ADMIN OPTIONs as well. The
 * subject itself is first, mode 'act'. Empty when the role does not exist.
 */
export async function reachableRoles(db: pg.Client, role: string): Promise<ReachedRole[]> {
  const { rows } = await db.query<ReachedRole>(
    `WITH RECURSIVE reach(oid, mode, path, edges, grantor) AS (
       SELECT r.oid, 'act'::text, ARRAY[r.rolname::text], ARRAY[]::text[], NULL::oid FROM pg_roles r WHERE r.rolname = $1
       UNION ALL
       SELECT m.roleid,
              CASE WHEN m.admin_option OR (reach.mode = 'act' AND m.set_option) THEN 'act' ELSE 'inherit' END,
              reach.path || g.rolname::text,
              reach.edges || CASE WHEN m.admin_option THEN 'admin' WHEN reach.mode = 'act' AND m.set_option THEN 'set' ELSE 'inherit' END,
              COALESCE(reach.grantor, m.grantor)
         FROM reach
         JOIN pg_auth_members m ON m.member = reach.oid
         JOIN pg_roles g ON g.oid = m.roleid
        WHERE (m.inherit_option OR m.admin_option OR (reach.mode = 'act' AND m.set_option))
          AND NOT g.rolname::text = ANY(reach.path)
     )
     SELECT DISTINCT ON (reach.oid) reach.oid::int AS oid, r.rolname AS name, reach.mode, reach.path, reach.edges, pg_get_userbyid(reach.grantor) AS grantor
       FROM reach JOIN pg_roles r ON r.oid = reach.oid
      ORDER BY reach.oid, (reach.mode = 'act') DESC, array_length(reach.path, 1)`,
    [role],
  );
  return rows.sort((a, b) => a.path.length - b.path.length);
}

export interface RoleAttributes {
  name: string;
  superuser: boolean;
  createrole: boolean;
  createdb: boolean;
  replication: boolean;
  bypassrls: boolean;
  login: boolean;
}

export async function roleAttributes(db: pg.Client, oids: number[]): Promise<Map<number, RoleAttributes>> {
  const { rows } = await db.query(
    `SELECT oid::int AS oid, rolname AS name, rolsuper AS superuser, rolcreaterole AS createrole, rolcreatedb AS createdb,
            rolreplication AS replication, rolbypassrls AS bypassrls, rolcanlogin AS login
       FROM pg_roles WHERE oid = ANY($1::oid[])`,
    [oids],
  );
  return new Map(rows.map((r) => [r.oid as number, r as RoleAttributes]));
}

export interface Session {
  pid: number;
  user: string;
  database: string | null;
  application: string | null;
  client: string | null;
  started: string | null;
  /** The session holds the rotation lock of one of the roles asked about (src/postgres/lock.ts). */
  rotationLock: boolean;
}

/**
 * Client sessions of the given roles, on the whole cluster, other than this connection, each
 * marked when it holds the rotation lock of one of those roles: read from the locks themselves,
 * never from application_name (holdsRotationLockSql in src/postgres/lock.ts says how; it needs
 * no pg_read_all_stats, and docs/audit.md names its one gap).
 */
export async function sessionsOf(db: pg.Client, roles: string[]): Promise<{ sessions: Session[]; detailsVisible: boolean }> {
  const { rows } = await db.query(
    `WITH locked AS (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[]))
     SELECT a.pid, a.usename AS user, a.datname AS database, a.application_name AS application, host(a.client_addr) AS client,
            to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started,
            EXISTS (SELECT 1 FROM locked r WHERE ${holdsRotationLockSql('a.pid', 'r.oid')}) AS "rotationLock"
       FROM pg_stat_activity a
      WHERE a.usename = ANY($1::text[]) AND a.pid <> pg_backend_pid()
        -- Without pg_read_all_stats the server hides backend_type too: such a row may be any backend of the role.
        AND (a.backend_type = 'client backend' OR a.backend_type IS NULL)
      ORDER BY a.backend_start`,
    [roles],
  );
  const visible = await db.query(`SELECT pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS ok`);
  return { sessions: rows as Session[], detailsVisible: visible.rows[0].ok === true };
}

/** The roles that exist, of those named. */
export async function existingRoles(db: pg.Client, roles: string[]): Promise<string[]> {
  const { rows } = await db.query(`SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[]) ORDER BY rolname`, [roles]);
  return rows.map((r) => r.rolname as string);
}

/** A schema-qualified, quoted name for SQL in a fix. */
export function qualified(db: pg.Client, schema: string | undefined, name: string): string {
  return schema ? `${db.escapeIdentifier(schema)}.${db.escapeIdentifier(name)}` : db.escapeIdentifier(name);
}
