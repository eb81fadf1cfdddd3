import { recordedLogins, type EvidenceRecord, type Reason, type RunStatus, type Trigger } from '../evidence/record.js';
import type { Policy } from '../policy/types.js';
import { generatePassword } from '../secret/generate.js';
import type { Secret } from '../secret/secret.js';
import type { RevocationProof, StagedChange } from '../methods/method.js';
import type { Endpoint } from '../postgres/url.js';
import { loadAdapters, type Adapters, type AdapterLoader } from '../registry/load-adapters.js';
import { describeError, RotationError } from '../errors/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { FailedWith, partsOf, StepLog, type RecordParts, type StepDone } from './steps.js';
import { refuseAdminLockout, refuseEvidenceOutside } from './refusals.js';
import { writeEvidence } from '../evidence/write.js';
import { maskPolicySecrets } from '../secret/policy-secrets.js';
import { scrubDeep, scrubError } from '../secret/scrubber.js';
import { checkpoint } from './failpoints.js';
import { boundedRuntime } from '../runtime/deadline.js';
import { backOut, readPrior, settleStores, storesNow, writeStores, type Prior } from './store-writes.js';
import { checkHealth, refreshConsumers } from './rollout.js';

export interface RotationRequest {
  credential: string;
  reason: Reason;
  dryRun: boolean;
  trigger: Trigger;
}

/** The record while the run goes: complete once it has finished (`finished_at`). */
type RecordDraft = Omit<EvidenceRecord, 'finished_at'> & { finished_at?: string };

export interface RotationResult {
  status: RunStatus;
  rotatedAt?: string;
  evidencePath?: string;
  summary: string;
  record: EvidenceRecord;
}

/**
 * Rotates one credential through the checklist. Read top to bottom, this is the checklist:
 * preflight, generate, store, apply, verify, consumers, health, revoke, evidence.
 *
 * No lockout (invariant 1): the new value is written to every store while the change at the
 * source is still staged (for Postgres, an ALTER ROLE inside an open transaction). Only when every
 * store holds it is the change committed. A failure before the commit aborts the change and writes
 * the old value back to the targets already written; a crash before the commit leaves the old
 * value live and some stores ahead, which a rerun repairs: `current` then no longer logs in and
 * the rerun rotates on the admin authority.
 *
 * Every boundary between the steps is a named checkpoint (engine/failpoints.ts): the fault-injection
 * suite (test/faults) fails each one in every way it knows and checks the invariant above holds.
 * The run has an overall deadline (runtime.deadline): no wait passes it (runtime/deadline.ts).
 */
export async function rotateCredential(
  policy: Policy,
  request: RotationRequest,
  given: Runtime,
  load: AdapterLoader = loadAdapters,
): Promise<RotationResult> {
  const { reporter } = given;
  const scrub = (text: string) => reporter.scrub(text);
  // Invariant 2: every secret the policy brings (old value, tokens, keys) is masked before
  // anything else happens; whatever leaves the run passes the reporter's one scrubber.
  maskPolicySecrets(policy, (secret) => reporter.mask(secret));
  if (given.githubToken) reporter.mask(given.githubToken);
  try {
    const result = await runChecklist(policy, request, given, load);
    return {
      ...result,
      summary: scrub(result.summary),
      evidencePath: result.evidencePath && scrub(result.evidencePath),
      record: scrubDeep(result.record, scrub),
    };
  } catch (error) {
    throw scrubError(error, scrub);
  }
}

