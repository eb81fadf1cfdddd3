import type { StoreRecord } from '../evidence/record.js';
import type { Held } from '../stores/store.js';
import type { Secret } from '../secret/secret.js';
import type { StagedChange } from '../methods/method.js';
import { withRetry, runtimeRetry } from '../http/retry.js';
import type { Adapters } from '../registry/load-adapters.js';
import { describeError, RotationError } from '../errors/errors.js';
import { checkpoint } from './failpoints.js';
import { FailedWith, type StepDone } from './steps.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * Step 2: the new value to every store target, in policy order; each target's outcome is the
 * step's part of the record. A failure carries the outcomes so far (the target that failed last),
 * so a back-out knows which targets to put back.
 */
export async function writeStores(
  adapters: Adapters,
  value: Secret,
  change: StagedChange,
  runtime: Runtime,
): Promise<StepDone<StoreRecord[]>> {
  const written: StoreRecord[] = [];
  for (const [i, { store, render }] of adapters.stores.entries()) {
    try {
      await checkpoint(runtime, `store.before.${i}`);
      await writeOne(() => store.write(render(value)), store.label, change.reversible, runtime);
    } catch (error) {
      runtime.reporter.error(`${store.label}: ${describeError(error)}`);
      const failure = new RotationError(`writing ${store.label} failed: ${describeError(error)}`, {
        hint: change.reversible
          ? 'the change was not applied; each target written is put back as far as the run knows what it held'
          : undefined,
      });
      throw new FailedWith(failure, { stores: [...written, failedWrite(store.label, error)] });
    }
    written.push({ target: store.label, outcome: 'ok', detail: 'new value written' });
    await checkpoint(runtime, `store.after.${i}`).catch((error: unknown) => {
      throw new FailedWith(error, { stores: written });
    });
  }
  return { detail: `${adapters.stores.length} target(s) written: ${adapters.stores.map((s) => s.store.label).join('; ')}`, value: written };
}

/**
 * One target's write. A provider-chosen value is already live and cannot be backed out: transient
 * failures (network, 5xx, 429) are retried once more around the adapter's own retries, rather than
 * fail with the value held by fewer stores.
 */
async function writeOne(write: () => Promise<void>, label: string, reversible: boolean, runtime: Runtime): Promise<void> {
  if (reversible) return write();
  await withRetry(write, {
    ...runtimeRetry(runtime),
    attempts: 5,
    deadline: runtime.deadline,
    onRetry: (error, attempt, delay) =>
      runtime.reporter.warning(`${label}: ${describeError(error)}; retry ${attempt} in ${Math.round(delay / 1000)}s`),
  });
}

/**
 * A failed write's record. A network error, 5xx or 429 may have been applied before the reply was
 * lost: what the target holds is unknown (a back-out puts it back too); a definite refusal changed nothing.
 */
function failedWrite(target: string, error: unknown): StoreRecord {
  const mayHaveLanded = !(error instanceof RotationError) || error.retryable;
  return { target, outcome: 'failed', detail: describeError(error), ...(mayHaveLanded ? { holds: 'unknown' as const } : {}) };
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

/** What a back-out left: each target's record, settled, and notes for the evidence. */
export interface BackedOut {
  stores: StoreRecord[];
  notes: string[];
}

/**
 * A failure before the commit: abort the staged change (the old value stays live) and put each
 * target that was written (or whose write failed, and may have landed) back the way it was:
 * a readable target exactly as captured, absence included; a write-only one rewritten with the
 * value proven live. A value proven dead is never written; where the run cannot know what a
 * target held (write-only, no live value known) it says so instead of claiming a restore.
 * Targets are put back in reverse order, so two keys in one file come back byte for byte.
 * `reached`: the records of the targets the store step reached.
 */
export async function backOut(
  staged: StagedChange,
  adapters: Adapters,
  prior: Prior,
  reached: StoreRecord[],
  runtime: Runtime,
): Promise<BackedOut> {
  if (!staged.reversible) {
    const notes = ['the provider had already changed the credential; stores that took the new value keep it'];
    return { stores: settleStores(adapters, reached, 'live'), notes };
  }
  const notes = [await abortChange(staged)];
  const stores = reached.map((entry) => ({ ...entry }));
  for (const [i, { store, render }] of [...adapters.stores.entries()].reverse()) {
    const entry = stores.find((s) => s.target === store.label);
    if (entry)
      Object.assign(
        entry,
        await putBack(entry, prior.held[i], () => store.write(render(prior.live!, staged.previousUser)), prior, runtime),
      );
  }
  return { stores: settleStores(adapters, stores, 'never-live'), notes };
}

/** Aborts the staged change; the note says whether the old value is known to be the live one. */
async function abortChange(staged: StagedChange): Promise<string> {
  try {
    await staged.abort();
    return 'change aborted: the old credential is still the live one';
  } catch (error) {
    return `aborting the change failed (${describeError(error)}); the old credential stays live unless the change was committed, and a rerun repairs it`;
  }
}

/** One target put back: what it holds afterwards, and the detail that says so. */
async function putBack(
  entry: StoreRecord,
  held: Held | undefined,
  rewrite: () => Promise<void>,
  prior: Prior,
  runtime: Runtime,
): Promise<Pick<StoreRecord, 'holds' | 'detail'>> {
  const written = entry.outcome === 'ok';
  // A definite refusal (401, 403, 404, 422): the write-only target was not changed.
  if (!written && !held && entry.holds !== 'unknown') return { holds: 'unchanged', detail: entry.detail };
  const now = (holds: NonNullable<StoreRecord['holds']>, detail: string, wrote = true) => ({
    holds,
    detail: wrote ? detail : `${entry.detail}; ${detail.replace(/^new value written, then /, '')}`,
  });
  try {
    if (held) {
      await held.restore();
      const detail = held.value
        ? 'new value written, then restored to the old value'
        : `new value written, then taken out again (it held ${held.describe} before)`;
      return now('restored', detail, written);
    }
    if (prior.live) {
      await rewrite();
      return now('restored', 'new value written, then restored to the old value', written);
    }
    if (written)
      return now(
        'new value (never live)',
        'holds the new value, which never went live: the target is write-only and no value that logs in was known, so what it held is unknown and was not put back; a rerun repairs it',
      );
    return now(
      'unknown',
      `${entry.detail}; whether the write landed is unknown (write-only, and no value that logs in was known to rewrite)`,
    );
  } catch (error) {
    runtime.reporter.error(`${entry.target}: restoring the old value failed: ${describeError(error)}`);
    return now(
      written ? 'new value (never live)' : 'unknown',
      `restoring the old value failed: ${describeError(error)}; a rerun repairs it`,
    );
  }
}

/**
 * Every store target's record, with a `holds` saying what it holds now. `live`: the new value went
 * live (committed, or a provider's reset), so targets that took it hold it; a target the step never
 * reached holds what it held.
 */
export function settleStores(adapters: Adapters, stores: StoreRecord[], phase: 'live' | 'never-live'): StoreRecord[] {
  return adapters.stores.map(({ store }) => {
    const entry = stores.find((s) => s.target === store.label);
    if (!entry) return { target: store.label, outcome: 'skipped', detail: 'not written', holds: 'unchanged' };
    if (entry.holds) return entry;
    return { ...entry, holds: entry.outcome === 'ok' ? (phase === 'live' ? 'new value' : 'new value (never live)') : 'unchanged' };
  });
}

/** One line for the summary: what each target holds now. */
export function storesNow(stores: StoreRecord[]): string {
  return stores.map((s) => `${s.target}: ${s.holds ?? s.outcome}`).join('; ');
}
