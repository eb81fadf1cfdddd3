import type pg from 'pg';

/** What the catalogs say about one role, as seen by the admin connection. */
export interface RoleState {
  name: string;
  exists: boolean;
  canLogin: boolean;
  /** The attributes an application role must not have, those it has. */
  powers: ('SUPERUSER' | 'CREATEROLE' | 'REPLICATION' | 'BYPASSRLS')[];
  /** rolconfig, e.g. ['role=odoo_app']. */
  config: string[];
  /** The admin holds ADMIN OPTION on it (or is a superuser). */
  adminHasAdmin: boolean;
  /** The admin may act as it (SET ROLE, owner checks): itself, a superuser, or a member with SET. */
  adminMaySet: boolean;
  adminHasPrivileges: boolean;
}

export interface AdminState {
  user: string;
  superuser: boolean;
  database: string;
}

export interface SchemaObject {
  /** Already quoted, e.g. "public"."res_partner" or "public"."f"(integer). */
  name: string;
  /** The ALTER keyword: TABLE, VIEW, MATERIALIZED VIEW, SEQUENCE, FOREIGN TABLE, FUNCTION, PROCEDURE, TYPE, DOMAIN. */
  kind: string;
  owner: string;
  schema: string;
}

export async function adminState(db: pg.Client): Promise<AdminState> {
  const { rows } = await db.query<{ user: string; superuser: boolean; database: string }>(
    'SELECT current_user AS user, rolsuper AS superuser, current_database() AS database FROM pg_roles WHERE rolname = current_user',
  );
  return rows[0];
}

export async function roleState(db: pg.Client, name: string): Promise<RoleState> {
  const { rows } = await db.query<{ rolcanlogin: boolean; rolsuper: boolean; rolcreaterole: boolean; rolreplication: boolean; rolbypassrls: boolean; rolconfig: string[] | null; admin: boolean; may_set: boolean; privs: boolean }>(
    `SELECT rolcanlogin, rolsuper, rolcreaterole, rolreplication, rolbypassrls, rolconfig,
            pg_has_role(current_user, oid, 'MEMBER WITH ADMIN OPTION') AS admin,
            pg_has_role(current_user, oid, 'SET') AS may_set,
            pg_has_role(current_user, oid, 'USAGE') AS privs
       FROM pg_roles WHERE rolname = $1`,
    [name],
  );
  const r = rows[0];
  if (!r) return { name, exists: false, canLogin: false, powers: [], config: [], adminHasAdmin: false, adminMaySet: false, adminHasPrivileges: false };
  const powers = ([['SUPERUSER', r.rolsuper], ['CREATEROLE', r.rolcreaterole], ['REPLICATION', r.rolreplication], ['BYPASSRLS', r.rolbypassrls]] as const).filter(([, on]) => on).map(([p]) => p);
  return { name, exists: true, canLogin: r.rolcanlogin, powers: [...powers], config: r.rolconfig ?? [], adminHasAdmin: r.admin, adminMaySet: r.may_set, adminHasPrivileges: r.privs };
}

/** Whether `member` has the privileges of `role` (INHERIT) and may SET ROLE to it. */
export async function membership(db: pg.Client, member: string, role: string): Promise<{ inherits: boolean; maySet: boolean }> {
  const { rows } = await db.query<{ inherits: boolean; may_set: boolean }>(
    `SELECT pg_has_role(m.oid, r.oid, 'USAGE') AS inherits, pg_has_role(m.oid, r.oid, 'SET') AS may_set FROM pg_roles m, pg_roles r WHERE m.rolname = $1 AND r.rolname = $2`,
    [member, role],
  );
  return { inherits: rows[0]?.inherits ?? false, maySet: rows[0]?.may_set ?? false };
}

export async function schemaExists(db: pg.Client, schema: string): Promise<boolean> {
  return ((await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount ?? 0) > 0;
}

/** The privileges `role` has on the schema, and on the database. */
export async function schemaPrivileges(db: pg.Client, role: string, schema: string): Promise<{ usage: boolean; create: boolean; connect: boolean }> {
  const { rows } = await db.query<{ usage: boolean; create: boolean; connect: boolean }>(
    `SELECT has_schema_privilege($1, $2, 'USAGE') AS usage, has_schema_privilege($1, $2, 'CREATE') AS create,
            has_database_privilege($1, current_database(), 'CONNECT') AS connect`,
    [role, schema],
  );
  return rows[0];
}

/**
 * The objects of a schema that can be owned on their own: relations, functions, procedures and
 * types, less extension members and sequences that belong to a table column (they follow the table).
 */
export async function schemaObjects(db: pg.Client, schema: string): Promise<SchemaObject[]> {
  const { rows } = await db.query<SchemaObject>(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name,
            CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind,
            pg_get_userbyid(c.relowner) AS owner, n.nspname AS schema
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
     UNION ALL
     SELECT p.oid::regprocedure::text, CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END, pg_get_userbyid(p.proowner), n.nspname
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.prokind IN ('f', 'p')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
     UNION ALL
     SELECT quote_ident(n.nspname) || '.' || quote_ident(t.typname), CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, pg_get_userbyid(t.typowner), n.nspname
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = $1 AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
      ORDER BY 1`,
    [schema],
  );
  return rows;
}

/** The schema's tables and views with what `role` may do on each (explicit grants apart). */
export async function tableAccess(db: pg.Client, role: string, schema: string) {
  const { rows } = await db.query<{ name: string; owner: string; select: boolean; writes: string[]; granted_writes: string[] }>(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, pg_get_userbyid(c.relowner) AS owner,
            has_table_privilege($1, c.oid, 'SELECT') AS select,
            ARRAY(SELECT p FROM unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) p WHERE has_table_privilege($1, c.oid, p)) AS writes,
            ARRAY(SELECT DISTINCT a.privilege_type FROM aclexplode(c.relacl) a
                   WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $1) AND a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')) AS granted_writes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      ORDER BY 1`,
    [role, schema],
  );
  return rows;
}

/** Whether tables `owner` creates later in `schema` are readable by `reader` (ALTER DEFAULT PRIVILEGES). */
export async function defaultSelect(db: pg.Client, owner: string, schema: string, reader: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM pg_default_acl d, aclexplode(d.defaclacl) a
      WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1)
        AND d.defaclnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $2)
        AND d.defaclobjtype = 'r' AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = $3) AND a.privilege_type = 'SELECT'`,
    [owner, schema, reader],
  );
  return (rows.length ?? 0) > 0;
}
