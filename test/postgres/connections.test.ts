import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Secret } from '../../src/secret/secret.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { testRuntime } from '../helpers/runtime.js';
import { alterRolePolicy, makeRole, usePostgres } from '../helpers/postgres.js';
import { alternatingYaml, makeAlternating } from '../helpers/alternating.js';
import { rotationRequest as request } from '../helpers/request.js';

/**
 * The sessions a rotation opens, counted in the real server's log (log_connections=on): each one
 * is a server process and a round of SCRAM, and each is there for a proof or a guarantee. A change
 * that opens one more (a second admin session, a login tried twice) fails here and must say why.
 *
 * - the admin session: catalog checks, the staged ALTER ROLE, its COMMIT, the server's clock;
 * - the lock session: its transaction must never commit, and the admin's COMMIT would commit it
 *   (and a statement error there would end it), so it cannot share the admin's session;
 * - logins as the role, each a fresh one because the server decides only at login: the current
 *   value works (preflight), the new one works (verify), the old one is refused (revoke).
 */
const fx = usePostgres();

/** Sessions authorized and logins refused per user, from the server log lines of one rotation. */
async function sessionsDuring(
  run: () => Promise<unknown>,
): Promise<{ authorized: Record<string, number>; refused: Record<string, number> }> {
  const start = fx().server.log.length;
  await run();
  // The server writes its log asynchronously: a marker statement, once seen, says every earlier line arrived.
  const marker = `connection count marker ${start}`;
  const db = await fx().server.client();
  await db.query(`SELECT '${marker}'`);
  await db.end();
  for (
    let i = 0;
    i < 100 &&
    !fx()
      .server.log.slice(start)
      .some((l) => l.includes(marker));
    i++
  )
    await new Promise((r) => setTimeout(r, 20));
  // One entry of the log is one chunk of the server's output, which may hold several lines.
  const lines = fx()
    .server.log.slice(start)
    .flatMap((chunk) => chunk.split('\n'));
  const tally = (pattern: RegExp) => {
    const counts: Record<string, number> = {};
    for (const line of lines) {
      const user = pattern.exec(line)?.[1];
      if (user && user !== 'postgres') counts[user] = (counts[user] ?? 0) + 1;
    }
    return counts;
  };
  return {
    authorized: tally(/connection authorized: user=(\S+)/),
    refused: tally(/password authentication failed for user "([^"]+)"/),
  };
}

/** Rotates `credential` of the policy `yaml` from `current`: how it ended, and the sessions it opened. */
async function rotateCounting(yaml: string, credential: string, current: Secret) {
  const policy = parsePolicy(yaml, 'rotation.yaml', { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: current.reveal() });
  let status: string | undefined;
  const seen = await sessionsDuring(async () => {
    status = (await rotateCredential(policy, request(credential), testRuntime({ now: () => new Date() }))).status;
  });
  return { status, ...seen };
}

/** An alternating-roles policy for `group` with one file target. */
const alternatingPolicy = (group: string) =>
  alternatingYaml(group, 'CURRENT', `    store:\n      - file: { path: .secrets/app.env, key: DB_PASSWORD }\n`);

describe('connections a rotation opens, on a real PostgreSQL 16', () => {
  it('alter-role: one admin session, one lock session, and one login per proof (current works, new works, old refused)', async () => {
    const old = await makeRole(fx(), 'conn_alter');
    expect(await rotateCounting(alterRolePolicy(fx(), 'conn_alter'), 'conn_alter', old)).toEqual({
      status: 'rotated',
      authorized: { rotation_admin: 2, conn_alter: 2 },
      refused: { conn_alter: 1 },
    });
  });

  it('alternating-roles: one admin session, one lock session for both logins, the current login found, the idle one verified, the old password refused as both', async () => {
    const { a } = await makeAlternating(fx(), 'conn_alt');
    expect(await rotateCounting(alternatingPolicy('conn_alt'), 'conn_alt', a)).toEqual({
      status: 'rotated',
      authorized: { rotation_admin: 2, conn_alt_a: 1, conn_alt_b: 1 },
      refused: { conn_alt_a: 1, conn_alt_b: 1 },
    });
  });

  it('alternating-roles, the second login in use: it is tried first (the login with open sessions), so no refused login before the change', async () => {
    const { b } = await makeAlternating(fx(), 'conn_alt2');
    // A consumer connected as conn_alt2_b, as an application in production would be.
    const app = new pg.Client({ host: '127.0.0.1', port: fx().server.port, database: 'odoo', user: 'conn_alt2_b', password: b.reveal() });
    await app.connect();
    try {
      // Refused only at the revoke, where the old password must be refused as both logins.
      expect(await rotateCounting(alternatingPolicy('conn_alt2'), 'conn_alt2', b)).toEqual({
        status: 'rotated',
        authorized: { rotation_admin: 2, conn_alt2_a: 1, conn_alt2_b: 1 },
        refused: { conn_alt2_a: 1, conn_alt2_b: 1 },
      });
    } finally {
      await app.end();
    }
  });
});
