import type pg from 'pg';
import { ownedObjects } from './owned.js';

/** One privilege that lets its holder write (or grant), as the ACL records it: on what, to whom, by whom. */
export interface WriteGrant {
  /** The REVOKE target, quoted: TABLE public.res_partner, SEQUENCE public.s, SCHEMA public, DATABASE odoo, LARGE OBJECT 9001, FOREIGN SERVER s, PARAMETER p. */
  target: string;
  /** For a column grant, the quoted column. */
  column: string | null;
  privilege: string;
  /** A role name, or PUBLIC. */
  grantee: string;
  grantor: string;
  /** The object's owner: a grant it made is revoked with its rights (a parameter's: its grantor, a superuser). */
  owner: string;
  /** The privilege writes; else it is held only WITH GRANT OPTION, which is what is revoked. */
  write: boolean;
}

const NOT_TEMP = `n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

/**
 * Every privilege held by `roles` (and by PUBLIC, with `withPublic`) that writes, as the audit
 * counts them: INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER on tables, views and foreign
 * tables, and on their columns; USAGE (nextval) and UPDATE (setval) on sequences; UPDATE on large
 * objects; CREATE on schemas and on the cluster's databases; USAGE on foreign servers and
 * foreign-data wrappers; ALTER SYSTEM on parameters, SET on lo_compat_privileges; and any
 * privilege held WITH GRANT OPTION by someone other than the object's owner.
 */
export async function writeGrants(db: pg.Client, roles: string[], withPublic: boolean): Promise<WriteGrant[]> {
  const { rows } = await db.query<WriteGrant>(
    `WITH who AS (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[]) UNION ALL SELECT 0 WHERE $2),
     acl AS (
       SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END || quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS target,
              NULL::text AS column, a.privilege_type AS privilege, a.grantee, a.grantor, c.relowner AS owner, a.is_grantable AS grantable,
              CASE c.relkind WHEN 'S' THEN a.privilege_type IN ('USAGE', 'UPDATE') ELSE a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER') END
              -- initdb grants UPDATE on this view to PUBLIC: it is how SET works (the session's own settings).
              AND NOT (c.oid = 'pg_catalog.pg_settings'::regclass AND a.grantee = 0 AND a.privilege_type = 'UPDATE') AS write
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${NOT_TEMP}
       UNION ALL
       SELECT 'TABLE ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(att.attname), a.privilege_type, a.grantee, a.grantor, c.relowner,
              a.is_grantable, a.privilege_type IN ('INSERT', 'UPDATE', 'REFERENCES')
         FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL aclexplode(att.attacl) a
        WHERE att.attacl IS NOT NULL AND ${NOT_TEMP}
       UNION ALL
       SELECT 'SCHEMA ' || quote_ident(n.nspname), NULL, a.privilege_type, a.grantee, a.grantor, n.nspowner, a.is_grantable, a.privilege_type = 'CREATE'
         FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a WHERE ${NOT_TEMP}
       UNION ALL
       SELECT 'DATABASE ' || quote_ident(d.datname), NULL, a.privilege_type, a.grantee, a.grantor, d.datdba, a.is_grantable, a.privilege_type = 'CREATE'
         FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a WHERE NOT d.datistemplate
       UNION ALL
       SELECT 'LARGE OBJECT ' || l.oid, NULL, a.privilege_type, a.grantee, a.grantor, l.lomowner, a.is_grantable, a.privilege_type = 'UPDATE'
         FROM pg_largeobject_metadata l CROSS JOIN LATERAL aclexplode(l.lomacl) a
       UNION ALL
       SELECT 'FOREIGN SERVER ' || quote_ident(f.srvname), NULL, a.privilege_type, a.grantee, a.grantor, f.srvowner, a.is_grantable, a.privilege_type = 'USAGE'
         FROM pg_foreign_server f CROSS JOIN LATERAL aclexplode(f.srvacl) a
       UNION ALL
       SELECT 'FOREIGN DATA WRAPPER ' || quote_ident(w.fdwname), NULL, a.privilege_type, a.grantee, a.grantor, w.fdwowner, a.is_grantable, a.privilege_type = 'USAGE'
         FROM pg_foreign_data_wrapper w CROSS JOIN LATERAL aclexplode(w.fdwacl) a
       UNION ALL
       SELECT 'PARAMETER ' || quote_ident(p.parname), NULL, a.privilege_type, a.grantee, a.grantor, a.grantor, a.is_grantable,
              a.privilege_type = 'ALTER SYSTEM' OR (a.privilege_type = 'SET' AND p.parname = 'lo_compat_privileges')
         FROM pg_parameter_acl p CROSS JOIN LATERAL aclexplode(p.paracl) a)
     SELECT target, acl.column, privilege, CASE grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(grantee) END AS grantee,
            pg_get_userbyid(grantor) AS grantor, pg_get_userbyid(owner) AS owner, write
       FROM acl WHERE grantee IN (SELECT oid FROM who) AND (write OR (grantable AND grantee <> owner))
      ORDER BY target, acl.column NULLS FIRST, grantee, grantor, privilege`,
    [roles, withPublic],
  );
  return rows;
}

/** A default privilege that makes objects created later writable by one of `roles`. */
export interface DefaultWriteGrant {
  /** Whose new objects: the role named in ALTER DEFAULT PRIVILEGES FOR ROLE. */
  creator: string;
  /** The schema it is limited to, or null for every schema. */
  schema: string | null;
  /** TABLES, SEQUENCES, SCHEMAS or LARGE OBJECTS. */
  objects: string;
  privileges: string[];
  grantee: string;
}

export async function defaultWriteGrants(db: pg.Client, roles: string[], withPublic: boolean): Promise<DefaultWriteGrant[]> {
  const { rows } = await db.query<DefaultWriteGrant>(
    `SELECT pg_get_userbyid(d.defaclrole) AS creator, n.nspname AS schema,
            CASE d.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'n' THEN 'SCHEMAS' WHEN 'L' THEN 'LARGE OBJECTS' END AS objects,
            array_agg(DISTINCT a.privilege_type ORDER BY a.privilege_type) AS privileges,
            CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee
       FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace CROSS JOIN LATERAL aclexplode(d.defaclacl) a
      WHERE (a.grantee IN (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[])) OR (a.grantee = 0 AND $2))
        AND CASE d.defaclobjtype
              WHEN 'r' THEN a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER')
              WHEN 'S' THEN a.privilege_type IN ('USAGE', 'UPDATE')
              WHEN 'n' THEN a.privilege_type = 'CREATE'
              WHEN 'L' THEN a.privilege_type = 'UPDATE'
              ELSE false END
      GROUP BY 1, 2, 3, 5 ORDER BY 1, 2 NULLS FIRST, 3, 5`,
    [roles, withPublic],
  );
  return rows;
}

/** A membership of one of `roles` in another role, and who granted it. */
export interface Membership {
  member: string;
  role: string;
  grantor: string;
  admin: boolean;
}

export async function membershipsOf(db: pg.Client, roles: string[]): Promise<Membership[]> {
  const { rows } = await db.query<Membership>(
    `SELECT pg_get_userbyid(m.member) AS member, pg_get_userbyid(m.roleid) AS role, pg_get_userbyid(m.grantor) AS grantor, m.admin_option AS admin
       FROM pg_auth_members m WHERE m.member IN (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[])) ORDER BY 1, 2, 3`,
    [roles],
  );
  return rows;
}

/** Predefined roles that write, or reach the server's files and programs (PostgreSQL 16). */
const WRITING_ROLES = ['pg_write_all_data', 'pg_execute_server_program', 'pg_write_server_files', 'pg_read_server_files'];
/** Predefined roles that act on the server or on other sessions: an administrator's powers. */
const ADMIN_ROLES = [
  'pg_execute_server_program',
  'pg_write_server_files',
  'pg_read_server_files',
  'pg_signal_backend',
  'pg_checkpoint',
  'pg_create_subscription',
];
const ROUTINES = ['function', 'procedure', 'aggregate'];

/** The roles `role` reaches through memberships (any flags: ADMIN OPTION lets it grant itself the rest), itself included, and whether each is an admin by attribute. */
async function reach(db: pg.Client, role: string): Promise<{ name: string; admin: boolean }[]> {
  const { rows } = await db.query<{ name: string; admin: boolean }>(
    `WITH RECURSIVE reach(oid) AS (
       SELECT oid FROM pg_roles WHERE rolname = $1
       UNION SELECT m.roleid FROM pg_auth_members m JOIN reach ON m.member = reach.oid)
     SELECT r.rolname AS name, (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls) AS admin
       FROM reach JOIN pg_roles r ON r.oid = reach.oid`,
    [role],
  );
  return rows;
}

/**
 * Whether `role` (as its members would, through it) can write: it is or reaches a writing
 * predefined role or an admin attribute, owns an object or holds a write grant. With
 * `ignoreRoutines`, owning routines does not count (the owner of a SECURITY DEFINER routine owns
 * that routine; what matters is what else it may do).
 */
export async function reachesWrites(db: pg.Client, role: string, ignoreRoutines = false): Promise<boolean> {
  const roles = await reach(db, role);
  if (roles.some((r) => r.admin || WRITING_ROLES.includes(r.name))) return true;
  const names = roles.map((r) => r.name);
  if ((await writeGrants(db, names, false)).length > 0) return true;
  return (await ownedObjects(db, names)).some((o) => !(ignoreRoutines && ROUTINES.includes(o.type)));
}

/** Whether `role` is or reaches an admin: an admin attribute, or a predefined role of the server's administrators. */
export async function reachesAdmin(db: pg.Client, role: string): Promise<boolean> {
  return (await reach(db, role)).some((r) => r.admin || ADMIN_ROLES.includes(r.name));
}
