import type { Runtime } from '../adapters/context.js';

/**
 * Tries `attempt` until it returns a result or the deadline passes; returns the last failure
 * message. Health checks use it: a consumer that has just restarted may need a few seconds.
 */
export async function untilDeadline<T>(
  runtime: Runtime,
  timeoutSeconds: number,
  attempt: () => Promise<{ ok: true; value: T } | { ok: false; why: string }>,
  intervalMs = 2_000,
): Promise<{ ok: true; value: T } | { ok: false; why: string; tries: number }> {
  const deadline = runtime.now().getTime() + timeoutSeconds * 1000;
  for (let tries = 1; ; tries++) {
    const result = await attempt();
    if (result.ok) return result;
    if (runtime.now().getTime() + intervalMs > deadline || runtime.signal?.aborted) return { ...result, tries };
    await runtime.sleep(intervalMs);
  }
}
