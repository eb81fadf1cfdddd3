import type { EvidenceRecord, OutcomeRecord } from '../evidence/record.js';
import type { Secret } from '../secret/secret.js';
import type { StagedChange } from '../methods/method.js';
import { withRetry } from '../http/retry.js';
import type { Adapters } from '../adapters/context.js';
import { describeError, RotationError } from './errors.js';
import { checkpoint } from './failpoints.js';
import type { Runtime } from './runtime.js';

/** Step 2: the new value to every store target, in policy order, recording each outcome. */
export async function writeStores(adapters: Adapters, value: Secret, change: StagedChange, out: OutcomeRecord[], runtime: Runtime): Promise<string> {
  for (const [i, { store, render }] of adapters.stores.entries()) {
    try {
      await checkpoint(runtime, `store.before.${i}`);
      // A provider-chosen value is already live and cannot be backed out: retry transient failures
      // (network, 5xx, 429) once more around the adapter's own retries, rather than fail with the
      // value held by fewer stores.
      if (change.reversible) await store.write(render(value));
      else {
        await withRetry(() => store.write(render(value)), {
          attempts: 5,
          sleep: runtime.sleep,
          deadline: runtime.deadline,
          now: () => runtime.now().getTime(),
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
    await checkpoint(runtime, `store.after.${i}`);
  }
  return `${adapters.stores.length} target(s) written: ${adapters.stores.map((s) => s.store.label).join('; ')}`;
}

/**
 * A failure before the commit: abort the staged change (the old value stays live) and write the
 * old value back to each target that already took the new one. Each restore is retried like any
 * write; one that still fails is recorded, and a rerun repairs it (`current` logs in there).
 */
export async function backOut(staged: StagedChange, adapters: Adapters, current: Secret | undefined, record: EvidenceRecord, runtime: Runtime): Promise<void> {
  const { reporter } = runtime;
  if (!staged.reversible) {
    record.notes.push('the provider had already changed the credential; stores that took the new value keep it');
    return;
  }
  try {
    await staged.abort();
    record.notes.push('change aborted: the old credential is still the live one');
  } catch (error) {
    record.notes.push(`aborting the change failed (${describeError(error)}); the old credential stays live unless the change was committed, and a rerun repairs it`);
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
      await store.write(render(current, staged.previousUser));
      entry.detail = 'new value written, then restored to the old value';
    } catch (error) {
      entry.detail = `restoring the old value failed: ${describeError(error)}; a rerun repairs it`;
      reporter.error(`${store.label}: restoring the old value failed: ${describeError(error)}`);
    }
  }
}
