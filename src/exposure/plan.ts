import { loadAdapters } from '../registry/load-adapters.js';
import { describeError } from '../errors/errors.js';
import type { RevocationProof } from '../methods/method.js';
import type { CredentialPolicy, Policy } from '../policy/types.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Secret } from '../secret/secret.js';
import type { Alert } from './alerts.js';
import { managedOf, matchLeak, parseLeak, type KnownValue, type Managed } from './match.js';
import { isAccepted, tryLeakedValue } from './proof.js';

/** What the run does with one alert, decided before anything changes. */
export type Planned =
  | { alert: Alert; action: 'none'; reason: string; undecided?: boolean }
  | {
      alert: Alert;
      /** rotate: the leaked value is live (or could only be proven dead by rotating); resolve: already refused. */
      action: 'rotate' | 'resolve';
      credential: string;
      user?: string;
      value: Secret;
      current: boolean;
      /** For `resolve`: the login tried and refused. */
      proof?: RevocationProof;
      reason: string;
    };

/**
 * Decides each alert: not matched (left open, with the reason), the current value of a credential
 * (rotate), or an older value of a managed login, which is tried: refused (28P01) → resolve with
 * that proof, accepted → rotate. Trying a login changes nothing, so a dry run does it too.
 */
export async function planAlerts(policy: Policy, alerts: Alert[], runtime: Runtime): Promise<Planned[]> {
  if (alerts.length === 0) return [];
  const managed = managedOf(policy, () => []);
  await readKnownValues(policy, managed, runtime);
  const out: Planned[] = [];
  for (const alert of alerts) out.push(await planOne(policy, alert, managed, runtime));
  return out;
}

async function planOne(policy: Policy, alert: Alert, managed: Managed[], runtime: Runtime): Promise<Planned> {
  if (!alert.secret)
    return { alert, action: 'none', reason: 'not matched: GitHub shows no secret for this alert (hidden, or the token may not see it)' };
  const leak = parseLeak(alert.secretType, alert.secret);
  if ('problem' in leak) return { alert, action: 'none', reason: `not matched: ${leak.problem}` };
  if (leak.form === 'connection-string') runtime.reporter.mask(leak.password);
  const match = matchLeak(leak, managed);
  if (!match.matched) return { alert, action: 'none', reason: `not matched: ${match.reason}` };
  const base = { alert, credential: match.credential, user: match.user, value: match.value, current: match.current };
  const which = match.current
    ? `${match.credential}'s current value (${match.source})`
    : `a password of ${match.user} that is not ${match.credential}'s current value`;
  // Tried even when it is `current`: a stale `current` (the value a finished rotation replaced) must not rotate again.
  const proof = await tryLeakedValue(policy, match.credential, match.value, match.user, runtime);
  if (proof.rejected) return { ...base, action: 'resolve', proof, reason: `${which}, already refused` };
  if (isAccepted(proof)) return { ...base, action: 'rotate', reason: `${which}, live` };
  // Not tried (a system reached only through its provider): rotating replaces whatever value it was.
  if (!proof.tried) return { ...base, action: 'rotate', reason: `${which}; ${proof.detail}` };
  return {
    alert,
    action: 'none',
    undecided: true,
    reason: `could not tell whether the leaked value of ${match.credential} works: ${proof.detail}`,
  };
}

/**
 * What each managed credential holds now: `current`, and the bare value of every readable store
 * (the file store), masked at once. A store that cannot be read is skipped with a warning.
 */
async function readKnownValues(policy: Policy, managed: Managed[], runtime: Runtime): Promise<void> {
  for (const m of managed) m.known = await knownValues(policy, m.credential, runtime);
}

async function knownValues(policy: Policy, credential: CredentialPolicy, runtime: Runtime): Promise<KnownValue[]> {
  const known: KnownValue[] = credential.current ? [{ value: credential.current, source: 'current' }] : [];
  try {
    const adapters = await loadAdapters(policy, credential.id, runtime, 'exposure');
    for (const { store, unrender } of adapters.stores) {
      const held = store.read ? await store.read() : undefined;
      if (!held) continue;
      runtime.reporter.mask(held);
      const bare = unrender(held);
      if (bare) {
        runtime.reporter.mask(bare);
        known.push({ value: bare, source: store.label });
      }
    }
    await adapters.method.close();
  } catch (error) {
    runtime.reporter.warning(`${credential.id}: its stores could not be read, only current is compared: ${describeError(error)}`);
  }
  return known;
}
