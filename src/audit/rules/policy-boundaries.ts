import type { CredentialPolicy, Policy, TargetSpec } from '../../policy/types.js';
import { targetIdentity } from '../../registry/registry.js';
import { credentialRoles } from '../roles.js';
import type { Finding } from '../types.js';

/**
 * Rule 5, boundaries the policy itself must keep (sections 4.2, 4.3 and 5), read from the policy
 * alone:
 * - a `superset-database` consumer gets only a `readonly` credential, and its URI logs in as that
 *   credential's role (Superset never writes);
 * - a `supabase-function-secrets` consumer never gets a credential of a database other than the
 *   Supabase project's own (a supabase system, or a postgres system with `exposed_schemas`):
 *   Edge Functions do not connect to Odoo's Postgres;
 * - a credential's secret goes only where the policy says: no other credential writes the same
 *   store target, and no other credential's store or consumer is given its current value.
 */
export function policyBoundaryFindings(policy: Policy, credential: CredentialPolicy): Finding[] {
  const findings: Finding[] = [];
  for (const consumer of credential.consumers) {
    if (consumer.kind === 'superset-database') findings.push(...supersetFindings(credential, consumer));
    if (consumer.kind === 'supabase-function-secrets' && !servesSupabase(policy, credential)) {
      findings.push({
        what: `${consumer.path} gives Edge Functions a credential of ${credential.system}, which is not the Supabase project: Supabase must not connect to that database (section 4.2)`,
        severity: 'error',
        fixes: [
          `remove ${consumer.path}; Edge Functions reach that system through its API (Odoo: XML-RPC), not with its database credential`,
        ],
        facts: { consumer: consumer.path, system: credential.system },
      });
    }
  }
  const mine = new Set(credential.store.map(targetIdentity));
  for (const other of Object.values(policy.credentials)) {
    if (other.id === credential.id) continue;
    for (const target of other.store) {
      if (!mine.has(targetIdentity(target))) continue;
      findings.push({
        what: `${target.path} writes the same store target as ${credential.id}: two credentials share one secret`,
        severity: 'error',
        fixes: [`give ${other.id} a secret of its own (change ${target.path})`],
        facts: { target: target.path, shared_with: other.id },
      });
    }
    const current = credential.current?.reveal();
    if (!current || current.length < 8) continue;
    for (const spec of [...other.store, ...other.consumers]) {
      if (!containsValue(spec.options, current)) continue;
      findings.push({
        what: `${spec.path} (of ${other.id}) is given ${credential.id}'s current value: its secret is shared with another service`,
        severity: 'error',
        fixes: [`give ${other.id}'s ${spec.kind} its own credential, not ${credential.id}'s (section 5: credential isolation)`],
        facts: { target: spec.path, shared_with: other.id },
      });
    }
  }
  return findings;
}

function supersetFindings(credential: CredentialPolicy, consumer: TargetSpec): Finding[] {
  const findings: Finding[] = [];
  if (credential.access !== 'readonly') {
    findings.push({
      what: `${consumer.path} gives Superset ${credential.id}, which is ${credential.access ? `declared ${credential.access}` : 'not declared readonly'}${credential.breakGlass ? ' and break-glass' : ''}: Superset reads only (section 4.3)`,
      severity: credential.access === undefined && !credential.breakGlass ? 'warning' : 'error',
      fixes:
        credential.access === undefined
          ? [`declare access: readonly on credentials.${credential.id} (and provision it so)`]
          : [`give Superset a readonly credential (like superset_ro) instead of ${credential.id}`],
      facts: { consumer: consumer.path, access: credential.access ?? null },
    });
  }
  const uri = typeof consumer.options.uri === 'string' ? consumer.options.uri : '';
  const user = /^[a-z0-9+]+:\/\/([^:@/]+)[:@]/i.exec(uri)?.[1];
  if (user && user !== '{user}' && !credentialRoles(credential).includes(decodeURIComponent(user))) {
    findings.push({
      what: `${consumer.path}.uri logs Superset in as ${decodeURIComponent(user)}, not as ${credential.role}: Superset would hold another role's password`,
      severity: 'error',
      fixes: [`use ${credential.method === 'alternating-roles' ? '{user}' : credential.role} as the user in ${consumer.path}.uri`],
      facts: { consumer: consumer.path, user: decodeURIComponent(user) },
    });
  }
  return findings;
}

function servesSupabase(policy: Policy, credential: CredentialPolicy): boolean {
  const system = policy.systems[credential.system];
  if (!system) return false;
  if (system.type === 'supabase') return true;
  return system.type === 'postgres' && 'exposedSchemas' in system && system.exposedSchemas.length > 0;
}

function containsValue(options: unknown, value: string): boolean {
  if (typeof options === 'string') return options.includes(value);
  if (options && typeof options === 'object' && 'reveal' in options && typeof (options as { reveal: unknown }).reveal === 'function') {
    return String((options as { reveal: () => string }).reveal()).includes(value);
  }
  if (Array.isArray(options)) return options.some((v) => containsValue(v, value));
  if (options && typeof options === 'object') return Object.values(options).some((v) => containsValue(v, value));
  return false;
}
