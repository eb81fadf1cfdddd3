import type { Reason } from '../evidence/record.js';
import { generatePassword } from '../secret/generate.js';
import type { Secret } from '../secret/secret.js';
import type { RevocationProof, StagedChange } from '../methods/method.js';
import type { Endpoint } from '../postgres/url.js';
import type { Adapters } from '../registry/load-adapters.js';
import { RotationError } from '../errors/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { FailedWith, type RecordParts, type StepDone } from './steps.js';
import { checkpoint } from './failpoints.js';
import { readPrior, type Prior } from './store-writes.js';

// The steps of the checklist that talk to the credential's source (through its method):
// preflight, generate and revoke. The store, consumer and health steps are in store-writes.ts
// and rollout.ts; rotate.ts runs them all in order.

/** How a note about a proof a dry run did not make begins. */
export const NOT_IN_DRY_RUN = 'not done in a dry run:';

/**
 * Preflight: the method's, the stores' and the consumers' checks, then what each readable target
 * holds and which value is live. Returns that, and the notes for the evidence.
 */
export async function preflight(
  adapters: Adapters,
  current: Secret | undefined,
  refuseEndpoints: (endpoints: Endpoint[]) => void,
  mask: (value: Secret) => void,
  dryRun: boolean,
): Promise<StepDone<{ prior: Prior; notes: string[] }>> {
  // The checks only read, so they run side by side; a failure is reported as it would be one by
  // one (the method's first, then the stores' and the consumers' in policy order).
  const [method, ...checks] = await Promise.allSettled([
    adapters.method.preflight(current),
    ...adapters.stores.map((target) => target.store.check()),
    ...adapters.consumers.map((consumer) => consumer.check(dryRun)),
  ]);
  if (method.status === 'rejected') throw method.reason;
  const report = method.value;
  refuseEndpoints(report.endpoints ?? []);
  const failed = checks.find((check) => check.status === 'rejected');
  if (failed) throw failed.reason;
  // Invariant 1: what each readable target holds is known before anything changes, and a stored
  // value that logs in is the current one when `current` does not.
  const prior = await readPrior(adapters, current, report.currentWorks, mask);
  const notes = [...report.notes];
  // A dry run writes to no system: what a consumer's check left out for that, and why.
  for (const [i, consumer] of adapters.consumers.entries()) {
    const left = (checks[adapters.stores.length + i] as PromiseFulfilledResult<string | void>).value;
    if (dryRun && left) notes.push(`${NOT_IN_DRY_RUN} ${consumer.label}: ${left}`);
  }
  let state = report.currentWorks ? 'current value logs in' : 'current value does not log in, proceeding on admin authority';
  if (prior.source) {
    notes.push(
      `${current ? 'the current value no longer logs in' : 'no current value given'}, but the value ${prior.source} holds does: it is taken as the current value (for the back-out and the proof that it is refused)`,
    );
    state = `the value ${prior.source} holds logs in and is taken as the current one`;
  } else if (!report.currentWorks) {
    notes.push(
      current
        ? 'the current value no longer logs in (drift or a half-done earlier run): rotating on the admin authority'
        : 'no current value given: rotating on the admin authority',
    );
  }
  return {
    detail: `${adapters.method.name} ready; ${adapters.stores.length} store target(s) and ${adapters.consumers.length} consumer(s) reachable; ${state}`,
    value: { prior, notes },
  };
}

/** Step 1: the new value, generated here or issued by the source, and staged there (not yet live where the source allows). */
export async function generate(
  adapters: Adapters,
  length: number | undefined,
  mask: (value: Secret) => void,
): Promise<StepDone<StagedChange>> {
  const chosen = adapters.method.generates === 'client' ? generatePassword(length) : undefined;
  if (chosen) mask(chosen);
  const staged = await adapters.method.generate(chosen);
  mask(staged.value);
  const { name } = adapters.method;
  return {
    value: staged,
    detail:
      staged.detail ?? (staged.reversible ? `new value generated and staged at ${name}, not yet live` : `new value issued by ${name}`),
  };
}

/** Step 7: the old value revoked and proven refused; on exposure the evidence names what was cut off. */
export async function revoke(
  adapters: Adapters,
  current: Secret | undefined,
  reason: Reason,
  runtime: Runtime,
): Promise<StepDone<RecordParts>> {
  await checkpoint(runtime, 'revoke.before');
  const proof = await adapters.method.revoke(current, reason);
  // An exposure run is an incident: the evidence says what was cut off (sessions, keys), and what
  // survived the cut-off, which fails the run: the credential changed, the attacker may not have left.
  const parts: RecordParts = {
    old_credential: proof,
    ...(reason === 'exposure'
      ? {
          incident: {
            exposure: true,
            cut_off: proof.cut_off ?? [],
            ...(proof.survived?.length ? { survived: proof.survived, grants: proof.grants ?? [] } : {}),
          },
        }
      : {}),
  };
  try {
    // Success means done (SPEC invariant 3): rotated only when the old value was tried and refused.
    if (!proof.tried) {
      throw new RotationError(`the old credential was not tried: ${proof.detail}`, {
        hint: 'the new value is stored everywhere and live; set current (the variable behind it) so a rerun proves the old value refused',
      });
    }
    if (!proof.rejected) throw new RotationError(`the old credential was not refused: ${proof.detail}`);
    if (proof.survived?.length) throw survivorsError(proof);
    await checkpoint(runtime, 'revoke.after');
  } catch (error) {
    throw new FailedWith(error, parts);
  }
  return { detail: proof.detail, value: parts };
}

/** Exposure: the new value is live and the old one refused, but sessions opened with the old one remain. */
function survivorsError(proof: RevocationProof): RotationError {
  const survived = proof.survived!;
  return new RotationError(
    `exposure: the password changed and the old one is refused, but ${survived.length} session(s) that may have been opened with it are still open: ${survived.join('; ')}`,
    {
      hint: proof.grants?.length
        ? `as a superuser: ${proof.grants.join('; ')}; then end them (SELECT pg_terminate_backend(pid)) or rerun with reason exposure`
        : 'end them (SELECT pg_terminate_backend(pid)) or rerun with reason exposure',
    },
  );
}
