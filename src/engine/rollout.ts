import type { ConsumerRecord, HealthRecord } from '../evidence/record.js';
import type { PoolerSettle } from '../postgres/pooler.js';
import type { HealthProbe } from '../health/probe.js';
import type { Consumer } from '../consumers/consumer.js';
import type { Secret } from '../secret/secret.js';
import type { LiveChange } from '../adapters/context.js';
import type { Adapters } from '../registry/load-adapters.js';
import { describeError, RotationError } from '../errors/errors.js';
import { checkpoint, type Failpoint } from './failpoints.js';
import { FailedWith, type StepDone } from './steps.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * Step 5: each consumer picks up the new value (a deploy, a restart, an API update), then proves
 * from its own side what it holds (Consumer.prove). A consumer that fails does not stop the
 * others: the new value is live at the source, so every consumer that can take it should. The
 * step then fails naming which consumers hold the new value and which still hold the old one; a
 * rerun converges (it rotates again and refreshes every consumer). A checkpoint that stops the
 * run (deadline, injected fault) leaves the consumers not yet reached untouched, and says so.
 */
export async function refreshConsumers(adapters: Adapters, value: Secret, runtime: Runtime): Promise<StepDone<ConsumerRecord[]>> {
  if (adapters.consumers.length === 0) return { detail: 'no consumers configured', value: [] };
  const done: ConsumerRecord[] = [];
  for (const [i, consumer] of adapters.consumers.entries()) {
    const stop = await stopped(runtime, `consumer.before.${i}`);
    if (stop) throw notReached(done, adapters.consumers.slice(i), stop);
    done.push(await refreshOne(consumer, value));
    const after = await stopped(runtime, `consumer.after.${i}`);
    if (after) throw notReached(done, adapters.consumers.slice(i + 1), after);
  }
  if (done.some((c) => c.outcome !== 'ok')) throw new FailedWith(consumersFailed(done), { consumers: done });
  return {
    detail: `${done.length} consumer(s) refreshed and proven (${done.map((c) => `${c.target}: ${c.proof}`).join('; ')})`,
    value: done,
  };
}

async function refreshOne(consumer: Consumer, value: Secret): Promise<ConsumerRecord> {
  const target = consumer.label;
  let detail: string;
  try {
    detail = await consumer.refresh(value);
  } catch (error) {
    return { target, outcome: 'failed', detail: describeError(error), holds: holdsAfter(error) };
  }
  try {
    const proof = await consumer.prove(value);
    return { target, outcome: 'ok', detail: `${detail}; ${proof.detail}`, holds: 'new', proof: proof.proof, proof_detail: proof.detail };
  } catch (error) {
    return { target, outcome: 'failed', detail: `${detail}; the proof after the update failed: ${describeError(error)}`, holds: 'new' };
  }
}

/** A refused update left the old value in place; a timeout or a transient failure may not have. */
function holdsAfter(error: unknown): 'old' | 'unknown' {
  if (
    error instanceof RotationError &&
    (error.retryable || error.code === 'TIMEOUT' || error.code === 'CANCELLED' || error.code === 'DEADLINE')
  )
    return 'unknown';
  return 'old';
}

async function stopped(runtime: Runtime, point: Failpoint): Promise<unknown> {
  try {
    await checkpoint(runtime, point);
    return undefined;
  } catch (error) {
    return error ?? new RotationError(`stopped at ${point}`);
  }
}

/** The run stopped before `rest` were reached: they still hold the old value, and the step fails saying so. */
function notReached(done: ConsumerRecord[], rest: Consumer[], why: unknown): FailedWith {
  const skipped = rest.map((consumer): ConsumerRecord => ({
    target: consumer.label,
    outcome: 'skipped',
    detail: `not refreshed: ${describeError(why)}`,
    holds: 'old',
  }));
  const consumers = [...done, ...skipped];
  return new FailedWith(consumersFailed(consumers, describeError(why)), { consumers });
}

/** The step's failure: exactly which consumers hold the new value and which do not. */
function consumersFailed(consumers: ConsumerRecord[], stoppedBy?: string): RotationError {
  const names = (holds: ConsumerRecord['holds']) => consumers.filter((c) => c.holds === holds).map((c) => c.target);
  const failed = consumers.filter((c) => c.outcome === 'failed').map((c) => `refreshing ${c.target} failed: ${c.detail}`);
  const parts = [
    `consumers holding the new value: ${names('new').join(', ') || 'none'}`,
    `still holding the old value: ${names('old').join(', ') || 'none'}`,
    ...(names('unknown').length ? [`unknown (the update may or may not have been applied): ${names('unknown').join(', ')}`] : []),
  ];
  const head = [...failed, ...(stoppedBy ? [`the run stopped before every consumer was refreshed: ${stoppedBy}`] : [])].join('; ');
  return new RotationError(`${head}. ${parts.join('; ')}`, {
    hint: 'the new credential is live and stored everywhere; fix the consumer and rerun: the rerun rotates again and refreshes every consumer',
    code: 'CONSUMERS_FAILED',
  });
}

/**
 * Step 6: every health probe, all of them run even when one fails, so the record shows each. A
 * checkpoint that stops the run ends the step there, with the probes run so far.
 */
export async function checkHealth(
  adapters: Adapters,
  value: Secret,
  live: LiveChange | undefined,
  runtime: Runtime,
): Promise<StepDone<HealthRecord[]>> {
  if (adapters.probes.length === 0) return { detail: 'no health checks configured', value: [] };
  const done: HealthRecord[] = [];
  for (const [i, probe] of adapters.probes.entries()) {
    done.push(await probeOne(probe, value, live, () => checkpoint(runtime, `health.before.${i}`)));
    const after = await stopped(runtime, `health.after.${i}`);
    if (after) throw new FailedWith(after, { health: done });
  }
  const failures = done.filter((h) => h.outcome === 'failed').map((h) => `${h.target}: ${h.detail}`);
  if (failures.length > 0) throw new FailedWith(new RotationError(`health check failed: ${failures.join('; ')}`), { health: done });
  return { detail: `${adapters.probes.length} health check(s) passed`, value: done };
}

/** One probe's record; a checkpoint that stops the run before it counts as the probe failing. */
async function probeOne(
  probe: HealthProbe,
  value: Secret,
  live: LiveChange | undefined,
  before: () => Promise<void>,
): Promise<HealthRecord> {
  try {
    await before();
    return { target: probe.label, outcome: 'ok', detail: await probe.probe(value, live), ...poolerOf(probe) };
  } catch (error) {
    return { target: probe.label, outcome: 'failed', detail: describeError(error), ...poolerOf(probe) };
  }
}

/** How a pooler on the probe's way took the new value, when there was one. */
function poolerOf(probe: HealthProbe): { pooler?: PoolerSettle } {
  const settle = probe.pooler?.();
  return settle ? { pooler: settle } : {};
}