async function runChecklist(policy: Policy, request: RotationRequest, given: Runtime, load: AdapterLoader): Promise<RotationResult> {
  const runtime = boundedRuntime(given);
  const { reporter } = runtime;
  const credential = policy.credentials[request.credential];
  if (!credential) {
    throw new RotationError(`unknown credential '${request.credential}'`, {
      hint: `${policy.file} defines: ${Object.keys(policy.credentials).join(', ')}`,
      code: 'USAGE',
    });
  }
  // Invariant 2: the old value is masked before anything else happens (again: a policy built by hand).
  if (credential.current) reporter.mask(credential.current);

  const startedAt = runtime.now();
  const steps = new StepLog(reporter, runtime.now);
  const record = newRecord(policy, request, startedAt);
  const adapters = await load(policy, credential.id, runtime, request.reason);
  const conclude = (status: RunStatus, summary: string, evidencePath?: string) =>
    result(record, steps, runtime, status, summary, evidencePath);
  const recordEvidence = (status: RunStatus, summary: string) =>
    evidenceStep(record, steps, runtime, policy, status, summary).then((path) => conclude(record.status, record.summary, path));
  /**
   * Preflight: everything is checked before anything is changed (invariant 5). A run that stops
   * here (not due, a failed check) changed nothing and leaves no evidence. Otherwise it knows what
   * each target held and which value was live before the change.
   */
  const checkBeforeChange = async (): Promise<{ prior: Prior } | { stop: RotationResult }> => {
    try {
      if (request.reason === 'scheduled' && !request.dryRun) {
        // The history reader (and the evidence schema's validator) loads only for scheduled runs.
        const { isDue } = await import('../evidence/history.js');
        const due = isDue(policy, credential, runtime.workspace, startedAt, (message) => reporter.warning(`evidence ${message}`));
        if (!due.due) return { stop: conclude('skipped', `not due: ${due.detail}`) };
      }
      const prior = await steps.run('preflight', () => {
        refuseEvidenceOutside(policy, runtime.workspace);
        return preflight(
          adapters,
          credential.current,
          record.notes,
          (endpoints) => refuseAdminLockout(policy, credential, endpoints),
          (value) => reporter.mask(value),
          request.dryRun,
        );
      });
      return { prior };
    } catch (error) {
      return { stop: conclude('failed', describeError(error)) };
    }
  };

  try {
    const checked = await checkBeforeChange();
    if ('stop' in checked) return checked.stop;
    const { prior } = checked;
    if (request.dryRun) {
      // Invariant 6: a dry run writes to no system; what the preflight left out for that is said.
      const skipped = record.notes.filter((n) => n.startsWith(NOT_IN_DRY_RUN));
      return conclude(
        'skipped',
        `dry run: preflight passed; a rotation would write ${adapters.stores.length} store target(s), refresh ${adapters.consumers.length} consumer(s) and run ${adapters.probes.length} health check(s)${skipped.length ? `. ${skipped.join('. ')}` : ''}`,
      );
    }

    try {
      const change = await steps.run('generate', () => generate(adapters, credential.length, (value) => reporter.mask(value)));
      const newValue = change.value;
      // Until the change is applied, a failure backs it out: the old value stays live (invariant 1).
      // (The targets to put back: those the store step wrote, or, when it failed, those it reached.)
      const backingOut = async (error: unknown): Promise<never> => {
        const undone = await backOut(change, adapters, prior, partsOf(error).stores ?? record.stores, runtime);
        record.notes.push(...undone.notes);
        throw new FailedWith(error, { ...partsOf(error), stores: undone.stores });
      };
      record.stores = await steps.run('store', () => writeStores(adapters, newValue, change, runtime).catch(backingOut));
      await steps.run('apply', async () => {
        const detail = await checkpoint(runtime, 'apply.before')
          .then(() => change.apply())
          .catch(backingOut);
        await checkpoint(runtime, 'apply.after');
        return detail;
      });
      const verified = await steps.run('verify', async () => {
        await checkpoint(runtime, 'verify.before');
        const seen = await adapters.method.verify(newValue);
        return { detail: seen.detail, value: seen };
      });
      // A method whose verify also proved the old value refused (supabase-db-password) says so here.
      if (verified.old) record.old_credential = verified.old;
      const { live } = verified;
      record.consumers = await steps.run('consumers', () => refreshConsumers(adapters, newValue, runtime));
      record.health = await steps.run('health', () => checkHealth(adapters, newValue, live, runtime));
      // The value proven live before the change (current, or a store's), else `current` as given.
      Object.assign(record, await steps.run('revoke', () => revoke(adapters, prior.live ?? credential.current, request.reason, runtime)));
      record.stores = settleStores(adapters, record.stores, 'live');
      return await recordEvidence('rotated', `rotated: ${adapters.stores.length} store target(s) hold the new value, old value refused`);
    } catch (error) {
      // The failed step's part of the record (the targets it reached, every consumer's or probe's outcome).
      Object.assign(record, partsOf(error));
      // A failure before the change went live was backed out, which said what each target holds
      // (a failed generate wrote none); after it, the targets that took the new value hold it live.
      record.stores = settleStores(adapters, record.stores, 'live');
      const why = describeError(error).replace(/\.$/, '');
      // Honest about the old value: a change that replaced it (verify or revoke proved it refused) leaves nothing to fall back to.
      const old = record.old_credential.rejected ? ` The old value no longer works (${record.old_credential.detail}).` : '';
      return await recordEvidence(
        'failed',
        record.stores.length > 0 ? `${why}. Store targets now: ${storesNow(record.stores)}.${old}` : `${why}${old}`,
      );
    }
  } finally {
    await adapters.method.close().catch((error) => reporter.warning(`closing ${adapters.method.name}: ${describeError(error)}`));
  }
}

