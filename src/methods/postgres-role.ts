import type pg from 'pg';
import type { RevocationProof } from './method.js';
import type { Secret } from '../secret/secret.js';
import { tryLogin } from '../postgres/connect.js';
import type { CutOff } from '../postgres/sessions.js';

/**
 * The revoke step of a Postgres password (alter-role, digitalocean-reset, …): the change itself
 * replaced the verifier, so revoking is proving it. The old password is presented and must be
 * refused with SQLSTATE 28P01 (invariant 3). On exposure, `cutOff` ran first; what it ended and
 * what survived go into the proof, and the engine fails the run when anything survived.
 */
export async function proveOldPasswordRefused(options: {
  role: string;
  old: Secret | undefined;
  login: (password: Secret) => pg.ClientConfig;
  cutOff?: CutOff;
  /** "the change" / "the reset": what the cut-off compared with. */
  change?: string;
}): Promise<RevocationProof> {
  const { role, old, cutOff } = options;
  const cut = cutOff
    ? `; ${cutOff.cut.length} session(s) opened before ${options.change ?? 'the change'} terminated${cutOff.survived.length ? `, ${cutOff.survived.length} still open` : ''}`
    : '';
  const extra = cutOff ? { cut_off: cutOff.cut, survived: cutOff.survived, grants: cutOff.grants } : {};
  // Honest evidence: with no current value nothing was tried, so nothing was proven refused.
  if (!old) return { tried: false, rejected: false, detail: `not tried: no current value was given (${role} now accepts only the new password, but nothing proved the old one refused)${cut}`, ...extra };
  const login = await tryLogin(options.login(old));
  if (login.ok) return { tried: true, rejected: false, detail: `the old password of ${role} still logs in`, ...extra };
  if (!login.rejected) return { tried: true, rejected: false, detail: `the old password could not be tried: ${login.message}`, ...extra };
  return { tried: true, rejected: true, detail: `old password refused with SQLSTATE ${login.code}${cut}`, ...extra };
}
