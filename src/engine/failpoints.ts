import type { Runtime } from '../runtime/runtime.js';
import { RotationError } from '../errors/errors.js';
import { checkDeadline } from '../runtime/deadline.js';

/**
 * Named fault points at every boundary of the checklist, in the etcd/gofail style: the engine
 * calls `checkpoint(runtime, 'store.before.0')` and so on, and a test (or a kill test through
 * CREDENTIAL_ROTATION_FAILPOINT) decides what happens there: throw, arm a fault in an HTTP model,
 * cut a database connection, or never return. In production runtime.failpoint is unset and each
 * call only checks the run's deadline. `<i>` is the target's index in the policy.
 */
export type Failpoint =
  | `store.${'before' | 'after'}.${number}`
  | 'apply.before'
  | 'apply.after'
  | 'verify.before'
  | `consumer.${'before' | 'after'}.${number}`
  | `health.${'before' | 'after'}.${number}`
  | 'revoke.before'
  | 'revoke.after'
  | 'evidence.before';

/** Every failpoint a run of a credential with these targets passes, in checklist order (the fault harness walks them). */
export function failpoints(targets: { stores: number; consumers: number; probes: number }): Failpoint[] {
  const each = <S extends 'store' | 'consumer' | 'health'>(n: number, stem: S) =>
    Array.from({ length: n }, (_, i) => [`${stem}.before.${i}`, `${stem}.after.${i}`] as const).flat();
  return [
    ...each(targets.stores, 'store'),
    'apply.before',
    'apply.after',
    'verify.before',
    ...each(targets.consumers, 'consumer'),
    ...each(targets.probes, 'health'),
    'revoke.before',
    'revoke.after',
    'evidence.before',
  ];
}

export async function checkpoint(runtime: Runtime, name: Failpoint): Promise<void> {
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
