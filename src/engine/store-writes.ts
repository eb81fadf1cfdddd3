import type { EvidenceRecord, StoreRecord } from '../evidence/record.js';
import type { Held } from '../stores/store.js';
import type { Secret } from '../secret/secret.js';
import type { StagedChange } from '../methods/method.js';
import { withRetry, runtimeRetry } from '../http/retry.js';
import type { Adapters } from '../registry/load-adapters.js';
import { describeError, RotationError } from '../errors/errors.js';
import { checkpoint } from './failpoints.js';
import { FailedWith, type StepDone } from './steps.js';
import type { Runtime } from '../runtime/runtime.js';

/** Step 2: the new value to every store target, in policy order; each target's outcome is the step's part of the record. */
export async function writeStores(
  adapters: Adapters,
  value: Secret,
  change: StagedChange,
  runtime: Runtime,
): Promise<StepDone<StoreRecord[]>> {
  const out: StoreRecord[] = [];
  try {
    return { detail: await writeEach(adapters, value, change, out, runtime), value: out };
  } catch (error) {
    throw new FailedWith(error, { stores: out });
  }
}

async function writeEach(adapters: Adapters, value: Secret, change: StagedChange, out: StoreRecord[], runtime: Runtime): Promise<string> {
  for (const [i, { store, render }] of adapters.stores.entries()) {
    try {
      await checkpoint(runtime, `store.before.${i}`);
      // A provider-chosen value is already live and cannot be backed out: retry transient failures
      // (network, 5xx, 429) once more around the adapter's own retries, rather than fail with the
      // value held by fewer stores.
      if (change.reversible) await store.write(render(value));
      else {
        await withRetry(() => store.write(render(value)), {
          ...runtimeRetry(runtime),
          attempts: 5,
          deadline: runtime.deadline,
          onRetry: (error, attempt, delay) =>
            runtime.reporter.warning(`${store.label}: ${describeError(error)}; retry ${attempt} in ${Math.round(delay / 1000)}s`),
        });
      }
      out.push({ target: store.label, outcome: 'ok', detail: 'new value written' });
    } catch (error) {
      // A network error, 5xx or 429 may have been applied before the reply was lost: what the
      // target holds is unknown (a back-out puts it back too); a definite refusal changed nothing.
      const mayHaveLanded = !(error instanceof RotationError) || error.retryable;
      out.push({
        target: store.label,
        outcome: 'failed',
        detail: describeError(error),
        ...(mayHaveLanded ? { holds: 'unknown' as const } : {}),
      });
      runtime.reporter.error(`${store.label}: ${describeError(error)}`);
      throw new RotationError(`writing ${store.label} failed: ${describeError(error)}`, {
        hint: change.reversible
          ? 'the change was not applied; each target written is put back as far as the run knows what it held'
          : undefined,
      });
    }
    await checkpoint(runtime, `store.after.${i}`);
  }
  return `${adapters.stores.length} target(s) written: ${adapters.stores.map((s) => s.store.label).join('; ')}`;
}

/** What the run knew before it changed anything, for putting each store target back. */
export interface Prior {
  /** The value proven live before the change: `current`, or a readable target's value. Undefined when none was. */
  live?: Secret;
  /** Per store target (policy order): what a readable target held, undefined for write-only ones. */
  held: (Held | undefined)[];
}

/**
 * Before any change: what each readable target holds (masked at once), and, when `current` does
 * not log in, whether one of those values does; that one is then the current value (issue: a stale
 * `current` restored over a working file, or a file left holding a value never applied).
 */
export async function readPrior(
  adapters: Adapters,
  current: Secret | undefined,
  currentWorks: boolean,
  mask: (value: Secret) => void,
): Promise<Prior & { source?: string }> {
  const held: (Held | undefined)[] = [];
  for (const { store, public: holdsNoSecret } of adapters.stores) {
    const h = store.capture ? await store.capture() : undefined;
    // A login name is not a secret: masked, it would hide which login the evidence speaks of.
    if (h?.value && !holdsNoSecret) mask(h.value);
    held.push(h);
  }
  if (currentWorks) return { live: current, held };
  const tried: Secret[] = current ? [current] : [];
  for (const [i, { store, unrender }] of adapters.stores.entries()) {
    const bare = held[i]?.value && unrender(held[i]!.value!);
    if (!bare || !adapters.method.tryCurrent || tried.some((t) => t.equals(bare))) continue;
    mask(bare);
    tried.push(bare);
    if (await adapters.method.tryCurrent(bare)) return { live: bare, held, source: store.label };
  }
  return { held };
}

