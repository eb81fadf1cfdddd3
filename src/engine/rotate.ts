import type { RunStatus } from '../evidence/record.js';
import type { Policy } from '../policy/types.js';
import { loadAdapters, type AdapterLoader } from '../registry/load-adapters.js';
import { describeError, RotationError } from '../errors/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { FailedWith, partsOf, StepLog } from './steps.js';
import { refuseAdminLockout, refuseEvidenceOutside } from './refusals.js';
import { maskPolicySecrets } from '../secret/policy-secrets.js';
import { scrubDeep, scrubError } from '../secret/scrubber.js';
import { checkpoint } from './failpoints.js';
import { boundedRuntime } from '../runtime/deadline.js';
import { backOut, settleStores, storesNow, writeStores, type Prior } from './store-writes.js';
import { generate, NOT_IN_DRY_RUN, preflight, revoke } from './source-steps.js';
import { evidenceStep, newRecord, result, type RotationRequest, type RotationResult } from './run-record.js';
import { checkHealth, refreshConsumers } from './rollout.js';

export type { RotationRequest, RotationResult } from './run-record.js';

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
      const { prior, notes } = await steps.run('preflight', () => {
        refuseEvidenceOutside(policy, runtime.workspace);
        return preflight(
          adapters,
          credential.current,
          (endpoints) => refuseAdminLockout(policy, credential, endpoints),
          (value) => reporter.mask(value),
          request.dryRun,
        );
      });
      record.notes.push(...notes);
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