/** How a note about a proof a dry run did not make begins. */
const NOT_IN_DRY_RUN = 'not done in a dry run:';

/** Step 7: the old value revoked and proven refused; on exposure the evidence names what was cut off. */
async function revoke(adapters: Adapters, current: Secret | undefined, reason: Reason, runtime: Runtime): Promise<StepDone<RecordParts>> {
  await checkpoint(runtime, 'revoke.before');
  const proof = await adapters.method.revoke(current, reason);
  // An exposure run is an incident: the evidence says what was cut off (sessions, keys), and what
  // survived the cut-off, which fails the run: the credential changed, the attacker may not have left.
  const parts: RecordParts = {
    old_credential: proof,
    ...(reason === 'exposure'
      ? {
          incident: {
            exposure: true,
            cut_off: proof.cut_off ?? [],
            ...(proof.survived?.length ? { survived: proof.survived, grants: proof.grants ?? [] } : {}),
          },
        }
      : {}),
  };
  try {
    // Success means done (SPEC invariant 3): rotated only when the old value was tried and refused.
    if (!proof.tried) {
      throw new RotationError(`the old credential was not tried: ${proof.detail}`, {
        hint: 'the new value is stored everywhere and live; set current (the variable behind it) so a rerun proves the old value refused',
      });
    }
    if (!proof.rejected) throw new RotationError(`the old credential was not refused: ${proof.detail}`);
    if (proof.survived?.length) throw survivorsError(proof);
    await checkpoint(runtime, 'revoke.after');
  } catch (error) {
    throw new FailedWith(error, parts);
  }
  return { detail: proof.detail, value: parts };
}

/**
 * Step 8, after a run that changed something (rotated, or failed after the change started): the
 * record written to the evidence folder. Returns its path; a failure to write it fails the run.
 */
async function evidenceStep(
  record: RecordDraft,
  steps: StepLog,
  runtime: Runtime,
  policy: Policy,
  status: RunStatus,
  summary: string,
): Promise<string | undefined> {
  close(record, steps, status, summary);
  try {
    return await steps.run('evidence', async () => {
      await checkpoint(runtime, 'evidence.before');
      const finished: EvidenceRecord = { ...record, steps: steps.records, finished_at: runtime.now().toISOString() };
      record.finished_at = finished.finished_at;
      const path = await writeEvidence(finished, policy.evidenceDir, runtime.workspace, (text) => runtime.reporter.scrub(text));
      return { detail: `written to ${path}`, value: path };
    });
  } catch (error) {
    record.status = 'failed';
    record.summary = `evidence not written: ${describeError(error)}`;
    return undefined;
  }
}

/** Marks the steps not run and sets the outcome (the evidence step, when it runs, records this). */
function close(record: RecordDraft, steps: StepLog, status: RunStatus, summary: string): void {
  if (record.summary !== '') return;
  steps.skipRemaining(status === 'failed' ? 'not run: an earlier step failed' : summary);
  record.status = status;
  record.summary = summary;
}

/** The run's result and its last log line. */
function result(
  draft: RecordDraft,
  steps: StepLog,
  runtime: Runtime,
  status: RunStatus,
  summary: string,
  evidencePath: string | undefined,
): RotationResult {
  close(draft, steps, status, summary);
  const record: EvidenceRecord = { ...draft, steps: steps.records, finished_at: draft.finished_at ?? runtime.now().toISOString() };
  if (record.status === 'failed') runtime.reporter.error(`${record.credential}: ${record.summary}`);
  else runtime.reporter.info(`${record.credential}: ${record.summary}`);
  return {
    status: record.status,
    rotatedAt: record.status === 'rotated' ? record.finished_at : undefined,
    evidencePath,
    summary: record.summary,
    record,
  };
}