/**
 * A failure before the commit: abort the staged change (the old value stays live) and put each
 * target that was written (or whose write failed, and may have landed) back the way it was:
 * a readable target exactly as captured, absence included; a write-only one rewritten with the
 * value proven live. A value proven dead is never written; where the run cannot know what a
 * target held (write-only, no live value known) it says so instead of claiming a restore.
 * Targets are put back in reverse order, so two keys in one file come back byte for byte.
 */
export async function backOut(
  staged: StagedChange,
  adapters: Adapters,
  prior: Prior,
  record: Pick<EvidenceRecord, 'stores' | 'notes'>,
  runtime: Runtime,
): Promise<void> {
  const { reporter } = runtime;
  if (!staged.reversible) {
    record.notes.push('the provider had already changed the credential; stores that took the new value keep it');
    settleStores(adapters, record, 'live');
    return;
  }
  try {
    await staged.abort();
    record.notes.push('change aborted: the old credential is still the live one');
  } catch (error) {
    record.notes.push(
      `aborting the change failed (${describeError(error)}); the old credential stays live unless the change was committed, and a rerun repairs it`,
    );
  }
  for (const [i, { store, render }] of [...adapters.stores.entries()].reverse()) {
    const entry = record.stores.find((s) => s.target === store.label);
    if (!entry) continue;
    const written = entry.outcome === 'ok';
    const held = prior.held[i];
    if (!written && !held && entry.holds !== 'unknown') {
      // A definite refusal (401, 403, 404, 422): the write-only target was not changed.
      entry.holds = 'unchanged';
      continue;
    }
    try {
      if (held) {
        await held.restore();
        setHolds(
          entry,
          'restored',
          held.value
            ? 'new value written, then restored to the old value'
            : `new value written, then taken out again (it held ${held.describe} before)`,
          written,
        );
      } else if (prior.live) {
        await store.write(render(prior.live, staged.previousUser));
        setHolds(entry, 'restored', 'new value written, then restored to the old value', written);
      } else if (written) {
        setHolds(
          entry,
          'new value (never live)',
          'holds the new value, which never went live: the target is write-only and no value that logs in was known, so what it held is unknown and was not put back; a rerun repairs it',
        );
      } else {
        setHolds(
          entry,
          'unknown',
          `${entry.detail}; whether the write landed is unknown (write-only, and no value that logs in was known to rewrite)`,
        );
      }
    } catch (error) {
      setHolds(
        entry,
        written ? 'new value (never live)' : 'unknown',
        `restoring the old value failed: ${describeError(error)}; a rerun repairs it`,
      );
      reporter.error(`${store.label}: restoring the old value failed: ${describeError(error)}`);
    }
  }
  settleStores(adapters, record, 'never-live');
}

/**
 * Every store target gets a `holds` entry saying what it holds now. `live`: the new value went
 * live (committed, or a provider's reset), so targets that took it hold it.
 */
export function settleStores(adapters: Adapters, record: Pick<EvidenceRecord, 'stores'>, phase: 'live' | 'never-live'): void {
  for (const { store } of adapters.stores) {
    const entry = record.stores.find((s) => s.target === store.label);
    if (!entry) record.stores.push({ target: store.label, outcome: 'skipped', detail: 'not written', holds: 'unchanged' });
    else if (!entry.holds) entry.holds = entry.outcome === 'ok' ? (phase === 'live' ? 'new value' : 'new value (never live)') : 'unchanged';
  }
}

/** One line for the summary: what each target holds now. */
export function storesNow(record: Pick<EvidenceRecord, 'stores'>): string {
  return record.stores.map((s) => `${s.target}: ${s.holds ?? s.outcome}`).join('; ');
}

function setHolds(entry: StoreRecord, holds: NonNullable<StoreRecord['holds']>, detail: string, written = true): void {
  entry.holds = holds;
  entry.detail = written ? detail : `${entry.detail}; ${detail.replace(/^new value written, then /, '')}`;
}
