import { loadAdapters, type Adapters } from '../registry/load-adapters.js';
import { describeError, RotationError } from '../errors/errors.js';
import type { Runtime } from '../runtime/runtime.js';
import type { CredentialPolicy, Policy } from '../policy/types.js';
import { Secret } from '../secret/secret.js';
import { maskPolicySecrets } from '../secret/policy-secrets.js';
import { formatTable } from './plan.js';
import { unformat } from '../adapters/format.js';
import { USAGE_CODES } from './exit-code.js';

export { unformat };

export interface StoreAgreement {
  target: string;
  /**
   * `agrees`: holds the verified value; `differs` / `missing`: it does not; `write-only`: cannot be
   * read back (GitHub secrets); `unreadable`: reading it failed (`detail` says why), so it is unproven.
   */
  outcome: 'agrees' | 'differs' | 'missing' | 'write-only' | 'unreadable';
  detail?: string;
}

export interface VerifyRow {
  credential: string;
  /** Where the value was proven: the method and its system (host, role, project). */
  target: string;
  /** Where the verified value came from: `current` or a store's label. */
  source: string | null;
  works: boolean;
  detail: string;
  stores: StoreAgreement[];
  /** Every check passed: the value works and every readable store holds it. */
  ok: boolean;
}

/**
 * Proves a credential's stored value still works, without rotating: the value in use (`current`,
 * or else what a readable store holds) is presented to its source through the method's preflight,
 * which logs in or calls the API and changes nothing, and every readable store must hold it.
 * For alter-role the preflight takes the rotation's cluster-wide lock only for its few queries; a
 * rotation in progress makes the check fail rather than wait.
 */
export async function verifyCredential(policy: Policy, id: string, runtime: Runtime): Promise<VerifyRow> {
  const credential = policy.credentials[id];
  if (!credential) {
    throw new RotationError(`unknown credential '${id}'`, {
      hint: `${policy.file} defines: ${Object.keys(policy.credentials).join(', ')}`,
      code: 'USAGE',
    });
  }
  maskPolicySecrets(policy, (secret) => runtime.reporter.mask(secret));
  const adapters = await loadAdapters(policy, id, runtime);
  const target = adapters.method.name;
  try {
    const held = await readStores(adapters, runtime);
    const candidate = pickCandidate(credential, adapters, held);
    const row: VerifyRow = { credential: id, target, source: candidate?.source ?? null, works: false, detail: '', stores: [], ok: false };
    if (!candidate) {
      row.detail = 'no value to verify: current is not set and no store can be read back';
      // Nothing to compare with: only the targets that could not be read are named.
      row.stores = adapters.stores.flatMap(({ store }, i): StoreAgreement[] => {
        const why = held[i].unreadable;
        return why ? [{ target: store.label, outcome: 'unreadable', detail: why }] : [];
      });
    } else {
      let user: string | undefined;
      try {
        const report = await adapters.method.preflight(candidate.value);
        row.works = report.currentWorks;
        user = report.user;
        row.detail = report.currentWorks
          ? `the value from ${candidate.source} works`
          : `the value from ${candidate.source} no longer works at ${target}`;
      } catch (error) {
        row.detail = `could not verify at ${target}: ${describeError(error)}`;
      }
      row.stores = adapters.stores.map(({ store, render }, i): StoreAgreement => {
        if (!store.read) return { target: store.label, outcome: 'write-only' };
        const { value, unreadable: why } = held[i];
        if (why) return { target: store.label, outcome: 'unreadable', detail: why };
        if (!value) return { target: store.label, outcome: 'missing' };
        // `{user}`: the login the value logged in as (alternating-roles), else the role.
        return { target: store.label, outcome: value.equals(render(candidate.value, user ?? credential.role)) ? 'agrees' : 'differs' };
      });
    }
    row.ok = row.works && row.stores.every((s) => s.outcome === 'agrees' || s.outcome === 'write-only');
    return row;
  } finally {
    // Releases the alter-role rotation lock and the admin connection.
    await adapters.method.close().catch((error) => runtime.reporter.warning(`closing ${target}: ${describeError(error)}`));
  }
}

/** What a store target held when verify read it: its value (masked at once), or why it could not be read. */
interface Held {
  value?: Secret;
  unreadable?: string;
}

/**
 * What each store holds now (no value for write-only or empty ones). A target that cannot be read
 * fails its own check and the others are still read; bad usage found on the way (a path outside
 * the workspace) stops the command.
 */
async function readStores(adapters: Adapters, runtime: Runtime): Promise<Held[]> {
  const held: Held[] = [];
  for (const { store, public: holdsNoSecret } of adapters.stores) {
    try {
      const value = store.read ? await store.read() : undefined;
      // A `{user}`-only target holds a login name: not a secret, and the output names it.
      if (value && !holdsNoSecret) runtime.reporter.mask(value);
      held.push({ value });
    } catch (error) {
      if (error instanceof RotationError && USAGE_CODES.has(error.code ?? '')) throw error;
      held.push({ unreadable: describeError(error) });
    }
  }
  return held;
}

/** `current` when given; otherwise the bare value a readable store holds (unwrapping a `format`). */
function pickCandidate(credential: CredentialPolicy, adapters: Adapters, held: Held[]): { value: Secret; source: string } | undefined {
  if (credential.current) return { value: credential.current, source: 'current' };
  for (const [i, { store, unrender }] of adapters.stores.entries()) {
    const { value } = held[i];
    const bare = value && unrender(value);
    if (bare) return { value: bare, source: store.label };
  }
  return undefined;
}

export function verifyTable(rows: VerifyRow[]): string {
  return formatTable(
    ['credential', 'result', 'value from', 'stores', 'detail'],
    rows.map((r) => [r.credential, r.ok ? 'ok' : 'FAILED', r.source ?? '-', summarizeStores(r.stores), r.detail]),
  );
}

function summarizeStores(stores: StoreAgreement[]): string {
  if (stores.length === 0) return '-';
  const counts = new Map<string, number>();
  for (const s of stores) counts.set(s.outcome, (counts.get(s.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ');
}

/** One line per problem, naming the credential and the target. */
export function verifyProblems(rows: VerifyRow[]): string[] {
  return rows.flatMap((r) => [
    ...(r.works ? [] : [`${r.credential}: ${r.detail}`]),
    ...r.stores.flatMap((s) => {
      if (s.outcome === 'missing') return [`${r.credential}: ${s.target} holds no value`];
      if (s.outcome === 'differs') return [`${r.credential}: ${s.target} does not hold the value from ${r.source}`];
      if (s.outcome === 'unreadable') return [`${r.credential}: ${s.target} could not be read: ${s.detail}`];
      return [];
    }),
  ]);
}
