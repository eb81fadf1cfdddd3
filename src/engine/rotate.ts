import type { EvidenceRecord, OutcomeRecord, Reason, RunStatus, Trigger } from '../evidence/record.js';
import type { Policy } from '../policy/types.js';
import { generatePassword } from '../secret/generate.js';
import type { Secret } from '../secret/secret.js';
import type { StagedChange } from '../methods/method.js';
import { buildAdapters, type Adapters } from './adapters.js';
import { describeError, RotationError } from './errors.js';
import type { Runtime } from './runtime.js';
import { StepLog } from './steps.js';
import { isDue } from '../evidence/history.js';
import { writeEvidence } from '../evidence/write.js';
import { withRetry } from '../http/retry.js';

export interface RotationRequest {
  credential: string;
  reason: Reason;
  dryRun: boolean;
  trigger: Trigger;
}

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
 */
export async function rotateCredential(policy: Policy, request: RotationRequest, runtime: Runtime): Promise<RotationResult> {
  const { reporter } = runtime;
  const credential = policy.credentials[request.credential];
  if (!credential) {
    throw new RotationError(`unknown credential '${request.credential}'`, {
      hint: `${policy.file} defines: ${Object.keys(policy.credentials).join(', ')}`,
    });
  }
  // Invariant 2: the old value is masked before anything else happens.
  if (credential.current) reporter.mask(credential.current);

  const startedAt = runtime.now();
  const steps = new StepLog(reporter, runtime.now);
  const record = newRecord(policy, request, startedAt);
  const adapters = buildAdapters(policy, credential.id, runtime, request.reason);
  let staged: StagedChange | undefined;
  let changeStarted = false;
  let committed = false;

  try {
    // Preflight: everything is checked before anything is changed (invariant 5).
    if (request.reason === 'scheduled' && !request.dryRun) {
      const due = isDue(policy, credential, runtime.workspace, startedAt);
      if (!due.due) return await finish('skipped', `not due: ${due.detail}`);
    }
    await steps.run('preflight', () => preflight(adapters, credential.current, record.notes));
    if (request.dryRun) {
      return await finish('skipped', `dry run: preflight passed; a rotation would write ${adapters.stores.length} store target(s), refresh ${adapters.consumers.length} consumer(s) and run ${adapters.probes.length} health check(s)`);
    }

    changeStarted = true;
    await steps.run('generate', async () => {
      staged = await generateAndStage(adapters, credential.length, (value) => reporter.mask(value));
      return staged.reversible ? `new value generated and staged at ${adapters.method.name}, not yet live` : `new value issued by ${adapters.method.name}`;
    });
    const change = staged!;
    const newValue = change.value;

    await steps.run('store', () => writeStores(adapters, newValue, credential.current, change, record.stores, runtime));
    await steps.run('apply', async () => {
      const detail = await change.commit();
      committed = true;
      return detail;
    });
    await steps.run('verify', () => adapters.method.verifyNew(newValue));
    await steps.run('consumers', () => refreshConsumers(adapters, newValue, record.consumers));
    await steps.run('health', () => checkHealth(adapters, newValue, record.health));
    await steps.run('revoke', async () => {
      const proof = await adapters.method.revokeOld(credential.current, request.reason);
      record.old_credential = proof;
      if (!proof.rejected) throw new RotationError(`the old credential was not refused: ${proof.detail}`);
      return proof.detail;
    });
    return await finish('rotated', `rotated: ${adapters.stores.length} store target(s) hold the new value, old value refused`);
  } catch (error) {
    if (staged && !committed) await backOut(staged, adapters, credential.current, record, runtime);
    return await finish('failed', describeError(error));
  } finally {
    await adapters.method.close().catch((error) => reporter.warning(`closing ${adapters.method.name}: ${describeError(error)}`));
  }

  async function finish(status: RunStatus, summary: string): Promise<RotationResult> {
    steps.skipRemaining(status === 'failed' ? 'not run: an earlier step failed' : summary);
    record.status = status;
    record.summary = summary;
    let evidencePath: string | undefined;
    // A run that stopped before changing anything (preflight, dry run, not due) leaves no record.
    if (status === 'rotated' || (status === 'failed' && changeStarted)) {
      await steps.run('evidence', async () => {
        record.steps = steps.records;
        record.finished_at = runtime.now().toISOString();
        evidencePath = await writeEvidence(record, policy.evidenceDir, runtime.workspace);
        return `written to ${evidencePath}`;
      }).catch((error) => {
        record.status = 'failed';
        record.summary = `evidence not written: ${describeError(error)}`;
      });
    }
    record.steps = steps.records;
    record.finished_at ??= runtime.now().toISOString();
    if (record.status === 'failed') reporter.error(`${credential!.id}: ${record.summary}`);
    else reporter.info(`${credential!.id}: ${record.summary}`);
    return {
      status: record.status,
      rotatedAt: record.status === 'rotated' ? record.finished_at : undefined,
      evidencePath,
      summary: record.summary,
      record,
    };
  }
}

