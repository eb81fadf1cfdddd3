import type { OutcomeRecord } from '../evidence/record.js';
import type { Secret } from '../secret/secret.js';
import type { LiveChange } from '../methods/method.js';
import type { Adapters } from '../adapters/context.js';
import { describeError, RotationError } from './errors.js';
import { checkpoint } from './failpoints.js';
import type { Runtime } from './runtime.js';

/** Step 5: each consumer picks up the new value (a deploy, a restart, an API update). */
export async function refreshConsumers(adapters: Adapters, value: Secret, out: OutcomeRecord[], runtime: Runtime): Promise<string> {
  if (adapters.consumers.length === 0) return 'no consumers configured';
  for (const [i, consumer] of adapters.consumers.entries()) {
    try {
      await checkpoint(runtime, `consumer.before.${i}`);
      const detail = await consumer.refresh(value);
      out.push({ target: consumer.label, outcome: 'ok', detail });
    } catch (error) {
      out.push({ target: consumer.label, outcome: 'failed', detail: describeError(error) });
      throw new RotationError(`refreshing ${consumer.label} failed: ${describeError(error)}`, {
        hint: 'the new credential is live and stored everywhere; fix the consumer and rerun to finish',
      });
    }
    await checkpoint(runtime, `consumer.after.${i}`);
  }
  return `${adapters.consumers.length} consumer(s) refreshed`;
}

/** Step 6: every health probe, all of them run even when one fails, so the record shows each. */
export async function checkHealth(adapters: Adapters, value: Secret, live: LiveChange | undefined, out: OutcomeRecord[], runtime: Runtime): Promise<string> {
  if (adapters.probes.length === 0) return 'no health checks configured';
  const failures: string[] = [];
  for (const [i, probe] of adapters.probes.entries()) {
    try {
      await checkpoint(runtime, `health.before.${i}`);
      out.push({ target: probe.label, outcome: 'ok', detail: await probe.probe(value, live) });
    } catch (error) {
      out.push({ target: probe.label, outcome: 'failed', detail: describeError(error) });
      failures.push(`${probe.label}: ${describeError(error)}`);
    }
    await checkpoint(runtime, `health.after.${i}`);
  }
  if (failures.length > 0) throw new RotationError(`health check failed: ${failures.join('; ')}`);
  return `${adapters.probes.length} health check(s) passed`;
}
