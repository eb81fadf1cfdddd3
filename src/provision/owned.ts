import type pg from 'pg';
import { OWNER_KEYWORDS } from '../audit/powers/describe.js';

/** An object with an owner of its own, as PostgreSQL names it (pg_identify_object). */
export interface OwnedObject {
  /** pg_identify_object's type: 'table', 'aggregate', 'large object', 'schema', … */
  type: string;
  /** Quoted where needed and schema-qualified: public.res_partner, public.total(integer), 4242. */
  identity: string;
  schema: string | null;
  owner: string;
  /** The extension it belongs to: it follows that extension, provision leaves it alone. */
  extension: string | null;
}

/**
 * Every object of this database owned by one of `owners` (null: by anyone), of every kind that has an owner of its
 * own, read from the catalogs themselves (pg_shdepend records nothing for the bootstrap superuser).
 * Left out, because they follow another object: a table's row type and indexes, array and
 * multirange types, and sequences that belong to a column. `schemas` limits it to those schemas
 * (and the schemas themselves); without it, databases of the cluster count too.
 */
export async function ownedObjects(db: pg.Client, owners: string[] | null, schemas?: string[]): Promise<OwnedObject[]> {
  const { rows } = await db.query<OwnedObject>(
    `WITH o AS (
       SELECT 'pg_class'::regclass AS classid, oid AS objid, relowner AS owner, relnamespace AS ns FROM pg_class WHERE relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
       UNION ALL SELECT 'pg_proc'::regclass, oid, proowner, pronamespace FROM pg_proc
       UNION ALL SELECT 'pg_type'::regclass, oid, typowner, typnamespace FROM pg_type
       UNION ALL SELECT 'pg_namespace'::regclass, oid, nspowner, oid FROM pg_namespace
       UNION ALL SELECT 'pg_collation'::regclass, oid, collowner, collnamespace FROM pg_collation
       UNION ALL SELECT 'pg_conversion'::regclass, oid, conowner, connamespace FROM pg_conversion
       UNION ALL SELECT 'pg_operator'::regclass, oid, oprowner, oprnamespace FROM pg_operator
       UNION ALL SELECT 'pg_opclass'::regclass, oid, opcowner, opcnamespace FROM pg_opclass
       UNION ALL SELECT 'pg_opfamily'::regclass, oid, opfowner, opfnamespace FROM pg_opfamily
       UNION ALL SELECT 'pg_ts_config'::regclass, oid, cfgowner, cfgnamespace FROM pg_ts_config
       UNION ALL SELECT 'pg_ts_dict'::regclass, oid, dictowner, dictnamespace FROM pg_ts_dict
       UNION ALL SELECT 'pg_statistic_ext'::regclass, oid, stxowner, stxnamespace FROM pg_statistic_ext
       UNION ALL SELECT 'pg_largeobject'::regclass, oid, lomowner, NULL FROM pg_largeobject_metadata
       UNION ALL SELECT 'pg_database'::regclass, oid, datdba, NULL FROM pg_database WHERE NOT datistemplate AND $2::text[] IS NULL)
     SELECT i.type, i.identity, n.nspname AS schema, pg_get_userbyid(o.owner) AS owner,
            (SELECT e.extname FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
              WHERE d.classid = o.classid AND d.objid = o.objid AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' LIMIT 1) AS extension
       FROM o CROSS JOIN LATERAL pg_identify_object(o.classid, o.objid, 0) i
       LEFT JOIN pg_namespace n ON n.oid = o.ns
      WHERE ($1::text[] IS NULL OR o.owner IN (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[])))
        AND ($2::text[] IS NULL OR n.nspname = ANY($2::text[]))
        AND (n.nspname IS NULL OR (n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'))
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = o.classid AND d.objid = o.objid
                         AND (d.deptype = 'i' OR (o.classid = 'pg_class'::regclass AND d.deptype = 'a' AND d.refclassid = 'pg_class'::regclass)))
      ORDER BY i.type = 'schema' DESC, 2`,
    [owners, schemas ?? null],
  );
  return rows;
}

/**
 * Kinds provision does not move: objects of the whole server (tablespaces, foreign-data wrappers
 * and servers, event triggers, publications, subscriptions, languages), which belong to an
 * administrator's decisions; it names them instead.
 */
const LEFT_TO_ADMINS = new Set([
  'tablespace',
  'foreign-data wrapper',
  'server',
  'event trigger',
  'publication',
  'subscription',
  'language',
]);

/** `ALTER <kind> <identity> OWNER TO <to>`, or undefined for a kind provision does not move. */
export function alterOwner(object: OwnedObject, to: string): string | undefined {
  const keyword = LEFT_TO_ADMINS.has(object.type) ? undefined : OWNER_KEYWORDS[object.type];
  return keyword ? `ALTER ${keyword} ${object.identity} OWNER TO ${to}` : undefined;
}
