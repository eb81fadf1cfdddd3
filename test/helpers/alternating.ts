import type { Secret } from '../../src/secret/secret.js';
import { generatePassword } from '../../src/secret/generate.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { PLATFORM_SYSTEM, type PostgresFixture } from './postgres.js';

/**
 * A NOLOGIN group role owning its objects in odoo's public schema and two logins running as it,
 * the platform's admin holding ADMIN OPTION on all three (what `provision` sets up). Returns the
 * logins' passwords: `a` is the one in use, `b` the idle one's (stored nowhere).
 */
export async function makeAlternating(fx: PostgresFixture, group: string, logins = [`${group}_a`, `${group}_b`]): Promise<{ a: Secret; b: Secret; logins: string[] }> {
  const passwords = { a: generatePassword(), b: generatePassword() };
  const db = await fx.server.client('odoo');
  try {
    const g = db.escapeIdentifier(group);
    await db.query(`CREATE ROLE ${g} NOLOGIN`);
    await db.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${g}`);
    await db.query(`GRANT ${g} TO rotation_admin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
    for (const [i, login] of logins.entries()) {
      const l = db.escapeIdentifier(login);
      await db.query(`CREATE ROLE ${l} LOGIN PASSWORD ${db.escapeLiteral(scramVerifier(i === 0 ? passwords.a : passwords.b))}`);
      await db.query(`GRANT ${g} TO ${l} WITH INHERIT TRUE, SET TRUE`);
      await db.query(`ALTER ROLE ${l} SET role = ${g}`);
      await db.query(`GRANT ${l} TO rotation_admin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
    }
  } finally {
    await db.end();
  }
  return { ...passwords, logins };
}

/** A policy for one alternating-roles credential of `group`, its value in `${current}`; `rest` holds store, consumers and health. */
export function alternatingYaml(group: string, current: string, rest: string): string {
  return `${PLATFORM_SYSTEM}  ${group}:
    system: odoo-sor
    method: alternating-roles
    cadence: quarterly
    current: \${${current}}
${rest}`;
}
