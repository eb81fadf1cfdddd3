import { describeError } from '../errors/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { lastRotation, readHistory } from '../evidence/history.js';
import type { Policy } from '../policy/types.js';
import { REGISTRY } from '../registry/registry.js';
import type { StatusRow, StoreCheck } from './status.js';

/**
 * With a token, `status` asks every store target that can tell when it last changed (GitHub's
 * secrets API: updated_at) and compares it with the last rotation the evidence claims. A target
 * not changed since before that rotation (or gone) contradicts the evidence: the row is flagged
 * overdue and `stale` lists the targets, so the gate fails and a rotation is planned.
 */
export async function checkStoreTargets(policy: Policy, rows: StatusRow[], runtime: Runtime): Promise<void> {
  const history = readHistory(policy, runtime.workspace, { now: runtime.now() });
  for (const row of rows) {
    const last = lastRotation(row.credential, history);
    const credential = policy.credentials[row.credential];
    if (!last || !credential) continue;
    // GitHub stamps to the second: a write in the run's first second is not "before" it.
    const rotatedAt = Math.floor(Date.parse(last.record.started_at) / 1000) * 1000;
    const checks: StoreCheck[] = [];
    for (const spec of credential.store) {
      const entry = Object.hasOwn(REGISTRY.stores, spec.kind) ? REGISTRY.stores[spec.kind] : undefined;
      let target = `${spec.kind} (${spec.path})`;
      try {
        const store = entry && (await entry.load())(spec, { policy, credential, system: policy.systems[credential.system], runtime });
        if (!store?.lastWritten) continue;
        target = store.label;
        const written = await store.lastWritten();
        if (!written) {
          checks.push({
            target,
            updated_at: null,
            verdict: 'missing',
            detail: `${target} does not exist, though ${last.path} says it was written`,
          });
        } else if (written.getTime() < rotatedAt) {
          checks.push({
            target,
            updated_at: written.toISOString(),
            verdict: 'stale',
            detail: `${target} was last updated ${written.toISOString()}, before the rotation of ${last.record.started_at} that ${last.path} claims`,
          });
        } else {
          checks.push({
            target,
            updated_at: written.toISOString(),
            verdict: 'changed',
            detail: `${target} updated ${written.toISOString()}`,
          });
        }
      } catch (error) {
        checks.push({ target, updated_at: null, verdict: 'unknown', detail: `${target} could not be checked: ${describeError(error)}` });
      }
    }
    row.stores = checks;
    row.stale = checks.filter((c) => c.verdict === 'stale' || c.verdict === 'missing').map((c) => c.target);
    if (row.stale.length > 0) row.overdue = true;
  }
}
