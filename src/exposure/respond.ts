import type { Octokit } from '@octokit/rest';
import type { RotationRequest, RotationResult } from '../engine/rotate.js';
import { describeError } from '../errors/errors.js';
import type { Trigger } from '../evidence/record.js';
import type { RateWindow } from '../http/rate-window.js';
import type { Policy } from '../policy/types.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Secret } from '../secret/secret.js';
import { resolveAlert, type Alert } from './alerts.js';
import type { Planned } from './plan.js';
import { tryLeakedValue } from './proof.js';
import { updateExposureRecord, writeExposureRecord, type AlertRecord, type ExposureRecord } from './record.js';

export type Rotate = (policy: Policy, request: RotationRequest, runtime: Runtime) => Promise<RotationResult>;
type Acted = Extract<Planned, { action: 'rotate' | 'resolve' }>;

/** What became of one alert. */
export interface Handled {
  alert: Alert;
  resolved: boolean;
  detail: string;
  evidence?: string;
  /** Every record file this response wrote (exposure and rotation, JSON and Markdown). */
  records: string[];
}

/** GitHub shows a resolution comment in one line; kept short, it names the record and the run. */
const MAX_COMMENT = 280;

/**
 * The response for one credential: at most one rotation (reason exposure, through the engine)
 * however many alerts carry its values, then every alert whose value is proven refused is resolved
 * as revoked with a comment naming the evidence and the run. The exposure record is written
 * before the alerts are updated (so the comment can name it) and rewritten with what became of them.
 */
export async function respond(
  policy: Policy,
  credentialId: string,
  items: Acted[],
  ctx: { octokit: Octokit; runtime: Runtime; trigger: Trigger; rotate: Rotate; updates: RateWindow },
): Promise<Handled[]> {
  const { runtime } = ctx;
  const credential = policy.credentials[credentialId];
  const scrub = (text: string) => runtime.reporter.scrub(text);
  const rotating = items.find((i) => i.action === 'rotate' && i.current) ?? items.find((i) => i.action === 'rotate');
  const record: ExposureRecord = {
    schema: 'credential-rotation/exposure@1',
    credential: credential.id,
    system: credential.system,
    method: credential.method,
    trigger: ctx.trigger,
    started_at: runtime.now().toISOString(),
    finished_at: '',
    action: rotating ? 'rotate' : 'resolve',
    alerts: [],
    status: 'failed',
    summary: '',
  };
  const proofs = rotating ? await rotateFor(policy, credentialId, rotating.value, items, record, ctx) : items.map((i) => i.proof!);
  record.alerts = items.map((item, i): AlertRecord => ({
    repository: item.alert.repository,
    number: item.alert.number,
    url: item.alert.url,
    secret_type: item.alert.secretType,
    value: item.current ? 'current' : 'old',
    proof: { tried: proofs[i].tried, rejected: proofs[i].rejected, detail: proofs[i].detail },
    resolution: proofs[i].rejected ? 'pending' : 'left open',
    ...(proofs[i].rejected
      ? {}
      : {
          resolution_detail:
            record.rotation && record.rotation.status !== 'rotated'
              ? `the rotation failed: ${record.rotation.summary}`
              : 'the leaked value is not proven refused',
        }),
  }));
  record.finished_at = runtime.now().toISOString();
  let path: string;
  try {
    path = await writeExposureRecord(record, policy.evidenceDir, runtime.workspace, scrub);
  } catch (error) {
    // Without its record an alert is not resolved: the comment would name evidence that does not exist.
    const records = record.rotation?.record ? withMarkdown([record.rotation.record]) : [];
    return items.map((item) => ({
      alert: item.alert,
      resolved: false,
      detail: `the exposure record could not be written: ${describeError(error)}`,
      records,
    }));
  }
  const comment = scrub(commentFor(record, path));
  for (const entry of record.alerts.filter((a) => a.resolution === 'pending')) {
    const alert = items.find((i) => i.alert.repository === entry.repository && i.alert.number === entry.number)!.alert;
    try {
      await resolveAlert(ctx.octokit, runtime, alert, comment, ctx.updates);
      entry.resolution = 'resolved';
      entry.resolution_detail = 'revoked';
    } catch (error) {
      entry.resolution = 'left open';
      entry.resolution_detail = `the alert could not be updated: ${describeError(error)}`;
    }
  }
  const open = record.alerts.filter((a) => a.resolution !== 'resolved');
  record.status = open.length === 0 ? 'handled' : 'failed';
  record.summary = summaryOf(record, open.length);
  record.finished_at = runtime.now().toISOString();
  await updateExposureRecord(path, record, runtime.workspace, scrub).catch((error) =>
    runtime.reporter.warning(`${path}: could not be updated: ${describeError(error)}`),
  );
  const records = withMarkdown([path, ...(record.rotation?.record ? [record.rotation.record] : [])]);
  return record.alerts.map((entry, i) => ({
    alert: items[i].alert,
    resolved: entry.resolution === 'resolved',
    detail: entry.resolution === 'resolved' ? entry.proof.detail : (entry.resolution_detail ?? 'left open'),
    evidence: path,
    records,
  }));
}

