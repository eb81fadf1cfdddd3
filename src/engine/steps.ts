import type { EvidenceRecord, Outcome, StepRecord } from '../evidence/record.js';
import type { Reporter } from '../report/reporter.js';
import { describeError, RotationError } from '../errors/errors.js';

/** The checklist, in order. The titles are what a person sees in the log and the summary. */
export const STEPS = {
  preflight: 'Preflight: check before change',
  generate: '1. Generate the new credential',
  store: '2. Write it to every store target',
  apply: '3. Apply it at the source',
  verify: '4. Prove the new credential works',
  consumers: '5. Refresh the consumers',
  health: '6. Verify health checks',
  revoke: '7. Revoke the old credential and prove it is refused',
  evidence: '8. Record evidence',
} as const;
export type StepName = keyof typeof STEPS;

/** What a step that hands a value to the later steps returns. */
export interface StepDone<T> {
  detail: string;
  value: T;
}

/** The parts of the evidence a step produces: each store target's, consumer's and probe's outcome, the old value's proof. */
export type RecordParts = Partial<Pick<EvidenceRecord, 'stores' | 'consumers' | 'health' | 'old_credential' | 'incident'>>;

/**
 * A step that failed after producing its part of the record: the part travels with the failure to
 * the evidence. The message, hint and code are the failure's own.
 */
export class FailedWith extends RotationError {
  constructor(
    failure: unknown,
    readonly parts: RecordParts,
  ) {
    const own = failure instanceof RotationError ? { hint: failure.hint, code: failure.code, retryable: failure.retryable } : {};
    super(failure instanceof Error ? failure.message : String(failure), { ...own, cause: failure });
  }
}

/** The parts a failed step handed over (none when it failed before producing any). */
export function partsOf(error: unknown): RecordParts {
  return error instanceof FailedWith ? error.parts : {};
}

/** Runs the steps of one rotation, timing each and keeping its record. */
export class StepLog {
  readonly records: StepRecord[] = [];

  constructor(
    private readonly reporter: Reporter,
    private readonly now: () => Date,
  ) {}

  /**
   * Runs one step in a log group and returns what it produced. `fn` returns the step's detail
   * line, or `{ detail, value }` when the later steps need a value; a throw fails the step.
   */
  run(step: StepName, fn: () => Promise<string>): Promise<void>;
  run<T>(step: StepName, fn: () => Promise<StepDone<T>>): Promise<T>;
  async run<T>(step: StepName, fn: () => Promise<string | StepDone<T>>): Promise<T | void> {
    const started = this.now();
    const t0 = performance.now();
    return this.reporter.group(STEPS[step], async () => {
      try {
        const done = await fn();
        const detail = typeof done === 'string' ? done : done.detail;
        this.push(step, started, t0, 'ok', detail);
        this.reporter.info(`✓ ${detail}`);
        return typeof done === 'string' ? undefined : done.value;
      } catch (error) {
        this.push(step, started, t0, 'failed', describeError(error));
        throw error;
      }
    });
  }

  /** Records the steps that did not run because an earlier one failed or the run was a dry run. */
  skipRemaining(why: string): void {
    const done = new Set(this.records.map((r) => r.step));
    for (const step of Object.keys(STEPS) as StepName[]) {
      if (!done.has(step) && step !== 'evidence') this.push(step, this.now(), performance.now(), 'skipped', why);
    }
  }

  private push(step: StepName, started: Date, t0: number, outcome: Outcome, detail: string): void {
    this.records.push({
      step,
      title: STEPS[step],
      started_at: started.toISOString(),
      duration_ms: Math.round(performance.now() - t0),
      outcome,
      detail,
    });
  }
}
