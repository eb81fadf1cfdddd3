import type pg from 'pg';

/**
 * Catalog reads behind rules 1 and 2: grants, ownership, default privileges, SECURITY DEFINER
 * functions and settings, each asked for a set of role oids (0 = PUBLIC). SELECTs on pg_catalog
 * only, which any role may read.
 */

const NOT_TEMP = `n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

/** A write privilege, or a privilege with GRANT OPTION, granted on a database object. */
export interface WriteGrant {
  kind: 'table' | 'column' | 'schema' | 'database' | 'large object' | 'foreign server' | 'foreign-data wrapper' | 'parameter';
  /** relkind for tables ('r', 'v', 'S', …). */
  relkind?: string;
  schema?: string;
  object: string;
  column?: string;
  privilege: string;
  grantee: number;
  grantor: string;
  /** The privilege writes (otherwise it is here for its grant option). */
  write: boolean;
  /** WITH GRANT OPTION: the grantee may hand the privilege on (a change of the catalog, and of others' access). */
  grantable: boolean;
}

/**
 * Grants that change data or structure, to any of `grantees`, on every kind of object that has
 * them: tables, views and foreign tables (INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER),
 * sequences (USAGE and UPDATE: nextval and setval write), columns (INSERT, UPDATE, REFERENCES),
 * schemas and databases (CREATE), large objects (UPDATE), foreign servers and foreign-data
 * wrappers (USAGE: CREATE USER MAPPING, CREATE SERVER), parameters (ALTER SYSTEM, and SET on
 * lo_compat_privileges); and any privilege held WITH GRANT OPTION by someone other than the
 * owner. Objects of this database; databases and parameters of the whole cluster.
 */
export async function writeGrants(db: pg.Client, grantees: number[]): Promise<WriteGrant[]> {
  const { rows } = await db.query<WriteGrant>(
    `SELECT * FROM (
       SELECT 'table' AS kind, c.relkind::text AS relkind, n.nspname AS schema, c.relname AS object, NULL::text AS column,
              a.privilege_type AS privilege, a.grantee::int AS grantee, pg_get_userbyid(a.grantor) AS grantor,
              CASE WHEN c.relkind = 'S' THEN a.privilege_type IN ('USAGE', 'UPDATE')
                   ELSE a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER') END
              -- initdb grants UPDATE on this view to PUBLIC: it is how SET works (the session's own settings).
              AND NOT (c.oid = 'pg_catalog.pg_settings'::regclass AND a.grantee = 0 AND a.privilege_type = 'UPDATE') AS write,
              a.is_grantable AND a.grantee <> c.relowner AS grantable
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND ${NOT_TEMP}
       UNION ALL
       SELECT 'column', c.relkind::text, n.nspname, c.relname, att.attname::text, a.privilege_type, a.grantee::int, pg_get_userbyid(a.grantor),
              a.privilege_type IN ('INSERT', 'UPDATE', 'REFERENCES'), a.is_grantable AND a.grantee <> c.relowner
         FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         CROSS JOIN LATERAL aclexplode(att.attacl) a
        WHERE att.attacl IS NOT NULL AND ${NOT_TEMP}
       UNION ALL
       SELECT 'schema', NULL, NULL, n.nspname, NULL, a.privilege_type, a.grantee::int, pg_get_userbyid(a.grantor),
              a.privilege_type = 'CREATE', a.is_grantable AND a.grantee <> n.nspowner
         FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
        WHERE ${NOT_TEMP}
       UNION ALL
       SELECT 'database', NULL, NULL, d.datname, NULL, a.privilege_type, a.grantee::int, pg_get_userbyid(a.grantor),
              a.privilege_type = 'CREATE', a.is_grantable AND a.grantee <> d.datdba
         FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a
        WHERE NOT d.datistemplate
       UNION ALL
       SELECT 'large object', NULL, NULL, l.oid::text, NULL, a.privilege_type, a.grantee::int, pg_get_userbyid(a.grantor),
              a.privilege_type = 'UPDATE', a.is_grantable AND a.grantee <> l.lomowner
         FROM pg_largeobject_metadata l CROSS JOIN LATERAL aclexplode(l.lomacl) a
       UNION ALL
       SELECT 'foreign server', NULL, NULL, f.srvname, NULL, a.privilege_type, a.grantee::int, pg_get_userbyid(a.grantor),
              a.privilege_type = 'USAGE', a.is_grantable AND a.grantee <> f.srvowner
         FROM pg_foreign_server f CROSS JOIN LATERAL aclexplode(f.srvacl) a
       UNION ALL
       SELECT 'foreign-data wrapper', NULL, NULL, w.fdwname, NULL, a.privilege_type, a.grantee::int, pg_get_userbyid(a.grantor),
              a.privilege_type = 'USAGE', a.is_grantable AND a.grantee <> w.fdwowner
         FROM pg_foreign_data_wrapper w CROSS JOIN LATERAL aclexplode(w.fdwacl) a
       UNION ALL
       SELECT 'parameter', NULL, NULL, p.parname, NULL, a.privilege_type, a.grantee::int, pg_get_userbyid(a.grantor),
              a.privilege_type = 'ALTER SYSTEM' OR (a.privilege_type = 'SET' AND p.parname = 'lo_compat_privileges'), a.is_grantable
         FROM pg_parameter_acl p CROSS JOIN LATERAL aclexplode(p.paracl) a
     ) g WHERE g.grantee = ANY($1::oid[]) AND (g.write OR g.grantable)`,
    [grantees],
  );
  return rows;
}

/** An object PostgreSQL records as owned by a role (pg_shdepend), described when it is of this database or shared. */
export interface OwnedObject {
  /** pg_identify_object's type ('table', 'function', 'aggregate', 'schema', 'large object', …); null in another database. */
  type: string | null;
  /** Its quoted identity, as ALTER … OWNER takes it; null in another database. */
  identity: string | null;
  /** The database it lives in, null for a shared object (a database, a tablespace). */
  database: string | null;
  /** Whether it is in the database the admin connection reads (or shared). */
  here: boolean;
  /** Its catalog (pg_proc, pg_class, …). */
  catalog: string;
  owner: number;
}

/**
 * Everything owned by any of `owners`, of every kind (tables, schemas, functions, aggregates,
 * types, large objects, databases …), from pg_shdepend: it records ownership for the whole
 * cluster, so objects in databases the admin does not connect to count too (named by database
 * only). Temporary objects, which end with their session, are left out here.
 */
export async function ownedObjects(db: pg.Client, owners: number[]): Promise<OwnedObject[]> {
  const { rows } = await db.query<OwnedObject>(
    `SELECT o.type, o.identity, d.datname AS database, here.ok AS here, s.classid::regclass::text AS catalog, s.refobjid::int AS owner
       FROM pg_shdepend s
       LEFT JOIN pg_database d ON d.oid = s.dbid
       CROSS JOIN LATERAL (SELECT s.dbid = 0 OR d.datname = current_database() AS ok) here
       LEFT JOIN LATERAL (SELECT * FROM pg_identify_object(s.classid, s.objid, s.objsubid) WHERE here.ok) o ON true
      WHERE s.deptype = 'o' AND s.refclassid = 'pg_catalog.pg_authid'::regclass AND s.refobjid = ANY($1::oid[])
        AND (o.schema IS NULL OR (o.schema NOT LIKE 'pg\\_temp%' AND o.schema NOT LIKE 'pg\\_toast\\_temp%'))
      ORDER BY here.ok DESC, d.datname, o.type, o.identity`,
    [owners],
  );
  return rows;
}

/** A write privilege that ALTER DEFAULT PRIVILEGES hands out on objects created later. */
export interface DefaultGrant {
  /** The role whose new objects get it (FOR ROLE). */
  creator: string;
  /** IN SCHEMA, or null for every schema. */
  schema: string | null;
  /** 'r' tables, 'S' sequences, 'n' schemas. */
  objtype: string;
  privilege: string;
  grantee: number;
}

export async function defaultWriteGrants(db: pg.Client, grantees: number[]): Promise<DefaultGrant[]> {
  const { rows } = await db.query<DefaultGrant>(
    `SELECT pg_get_userbyid(d.defaclrole) AS creator, n.nspname AS schema, d.defaclobjtype::text AS objtype, a.privilege_type AS privilege, a.grantee::int AS grantee
       FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace CROSS JOIN LATERAL aclexplode(d.defaclacl) a
      WHERE a.grantee = ANY($1::oid[])
        AND CASE d.defaclobjtype WHEN 'r' THEN a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER')
                                 WHEN 'S' THEN a.privilege_type IN ('USAGE', 'UPDATE')
                                 WHEN 'n' THEN a.privilege_type = 'CREATE'
                                 ELSE false END`,
    [grantees],
  );
  return rows;
}

/** A SECURITY DEFINER routine one of the roles may call. */
export interface DefinerFunction {
  /** The signature, as REVOKE … ON ROUTINE takes it. */
  signature: string;
  owner: string;
  /** Those of the asked roles (0 = PUBLIC) its ACL grants EXECUTE to directly. */
  grantees: number[];
}

/**
 * SECURITY DEFINER routines, in any schema (PostgreSQL itself ships none), that any of `roles` may
 * call (EXECUTE, which PUBLIC has by default, and USAGE on the schema), owned by a role other
 * than those of `acting` (the roles the subject can become: it has their rights anyway). A role
 * whose privileges the subject only inherits still lends its attributes through its routines.
 */
export async function callableDefiners(db: pg.Client, roles: number[], acting: number[]): Promise<DefinerFunction[]> {
  const { rows } = await db.query<DefinerFunction>(
    `SELECT p.oid::regprocedure::text AS signature, pg_get_userbyid(p.proowner) AS owner,
            ARRAY(SELECT a.grantee::int FROM aclexplode(COALESCE(p.proacl, acldefault('f', p.proowner))) a
                   WHERE a.privilege_type = 'EXECUTE' AND (a.grantee = 0 OR a.grantee = ANY($1::oid[]))) AS grantees
       FROM pg_proc p
      WHERE p.prosecdef AND NOT p.proowner = ANY($2::oid[])
        -- A trigger function of a procedural language refuses to be called but as a trigger (and
        -- creating a trigger needs TRIGGER on a table, reported as such); one in C might not check.
        AND NOT (p.prorettype IN ('pg_catalog.trigger'::regtype, 'pg_catalog.event_trigger'::regtype)
                 AND p.prolang NOT IN (SELECT oid FROM pg_language WHERE lanname IN ('c', 'internal')))
        AND EXISTS (SELECT 1 FROM unnest($1::oid[]) r
                     WHERE has_function_privilege(r, p.oid, 'EXECUTE') AND has_schema_privilege(r, p.pronamespace, 'USAGE'))
      ORDER BY 1`,
    [roles, acting],
  );
  return rows;
}

/** Where lo_compat_privileges is on, and the statement that turns it off there. */
export interface SettingOn {
  where: string;
  fix: string;
}

/**
 * Where lo_compat_privileges (every role may write every large object) is not plainly off: on the
 * server, or set for one of the roles, a database or every role (pg_db_role_setting), each with
 * the statement that resets it there.
 */
export async function largeObjectCompat(db: pg.Client, roles: number[]): Promise<SettingOn[]> {
  const { rows } = await db.query<{ role: string | null; database: string | null; value: string; server: boolean }>(
    `SELECT NULL AS role, NULL AS database, current_setting('lo_compat_privileges') AS value, true AS server
     UNION ALL
     SELECT CASE WHEN s.setrole = 0 THEN NULL ELSE pg_get_userbyid(s.setrole) END, d.datname, substr(c, strpos(c, '=') + 1), false
       FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase CROSS JOIN LATERAL unnest(s.setconfig) c
      WHERE lower(c) LIKE 'lo\\_compat\\_privileges=%' AND s.setrole = ANY(array_append($1::oid[], 0::oid))`,
    [roles],
  );
  const on = rows.filter((r) => !/^(off?|f(a(l(se?)?)?)?|no?|0)$/i.test(r.value.trim().replace(/^'|'$/g, '')));
  return on.map((r) => {
    const role = r.role ? `ROLE ${db.escapeIdentifier(r.role)}` : r.database ? undefined : 'ROLE ALL';
    const inDb = r.database ? ` IN DATABASE ${db.escapeIdentifier(r.database)}` : '';
    if (r.server) return { where: 'the server', fix: 'ALTER SYSTEM SET lo_compat_privileges = off; SELECT pg_reload_conf();' };
    if (!role)
      return { where: `database ${r.database}`, fix: `ALTER DATABASE ${db.escapeIdentifier(r.database!)} RESET lo_compat_privileges;` };
    return {
      where: `${r.role ? `role ${r.role}` : 'every role'}${r.database ? ` in database ${r.database}` : ''}`,
      fix: `ALTER ${role}${inDb} RESET lo_compat_privileges;`,
    };
  });
}