async function preflight(adapters: Adapters, current: Secret | undefined, notes: string[]): Promise<string> {
  const report = await adapters.method.preflight(current);
  notes.push(...report.notes);
  for (const store of adapters.stores) await store.store.check();
  for (const consumer of adapters.consumers) await consumer.check();
  if (!report.currentWorks) {
    notes.push(
      current
        ? 'the current value no longer logs in (drift or a half-done earlier run): rotating on the admin authority'
        : 'no current value given: rotating on the admin authority',
    );
  }
  return `${adapters.method.name} ready; ${adapters.stores.length} store target(s) and ${adapters.consumers.length} consumer(s) reachable${report.currentWorks ? '; current value logs in' : '; current value does not log in, proceeding on admin authority'}`;
}

async function generateAndStage(adapters: Adapters, length: number | undefined, mask: (value: Secret) => void): Promise<StagedChange> {
  let chosen: Secret | undefined;
  if (adapters.method.generates === 'client') {
    chosen = generatePassword(length);
    mask(chosen);
  }
  const staged = await adapters.method.stage(chosen);
  mask(staged.value);
  return staged;
}

async function writeStores(
  adapters: Adapters,
  value: Secret,
  current: Secret | undefined,
  change: StagedChange,
  out: OutcomeRecord[],
  runtime: Runtime,
): Promise<string> {
  for (const { store, render } of adapters.stores) {
    try {
      // A provider-chosen value is already live and cannot be backed out: retry transient failures
      // (network, 5xx, 429) rather than fail with the value held by fewer stores.
      if (change.reversible) await store.write(render(value));
      else {
        await withRetry(() => store.write(render(value)), {
          attempts: 5,
          sleep: runtime.sleep,
          onRetry: (error, attempt, delay) => runtime.reporter.warning(`${store.label}: ${describeError(error)}; retry ${attempt} in ${Math.round(delay / 1000)}s`),
        });
      }
      out.push({ target: store.label, outcome: 'ok', detail: 'new value written' });
    } catch (error) {
      out.push({ target: store.label, outcome: 'failed', detail: describeError(error) });
      runtime.reporter.error(`${store.label}: ${describeError(error)}`);
      throw new RotationError(`writing ${store.label} failed: ${describeError(error)}`, {
        hint: change.reversible ? 'the change was not applied; the targets already written are restored' : undefined,
      });
    }
  }
  void current;
  return `${adapters.stores.length} target(s) written: ${adapters.stores.map((s) => s.store.label).join('; ')}`;
}

async function refreshConsumers(adapters: Adapters, value: Secret, out: OutcomeRecord[]): Promise<string> {
  if (adapters.consumers.length === 0) return 'no consumers configured';
  for (const consumer of adapters.consumers) {
    try {
      const detail = await consumer.refresh(value);
      out.push({ target: consumer.label, outcome: 'ok', detail });
    } catch (error) {
      out.push({ target: consumer.label, outcome: 'failed', detail: describeError(error) });
      throw new RotationError(`refreshing ${consumer.label} failed: ${describeError(error)}`, {
        hint: 'the new credential is live and stored everywhere; fix the consumer and rerun to finish',
      });
    }
  }
  return `${adapters.consumers.length} consumer(s) refreshed`;
}

async function checkHealth(adapters: Adapters, value: Secret, out: OutcomeRecord[]): Promise<string> {
  if (adapters.probes.length === 0) return 'no health checks configured';
  const failures: string[] = [];
  for (const probe of adapters.probes) {
    try {
      out.push({ target: probe.label, outcome: 'ok', detail: await probe.probe(value) });
    } catch (error) {
      out.push({ target: probe.label, outcome: 'failed', detail: describeError(error) });
      failures.push(`${probe.label}: ${describeError(error)}`);
    }
  }
  if (failures.length > 0) throw new RotationError(`health check failed: ${failures.join('; ')}`);
  return `${adapters.probes.length} health check(s) passed`;
}

/**
 * A failure before the commit: abort the staged change (the old value stays live) and write the
 * old value back to each target that already took the new one.
 */
async function backOut(staged: StagedChange, adapters: Adapters, current: Secret | undefined, record: EvidenceRecord, runtime: Runtime): Promise<void> {
  const { reporter } = runtime;
  if (!staged.reversible) {
    record.notes.push('the provider had already changed the credential; stores that took the new value keep it');
    return;
  }
  try {
    await staged.abort();
    record.notes.push('change aborted: the old credential is still the live one');
  } catch (error) {
    record.notes.push(`aborting the change failed (${describeError(error)}); a rerun repairs it`);
  }
  const written = new Set(record.stores.filter((s) => s.outcome === 'ok').map((s) => s.target));
  for (const { store, render } of adapters.stores) {
    if (!written.has(store.label)) continue;
    const entry = record.stores.find((s) => s.target === store.label)!;
    if (!current) {
      entry.detail = 'holds the unused new value; no current value was given to restore';
      continue;
    }
    try {
      await store.write(render(current));
      entry.detail = 'new value written, then restored to the old value';
    } catch (error) {
      entry.detail = `restoring the old value failed: ${describeError(error)}; a rerun repairs it`;
      reporter.error(`${store.label}: restoring the old value failed: ${describeError(error)}`);
    }
  }
}

function newRecord(policy: Policy, request: RotationRequest, startedAt: Date): EvidenceRecord {
  const credential = policy.credentials[request.credential];
  return {
    schema: 'credential-rotation/evidence@1',
    credential: credential.id,
    system: credential.system,
    method: credential.method,
    role: credential.role,
    reason: request.reason,
    trigger: request.trigger,
    started_at: startedAt.toISOString(),
    finished_at: undefined as unknown as string,
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
