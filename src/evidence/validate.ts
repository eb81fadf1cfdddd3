import type { ErrorObject } from 'ajv';
import { recordedLogins, type EvidenceRecord } from './record.js';
import type { CredentialPolicy } from '../policy/types.js';
import { evidenceStamp, isRecordFileOf } from './write.js';
import { validate } from './schema-validator.js';

/** The checklist steps a `rotated` record lists, all ok (the evidence step writes the record). */
const ROTATED_STEPS = ['preflight', 'generate', 'store', 'apply', 'verify', 'consumers', 'health', 'revoke'];

/**
 * Why a file under the evidence folder does not count as a record, or undefined when it does. It
 * counts only if it validates against schema/evidence.schema.json, sits at
 * `<stamp>/db-rotation/<credential>[-N].json` where `<stamp>` is its own started_at, is not in
 * the future, and, for `rotated`, shows every step ok and the old credential tried and refused.
 * `place` is the path below the evidence folder, split into its parts.
 */
export function whyNotCounted(data: unknown, place: string[], now: Date): string | undefined {
  if (!validate(data)) {
    const errors = validate.errors ?? [];
    // A record with all its parts gets the plainer reason; anything less, the schema's.
    const incomplete = errors.some((e) => e.instancePath === '' && (e.keyword === 'required' || e.keyword === 'type'));
    return (incomplete ? undefined : recordProblem(data)) ?? schemaProblem(errors);
  }
  const record = data as unknown as EvidenceRecord;
  const stamp = evidenceStamp(new Date(record.started_at));
  const named = isRecordFileOf(place.at(-1) ?? '', record.credential);
  if (place.length !== 3 || place[1] !== 'db-rotation' || place[0] !== stamp || !named) {
    return `a record of ${record.credential} started at ${record.started_at} sits at ${stamp}/db-rotation/${record.credential}.json, not here`;
  }
  const started = Date.parse(record.started_at);
  const finished = Date.parse(record.finished_at);
  if (started > now.getTime() || finished > now.getTime()) return `it is dated in the future (${record.started_at})`;
  if (finished < started) return `it finished (${record.finished_at}) before it started (${record.started_at})`;
  return undefined;
}

/**
 * Why a valid record does not count for the credential as the policy defines it now, or undefined
 * when it does: its system, method, role and (alternating-roles) logins must be the policy's. A
 * record of another role (copied, or from before the policy changed) says nothing about this one.
 */
export function whyNotCurrent(record: EvidenceRecord, credential: CredentialPolicy): string | undefined {
  const logins = recordedLogins(credential);
  const differs = [
    record.system !== credential.system ? `system ${record.system} (the policy says ${credential.system})` : '',
    record.method !== credential.method ? `method ${record.method} (the policy says ${credential.method})` : '',
    record.role !== credential.role ? `role ${record.role} (the policy says ${credential.role})` : '',
    logins && record.logins?.join(',') !== logins.join(',')
      ? `${record.logins ? `logins ${record.logins.join(', ')}` : 'no logins'} (the policy says ${logins.join(', ')})`
      : '',
  ].filter(Boolean);
  if (differs.length === 0) return undefined;
  return `it is a record of ${record.credential} with ${differs.join(', ')}: not a rotation of the credential the policy defines now`;
}

/** The record's own claims that do not hold, in words (clearer than the schema's if/then verdict). */
function recordProblem(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const r = data as Partial<EvidenceRecord>;
  const old = r.old_credential;
  if (old && old.tried === false && old.rejected === true) return 'it says the old credential was refused without trying it';
  if (r.status !== 'rotated') return undefined;
  const steps = Array.isArray(r.steps) ? r.steps : [];
  for (const step of ROTATED_STEPS) {
    const found = steps.find((s) => s?.step === step);
    if (!found || found.outcome !== 'ok') return `it claims rotated, but step ${step} is ${found ? String(found.outcome) : 'missing'}`;
  }
  if (!old || old.tried !== true || old.rejected !== true) return 'it claims rotated, but the old credential was not tried and refused';
  return undefined;
}

function schemaProblem(errors: ErrorObject[]): string {
  const specific = errors.filter((e) => !['if', 'then', 'allOf', 'contains'].includes(e.keyword));
  const shown = (specific.length > 0 ? specific : errors)
    .slice(0, 3)
    .map((e) => `${e.instancePath || '(top level)'} ${e.message ?? e.keyword}`);
  return `it does not validate against schema/evidence.schema.json: ${shown.join('; ')}`;
}
