import type pg from 'pg';
import type { CredentialPolicy, Policy } from '../../policy/types.js';
import { sessionsOf, type Session } from '../catalog.js';
import { credentialRoles } from '../roles.js';
import type { Finding } from '../types.js';

/**
 * Rule 3, "the break-glass admin is not used by applications" (section 7, "confirm no app container
 * references it"), in the policy: a break-glass credential has no consumers, and no other
 * credential's store or consumer is handed its user.
 */
export function breakGlassPolicyFindings(policy: Policy, credential: CredentialPolicy): Finding[] {
  const findings: Finding[] = [];
  for (const consumer of credential.consumers) {
    findings.push({
      what: `break-glass credential ${credential.id} has a consumer (${consumer.path}): no application may use it`,
      severity: 'error',
      fixes: [
        `remove ${consumer.path} from the policy, and give that application its own least-privilege role (credential-rotation provision <credential>)`,
      ],
      facts: { consumer: consumer.path },
    });
  }
  const roles = credentialRoles(credential);
  for (const other of Object.values(policy.credentials)) {
    if (other.id === credential.id) continue;
    for (const spec of [...other.store, ...other.consumers]) {
      const user = roles.find((role) => namesUser(spec.options, role));
      if (!user) continue;
      findings.push({
        what: `${spec.path} hands the break-glass user ${user} to ${other.id}'s ${spec.kind}`,
        severity: 'error',
        fixes: [`give ${other.id} its own role instead of ${user} (credential-rotation provision ${other.id}), then change ${spec.path}`],
        facts: { target: spec.path, user },
      });
    }
  }
  return findings;
}

/**
 * The same rule in the live cluster: no session of the role but the audit's own connection and,
 * while a rotation of the role holds it, the rotation lock's session (identified by the locks it
 * holds, never by application_name, which any client sets). Each is reported with application
 * name, client address and start time; without pg_read_all_stats the server hides those details.
 */
export async function breakGlassSessionFindings(db: pg.Client, credential: CredentialPolicy, admin: string): Promise<Finding[]> {
  const { sessions, detailsVisible } = await sessionsOf(db, credentialRoles(credential));
  const foreign = sessions.filter((s) => !s.rotationLock);
  return foreign.map((s) => ({
    what: `session of ${s.user} open: ${describe(s, detailsVisible)}`,
    severity: 'error',
    fixes: [
      ...(detailsVisible ? [] : [`GRANT pg_read_all_stats TO ${db.escapeIdentifier(admin)}; (to see which application holds it)`]),
      `find the application${s.application ? ` "${s.application}"` : ''}${s.client ? ` at ${s.client}` : ''} and move it to its own role, then: SELECT pg_terminate_backend(${s.pid});`,
    ],
    facts: { pid: s.pid, user: s.user, database: s.database, application: s.application, client: s.client, started: s.started },
  }));
}

function describe(s: Session, visible: boolean): string {
  if (!visible) return `pid ${s.pid} (application, client and start hidden: the admin lacks pg_read_all_stats)`;
  return `pid ${s.pid}, application "${s.application ?? ''}", client ${s.client ?? 'local socket'}, database ${s.database ?? '-'}, since ${s.started ?? '?'}`;
}

/** Whether any string in the options names `role` as the user of a connection. */
function namesUser(options: unknown, role: string): boolean {
  const escaped = role.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const inUrl = new RegExp(`(?://|\\buser(?:name)?=)${escaped}(?=[:@&\\s/]|$)`);
  const walk = (value: unknown, key?: string): boolean => {
    if (typeof value === 'string') return inUrl.test(value) || (['user', 'db_user', 'dbuser'].includes(key ?? '') && value === role);
    if (Array.isArray(value)) return value.some((v) => walk(v));
    if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => walk(v, k));
    return false;
  };
  return walk(options);
}
