import type pg from 'pg';
import type { ReachedRole } from '../catalog.js';
import type { Finding, PowerPath } from '../types.js';

/** The membership path, with the memberships that only ADMIN OPTION opens marked. */
export function chain(via: ReachedRole): string {
  return via.path.map((name, i) => (i > 0 && via.edges[i - 1] === 'admin' ? `${name} [ADMIN OPTION]` : name)).join(' → ');
}

/** Cuts the first membership on the path: the role's own grant of the group, by whoever granted it. */
export function revokeMembership(db: pg.Client, via: ReachedRole): string {
  const by = via.grantor ? ` GRANTED BY ${db.escapeIdentifier(via.grantor)}` : '';
  return `REVOKE ${db.escapeIdentifier(via.path[1])} FROM ${db.escapeIdentifier(via.path[0])}${by};`;
}

/** Whether the power reaches the subject through a membership (rather than being its own). */
export function throughMembership(via: ReachedRole | undefined): via is ReachedRole {
  return via !== undefined && via.path.length > 1;
}

export interface Power {
  path: PowerPath;
  object: string;
  /** What the holder can do, e.g. "holds INSERT on table public.t". */
  what: string;
  /** The fix when the subject holds it itself (or through PUBLIC), and who may run it. */
  fix: string;
  runAs?: string;
  facts?: Finding['facts'];
}

/**
 * A finding for `subject` of a power that `via` holds: when `via` is a group the subject reaches,
 * the finding names the membership path and its fix cuts the subject's own membership.
 */
export function powerFinding(db: pg.Client, subject: string, power: Power, via: ReachedRole | undefined, holder = via?.name): Finding {
  const member = throughMembership(via);
  const who = member
    ? `${subject} reaches ${holder} (${chain(via)}), which`
    : holder === 'PUBLIC'
      ? `${subject}, as every role (PUBLIC),`
      : subject;
  return {
    what: `${who} ${power.what}`,
    severity: 'error',
    fixes: member ? [revokeMembership(db, via), power.fix] : [power.fix],
    path: power.path,
    object: power.object,
    ...(member ? (via.grantor ? { runAs: via.grantor } : {}) : power.runAs ? { runAs: power.runAs } : {}),
    facts: { role: subject, holder: holder ?? subject, ...(member ? { memberships: chain(via) } : {}), ...power.facts },
  };
}

/**
 * The ALTER … OWNER TO keyword of each object type pg_identify_object names (the one table: the
 * audit's fixes and provision's take-overs both read it).
 */
export const OWNER_KEYWORDS: Readonly<Record<string, string>> = {
  table: 'TABLE',
  view: 'VIEW',
  'materialized view': 'MATERIALIZED VIEW',
  'foreign table': 'FOREIGN TABLE',
  sequence: 'SEQUENCE',
  function: 'FUNCTION',
  procedure: 'PROCEDURE',
  aggregate: 'AGGREGATE',
  schema: 'SCHEMA',
  type: 'TYPE',
  'composite type': 'TYPE',
  domain: 'DOMAIN',
  'large object': 'LARGE OBJECT',
  database: 'DATABASE',
  tablespace: 'TABLESPACE',
  collation: 'COLLATION',
  conversion: 'CONVERSION',
  operator: 'OPERATOR',
  'operator class': 'OPERATOR CLASS',
  'operator family': 'OPERATOR FAMILY',
  'text search configuration': 'TEXT SEARCH CONFIGURATION',
  'text search dictionary': 'TEXT SEARCH DICTIONARY',
  'foreign-data wrapper': 'FOREIGN DATA WRAPPER',
  server: 'SERVER',
  'event trigger': 'EVENT TRIGGER',
  publication: 'PUBLICATION',
  subscription: 'SUBSCRIPTION',
  'statistics object': 'STATISTICS',
  language: 'LANGUAGE',
};

/** ALTER <kind> … OWNER TO for an object pg_identify_object described; REASSIGN OWNED where ALTER has no such form. */
export function alterOwner(db: pg.Client, type: string | null, identity: string | null, owner: string, to: string): string {
  const kind = type ? OWNER_KEYWORDS[type] : undefined;
  if (!kind || !identity) return `REASSIGN OWNED BY ${db.escapeIdentifier(owner)} TO ${to};`;
  return `ALTER ${kind} ${identity} OWNER TO ${to};`;
}
