import type pg from 'pg';

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
}

/**
 * Every role whose privileges `role` holds, following PG16's membership flags: INHERIT passes
 * privileges on, SET lets the member become the group (and so gain its attributes and, through
 * the group's own INHERIT memberships, its privileges). The subject itself is first, mode 'act'.
 * Empty when the role does not exist.
 */
export async function reachableRoles(db: pg.Client, role: string): Promise<ReachedRole[]> {
  const { rows } = await db.query<{ oid: number; name: string; mode: 'act' | 'inherit'; path: string[] }>(
    `WITH RECURSIVE reach(oid, mode, path) AS (
       SELECT r.oid, 'act'::text, ARRAY[r.rolname::text] FROM pg_roles r WHERE r.rolname = $1
       UNION ALL
       SELECT m.roleid,
              CASE WHEN reach.mode = 'act' AND m.set_option THEN 'act' ELSE 'inherit' END,
              reach.path || g.rolname::text
         FROM reach
         JOIN pg_auth_members m ON m.member = reach.oid
         JOIN pg_roles g ON g.oid = m.roleid
        WHERE (m.inherit_option OR (reach.mode = 'act' AND m.set_option))
          AND NOT g.rolname::text = ANY(reach.path)
     )
     SELECT DISTINCT ON (reach.oid) reach.oid::int AS oid, r.rolname AS name, reach.mode, reach.path
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

/** A privilege on a database object, from its ACL: who it was granted to (0 = PUBLIC). */
export interface Grant {
  kind: 'table' | 'column' | 'schema' | 'database';
  /** relkind for tables ('r', 'v', 'S', …). */
  relkind?: string;
  schema?: string;
  object: string;
  column?: string;
  privilege: string;
  grantee: number;
}

const USER_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

/** Grants of the given privileges to any of `grantees` (0 for PUBLIC), in this database and on the cluster's databases. */
export async function grantsTo(db: pg.Client, grantees: number[], privileges: string[]): Promise<Grant[]> {
  const args = [grantees, privileges];
  const tables = await db.query(
    `SELECT 'table' AS kind, c.relkind::text AS relkind, n.nspname AS schema, c.relname AS object, a.privilege_type AS privilege, a.grantee::int AS grantee
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${USER_SCHEMAS}
        AND a.grantee = ANY($1::oid[]) AND a.privilege_type = ANY($2::text[])`,
    args,
  );
  const columns = await db.query(
    `SELECT 'column' AS kind, c.relkind::text AS relkind, n.nspname AS schema, c.relname AS object, att.attname AS column, a.privilege_type AS privilege, a.grantee::int AS grantee
       FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL aclexplode(att.attacl) a
      WHERE att.attacl IS NOT NULL AND ${USER_SCHEMAS}
        AND a.grantee = ANY($1::oid[]) AND a.privilege_type = ANY($2::text[])`,
    args,
  );
  const schemas = await db.query(
    `SELECT 'schema' AS kind, n.nspname AS object, a.privilege_type AS privilege, a.grantee::int AS grantee
       FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
      WHERE ${USER_SCHEMAS} AND a.grantee = ANY($1::oid[]) AND a.privilege_type = ANY($2::text[])`,
    args,
  );
  const databases = await db.query(
    `SELECT 'database' AS kind, d.datname AS object, a.privilege_type AS privilege, a.grantee::int AS grantee
       FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a
      WHERE NOT d.datistemplate AND a.grantee = ANY($1::oid[]) AND a.privilege_type = ANY($2::text[])`,
    args,
  );
  return [...tables.rows, ...columns.rows, ...schemas.rows, ...databases.rows] as Grant[];
}

export interface Owned {
  kind: 'table' | 'schema' | 'database';
  relkind?: string;
  schema?: string;
  object: string;
  owner: number;
}

/** Objects owned by any of `owners`: tables, views and sequences and schemas of this database, and databases. */
export async function ownedBy(db: pg.Client, owners: number[]): Promise<Owned[]> {
  const rels = await db.query(
    `SELECT 'table' AS kind, c.relkind::text AS relkind, n.nspname AS schema, c.relname AS object, c.relowner::int AS owner
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${USER_SCHEMAS} AND c.relowner = ANY($1::oid[])`,
    [owners],
  );
  const schemas = await db.query(
    `SELECT 'schema' AS kind, n.nspname AS object, n.nspowner::int AS owner FROM pg_namespace n WHERE ${USER_SCHEMAS} AND n.nspowner = ANY($1::oid[])`,
    [owners],
  );
  const dbs = await db.query(`SELECT 'database' AS kind, datname AS object, datdba::int AS owner FROM pg_database WHERE NOT datistemplate AND datdba = ANY($1::oid[])`, [owners]);
  return [...rels.rows, ...schemas.rows, ...dbs.rows] as Owned[];
}

export interface Session {
  pid: number;
  user: string;
  database: string | null;
  application: string | null;
  client: string | null;
  started: string | null;
}

/** Client sessions of the given roles, on the whole cluster, other than this connection. */
export async function sessionsOf(db: pg.Client, roles: string[]): Promise<{ sessions: Session[]; detailsVisible: boolean }> {
  const { rows } = await db.query(
    `SELECT pid, usename AS user, datname AS database, application_name AS application, host(client_addr) AS client,
            to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started
       FROM pg_stat_activity
      WHERE usename = ANY($1::text[]) AND pid <> pg_backend_pid()
        -- Without pg_read_all_stats the server hides backend_type too: such a row may be any backend of the role.
        AND (backend_type = 'client backend' OR backend_type IS NULL)
      ORDER BY backend_start`,
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
