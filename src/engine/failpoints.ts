import type { Runtime } from '../runtime/runtime.js';
import { RotationError } from '../errors/errors.js';
import { checkDeadline } from '../runtime/deadline.js';

/**
 * Named fault points at every boundary of the checklist, in the etcd/gofail style: the engine
 * calls `checkpoint(runtime, 'store.before.0')` and so on, and a test (or a kill test through
 * CREDENTIAL_ROTATION_FAILPOINT) decides what happens there: throw, arm a fault in an HTTP model,
 * cut a database connection, or never return. In production runtime.failpoint is unset and each
 * call only checks the run's deadline.
 *
 * Names: store.before.<i>, store.after.<i>, apply.before, apply.after, verify.before,
 * consumer.before.<i>, consumer.after.<i>, health.before.<i>, health.after.<i>, revoke.before,
 * revoke.after, evidence.before. <i> is the target's index in the policy.
 */
export async function checkpoint(runtime: Runtime, name: string): Promise<void> {
  // The evidence is written whatever the time: it is what tells a person where the run stopped.
  if (name !== 'evidence.before') checkDeadline(runtime, name);
  if (runtime.failpoint) await runtime.failpoint(name);
}

/** The environment variable a kill test sets: `<point>:kill` ends the process with SIGKILL there. */
export const FAILPOINT_ENV = 'CREDENTIAL_ROTATION_FAILPOINT';

/**
 * The failpoint a process reads from its environment, for kill tests of the bundled action: the
 * process SIGKILLs itself at the named point, as a runner that is shut down would, so no `catch`,
 * `finally` or exit handler runs. Unset in production; the variable can only end a run its setter
 * could end anyway.
 */
export function failpointFromEnv(env: NodeJS.ProcessEnv): Runtime['failpoint'] {
  const spec = env[FAILPOINT_ENV];
  if (!spec) return undefined;
  const [point, action] = spec.split(':');
  if (action !== 'kill') throw new RotationError(`${FAILPOINT_ENV}: expected <point>:kill, got '${spec}'`);
  return async (name) => {
    if (name === point) process.kill(process.pid, 'SIGKILL');
  };
}
