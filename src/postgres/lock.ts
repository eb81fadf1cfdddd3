import type pg from 'pg';
import { RotationError } from '../engine/errors.js';
import { pgError } from './connect.js';

/** First key of the two-key advisory lock: every credential-rotation lock shares it. */
const LOCK_NAMESPACE = 'credential-rotation';

/**
 * One rotation per role at a time (invariant 4): a session-level advisory lock on the server
 * whose role is rotated, held on `db` until releaseRotationLock or the session ends (a killed run
 * releases it with its connection). A second run exits at once instead of waiting.
 */
export async function takeRotationLock(db: pg.Client, role: string, where: string): Promise<void> {
  let locked: boolean;
  try {
    ({ locked } = (await db.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked', [LOCK_NAMESPACE, role])).rows[0]);
  } catch (error) {
    throw pgError(`taking the rotation lock on ${where}`, error);
  }
  if (!locked) {
    throw new RotationError(`another rotation of role ${role} is running (its advisory lock is held)`, {
      hint: 'wait for it to finish; nothing was changed',
      code: 'LOCKED',
    });
  }
}

export async function releaseRotationLock(db: pg.Client, role: string): Promise<void> {
  await db.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', [LOCK_NAMESPACE, role]).catch(() => undefined);
}