async function preflight(
  adapters: Adapters,
  current: Secret | undefined,
  notes: string[],
  refuseEndpoints: (endpoints: Endpoint[]) => void,
  mask: (value: Secret) => void,
  dryRun: boolean,
): Promise<StepDone<Prior>> {
  // The checks only read, so they run side by side; a failure is reported as it would be one by
  // one (the method's first, then the stores' and the consumers' in policy order).
  const [method, ...checks] = await Promise.allSettled([
    adapters.method.preflight(current),
    ...adapters.stores.map((target) => target.store.check()),
    ...adapters.consumers.map((consumer) => consumer.check(dryRun)),
  ]);
  if (method.status === 'rejected') throw method.reason;
  const report = method.value;
  refuseEndpoints(report.endpoints ?? []);
  const failed = checks.find((check) => check.status === 'rejected');
  if (failed) throw failed.reason;
  // Invariant 1: what each readable target holds is known before anything changes, and a stored
  // value that logs in is the current one when `current` does not.
  const prior = await readPrior(adapters, current, report.currentWorks, mask);
  notes.push(...report.notes);
  // A dry run writes to no system: what a consumer's check left out for that, and why.
  for (const [i, consumer] of adapters.consumers.entries()) {
    const left = (checks[adapters.stores.length + i] as PromiseFulfilledResult<string | void>).value;
    if (dryRun && left) notes.push(`${NOT_IN_DRY_RUN} ${consumer.label}: ${left}`);
  }
  let state = report.currentWorks ? 'current value logs in' : 'current value does not log in, proceeding on admin authority';
  if (prior.source) {
    notes.push(
      `${current ? 'the current value no longer logs in' : 'no current value given'}, but the value ${prior.source} holds does: it is taken as the current value (for the back-out and the proof that it is refused)`,
    );
    state = `the value ${prior.source} holds logs in and is taken as the current one`;
  } else if (!report.currentWorks) {
    notes.push(
      current
        ? 'the current value no longer logs in (drift or a half-done earlier run): rotating on the admin authority'
        : 'no current value given: rotating on the admin authority',
    );
  }
  return {
    detail: `${adapters.method.name} ready; ${adapters.stores.length} store target(s) and ${adapters.consumers.length} consumer(s) reachable; ${state}`,
    value: prior,
  };
}

/** Exposure: the new value is live and the old one refused, but sessions opened with the old one remain. */
function survivorsError(proof: RevocationProof): RotationError {
  const survived = proof.survived!;
  return new RotationError(
    `exposure: the password changed and the old one is refused, but ${survived.length} session(s) that may have been opened with it are still open: ${survived.join('; ')}`,
    {
      hint: proof.grants?.length
        ? `as a superuser: ${proof.grants.join('; ')}; then end them (SELECT pg_terminate_backend(pid)) or rerun with reason exposure`
        : 'end them (SELECT pg_terminate_backend(pid)) or rerun with reason exposure',
    },
  );
}

/** Step 1: the new value, generated here or issued by the source, and staged there (not yet live where the source allows). */
async function generate(adapters: Adapters, length: number | undefined, mask: (value: Secret) => void): Promise<StepDone<StagedChange>> {
  const chosen = adapters.method.generates === 'client' ? generatePassword(length) : undefined;
  if (chosen) mask(chosen);
  const staged = await adapters.method.generate(chosen);
  mask(staged.value);
  const { name } = adapters.method;
  return {
    value: staged,
    detail:
      staged.detail ?? (staged.reversible ? `new value generated and staged at ${name}, not yet live` : `new value issued by ${name}`),
  };
}

function newRecord(policy: Policy, request: RotationRequest, startedAt: Date): RecordDraft {
  const credential = policy.credentials[request.credential];
  const logins = recordedLogins(credential);
  return {
    schema: 'credential-rotation/evidence@1',
    credential: credential.id,
    system: credential.system,
    method: credential.method,
    role: credential.role,
    ...(logins ? { logins } : {}),
    reason: request.reason,
    trigger: request.trigger,
    started_at: startedAt.toISOString(),
    status: 'failed',
    summary: '',
    steps: [],
    stores: [],
    consumers: [],
    health: [],
    old_credential: { tried: false, rejected: false, detail: 'not tried' },
    notes: [],
  };
}
