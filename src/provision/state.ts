import type pg from 'pg';

/** What the catalogs say about one role, as seen by the admin connection. */
export interface RoleState {
  name: string;
  exists: boolean;
  canLogin: boolean;
  /** The attributes an application role must not have, those it has. */
  powers: Power[];
  /** rolconfig, e.g. ['role=odoo_app']. */
  config: string[];
  /** The admin holds ADMIN OPTION on it (or is a superuser). */
  adminHasAdmin: boolean;
  /** The admin may act as it (SET ROLE, owner checks): itself, a superuser, or a member with SET. */
  adminMaySet: boolean;
  adminHasPrivileges: boolean;
}

export type Power = 'SUPERUSER' | 'CREATEROLE' | 'CREATEDB' | 'REPLICATION' | 'BYPASSRLS';

export interface AdminState {
  user: string;
  superuser: boolean;
  database: string;
  /** The owner of the database (GRANT CONNECT is its to give). */
  databaseOwner: string;
  /** The attributes the admin has: PostgreSQL 16 lets it take away only those (SUPERUSER: a superuser only). */
  powers: Power[];
}

export async function adminState(db: pg.Client): Promise<AdminState> {
  const { rows } = await db.query<AdminState & { flags: boolean[] }>(
    `SELECT current_user AS user, rolsuper AS superuser, current_database() AS database,
            (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS "databaseOwner",
            ARRAY[rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls] AS flags
       FROM pg_roles WHERE rolname = current_user`,
  );
  const { flags, ...admin } = rows[0];
  return { ...admin, powers: POWERS.filter((_, i) => flags[i]) };
}

const POWERS: Power[] = ['SUPERUSER', 'CREATEROLE', 'CREATEDB', 'REPLICATION', 'BYPASSRLS'];

export async function roleState(db: pg.Client, name: string): Promise<RoleState> {
  const { rows } = await db.query<{
    rolcanlogin: boolean;
    flags: boolean[];
    rolconfig: string[] | null;
    admin: boolean;
    may_set: boolean;
    privs: boolean;
  }>(
    `SELECT rolcanlogin, ARRAY[rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls] AS flags, rolconfig,
            pg_has_role(current_user, oid, 'MEMBER WITH ADMIN OPTION') AS admin,
            pg_has_role(current_user, oid, 'SET') AS may_set,
            pg_has_role(current_user, oid, 'USAGE') AS privs
       FROM pg_roles WHERE rolname = $1`,
    [name],
  );
  const r = rows[0];
  if (!r)
    return {
      name,
      exists: false,
      canLogin: false,
      powers: [],
      config: [],
      adminHasAdmin: false,
      adminMaySet: false,
      adminHasPrivileges: false,
    };
  const powers = POWERS.filter((_, i) => r.flags[i]);
  return {
    name,
    exists: true,
    canLogin: r.rolcanlogin,
    powers,
    config: r.rolconfig ?? [],
    adminHasAdmin: r.admin,
    adminMaySet: r.may_set,
    adminHasPrivileges: r.privs,
  };
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

/** The privileges `role` (or 'public', for a role not created yet) has on the schema and on the database, and the schema's owner. */
export async function schemaPrivileges(
  db: pg.Client,
  role: string,
  schema: string,
): Promise<{ usage: boolean; create: boolean; connect: boolean; owner: string }> {
  const { rows } = await db.query<{ usage: boolean; create: boolean; connect: boolean; owner: string }>(
    `SELECT has_schema_privilege($1, $2, 'USAGE') AS usage, has_schema_privilege($1, $2, 'CREATE') AS create,
            has_database_privilege($1, current_database(), 'CONNECT') AS connect,
            (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $2) AS owner`,
    [role, schema],
  );
  return rows[0];
}

/** The schema's tables and views, their owners and whether `role` may read each. */
export async function tableAccess(db: pg.Client, role: string, schema: string) {
  const { rows } = await db.query<{ name: string; owner: string; select: boolean }>(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, pg_get_userbyid(c.relowner) AS owner,
            has_table_privilege($1, c.oid, 'SELECT') AS select
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
