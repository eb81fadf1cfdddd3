import type { RevocationProof } from '../methods/method.js';
import type { Policy, PostgresSystem } from '../policy/types.js';
import { connectionConfig } from '../postgres/connect.js';
import { proveOldPasswordRefused } from '../methods/postgres-role.js';
import { systemCa } from '../adapters/system-ca.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Secret } from '../secret/secret.js';
import { supabaseSystem } from '../supabase/client.js';
import { describeProbe, tryProjectKey } from '../supabase/project-key.js';

/**
 * Presents a leaked value to its source the way the revoke step proves an old value dead, and
 * changes nothing: a password logs in as the login the connection string names (the admin URL's
 * host, port, database and TLS, as the Postgres methods log in; postgres/revoke.ts) and must be
 * refused with SQLSTATE 28P01; a Supabase key is presented to the project API and must get 401.
 * Refused is the proof that resolves an alert without a rotation; accepted means it is live.
 * Any other system answers "not tried": the alert is then settled by rotating, never on a guess.
 */
export async function tryLeakedValue(
  policy: Policy,
  credentialId: string,
  value: Secret,
  user: string | undefined,
  runtime: Runtime,
): Promise<RevocationProof> {
  const credential = policy.credentials[credentialId];
  const system = policy.systems[credential.system];
  if (system?.type === 'postgres' && user) {
    const ca = systemCa({ policy, system, runtime });
    const proof = await proveOldPasswordRefused({
      role: user,
      old: value,
      login: (password) => connectionConfig((system as PostgresSystem).adminUrl, { user, password }, ca),
    });
    return { ...proof, detail: proof.detail.replace(/(the )?old password( of \S+)?/, `the leaked password of ${user}`) };
  }
  if (system?.type === 'supabase' && !user) {
    const seen = await tryProjectKey(runtime, supabaseSystem(system, runtime).projectUrl, value);
    if (seen.status === 401) return { tried: true, rejected: true, detail: `the leaked key is refused: ${describeProbe(seen)}` };
    if (seen.status === 200) return { tried: true, rejected: false, detail: `the leaked key is accepted (HTTP 200 at ${seen.url})` };
    return { tried: true, rejected: false, detail: `the leaked key could not be tried: ${describeProbe(seen)}` };
  }
  return {
    tried: false,
    rejected: false,
    detail: `not tried: a leaked value of method ${credential.method} (system ${credential.system}) is settled by rotating`,
  };
}

/** Whether a proof says the value is live (logs in, or the API accepts it), as opposed to "could not tell". */
export const isAccepted = (proof: RevocationProof) => proof.tried && !proof.rejected && /still logs in|is accepted/.test(proof.detail);