/**
 * The one rotation, with the leaked value as `current` (so the engine proves that very value
 * refused), then each alert's own proof: its value presented again (a password as the login it
 * names, a key to the project API).
 */
async function rotateFor(
  policy: Policy,
  credentialId: string,
  value: Secret,
  items: Acted[],
  record: ExposureRecord,
  ctx: { runtime: Runtime; trigger: Trigger; rotate: Rotate },
) {
  const credential = policy.credentials[credentialId];
  const asCurrent: Policy = { ...policy, credentials: { ...policy.credentials, [credentialId]: { ...credential, current: value } } };
  let result: RotationResult;
  try {
    result = await ctx.rotate(
      asCurrent,
      { credential: credentialId, reason: 'exposure', dryRun: false, trigger: ctx.trigger },
      ctx.runtime,
    );
  } catch (error) {
    // The engine reports failures in its result; a throw is a run that could not start (adapters).
    record.rotation = { status: 'failed', summary: describeError(error) };
    return items.map(() => ({ tried: false, rejected: false, detail: 'not tried: the rotation failed' }));
  }
  record.rotation = { status: result.status, summary: result.summary, ...(result.evidencePath ? { record: result.evidencePath } : {}) };
  if (result.status !== 'rotated')
    return items.map(() => ({
      tried: false,
      rejected: false,
      detail: `not tried: the rotation ${result.status === 'skipped' ? 'was skipped' : 'failed'}`,
    }));
  const proofs = [];
  for (const item of items) {
    const own = await tryLeakedValue(policy, credentialId, item.value, item.user, ctx.runtime);
    // A value the source cannot be asked about directly: the rotation's own revocation proof covers the value it revoked.
    proofs.push(own.tried || !item.value.equals(value) ? own : result.record.old_credential);
  }
  return proofs;
}

const withMarkdown = (paths: string[]) => paths.flatMap((p) => [p, p.replace(/\.json$/, '.md')]);

function commentFor(record: ExposureRecord, path: string): string {
  const what =
    record.action === 'rotate'
      ? `rotated ${record.credential} (reason exposure); the leaked value is refused`
      : `the leaked value of ${record.credential} was already refused, no rotation needed`;
  const run = record.trigger.run_url ? ` Run: ${record.trigger.run_url}` : '';
  const full = `credential-rotation: ${what}. Evidence: ${path}${record.rotation?.record ? `, ${record.rotation.record}` : ''}.${run}`;
  return full.length <= MAX_COMMENT ? full : `credential-rotation: ${what}. Evidence: ${path}.${run}`.slice(0, MAX_COMMENT);
}

function summaryOf(record: ExposureRecord, open: number): string {
  const n = record.alerts.length;
  const how =
    record.action === 'rotate'
      ? record.rotation?.status === 'rotated'
        ? 'rotated with reason exposure'
        : `rotation ${record.rotation?.status ?? 'not run'}`
      : 'the leaked value was already refused';
  return open === 0 ? `${how}; ${n} alert(s) resolved as revoked` : `${how}; ${n - open} of ${n} alert(s) resolved, ${open} left open`;
}
