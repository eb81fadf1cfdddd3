import type pg from 'pg';
import type { Secret } from '../secret/secret.js';
import { scramVerifier } from './scram.js';

export interface PasswordOptions {
  /** scram_iterations of the server. */
  iterations: number;
  /** Whether the admin may SET log_statement (then the statement is kept out of the server log). */
  hideStatement: boolean;
  lockTimeoutSeconds?: number;
}

/**
 * Opens a transaction and changes a role's password in it, left uncommitted: COMMIT makes the new
 * password live, ROLLBACK (or a lost connection) keeps the old one. The statement carries a SCRAM
 * verifier computed here, never the plaintext; the identifier is quoted.
 */
export async function stagePassword(db: pg.Client, role: string, password: Secret, options: PasswordOptions): Promise<void> {
  const verifier = scramVerifier(password, options.iterations);
  try {
    await db.query('BEGIN');
    if (options.hideStatement) await db.query("SET LOCAL log_statement = 'none'");
    await db.query(`SET LOCAL lock_timeout = '${Math.round((options.lockTimeoutSeconds ?? 10) * 1000)}ms'`);
    await db.query(`ALTER ROLE ${db.escapeIdentifier(role)} PASSWORD ${db.escapeLiteral(verifier)}`);
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** Sets and commits a role's password in one transaction (see stagePassword). */
export async function setPassword(db: pg.Client, role: string, password: Secret, options: PasswordOptions): Promise<void> {
  await stagePassword(db, role, password, options);
  try {
    await db.query('COMMIT');
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
