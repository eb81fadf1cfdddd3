import { generatePassword } from '../secret/generate.js';
import type { Secret } from '../secret/secret.js';
import type { LocalPostgres } from './local-postgres.js';
import { scramVerifier } from '../postgres/scram.js';

export interface Platform {
  adminUrl: string;
  database: string;
  /** Initial passwords of the application roles. */
  passwords: Record<'odoo_app' | 'superset_ro', Secret>;
}

/**
 * The platform's Odoo database and roles, as the README's least-privilege set-up creates them:
 * a non-superuser admin with CREATEROLE, holding ADMIN OPTION on the roles it rotates (PG16 rules).
 * Passwords are sent as SCRAM verifiers, so the server log never holds them.
 */
export async function provisionPlatform(server: LocalPostgres, adminRole = 'rotation_admin'): Promise<Platform> {
  const db = await server.client();
  const adminPassword = generatePassword();
  const passwords = { odoo_app: generatePassword(), superset_ro: generatePassword() };
  try {
    await db.query('CREATE DATABASE odoo');
    await db.query(
      `CREATE ROLE ${db.escapeIdentifier(adminRole)} LOGIN CREATEROLE PASSWORD ${db.escapeLiteral(scramVerifier(adminPassword))}`,
    );
    for (const [role, password] of Object.entries(passwords)) {
      const r = db.escapeIdentifier(role);
      await db.query(`CREATE ROLE ${r} LOGIN PASSWORD ${db.escapeLiteral(scramVerifier(password))}`);
      await db.query(`GRANT ${r} TO ${db.escapeIdentifier(adminRole)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
    }
  } finally {
    await db.end();
  }
  return {
    adminUrl: `postgresql://${adminRole}:${adminPassword.reveal()}@127.0.0.1:${server.port}/odoo`,
    database: 'odoo',
    passwords,
  };
}

/**
 * A NOLOGIN group role owning its objects in the platform's public schema and two logins running
 * as it (the alternating-roles set-up `provision` creates), with `adminRole` holding ADMIN OPTION
 * on all three. Returns the logins' initial passwords (`a` is the one in use).
 */
export async function provisionAlternating(
  server: LocalPostgres,
  group: string,
  logins = [`${group}_a`, `${group}_b`],
  adminRole = 'rotation_admin',
): Promise<{ a: Secret; b: Secret; logins: string[] }> {
  const passwords = { a: generatePassword(), b: generatePassword() };
  const db = await server.client('odoo');
  try {
    const g = db.escapeIdentifier(group);
    const admin = db.escapeIdentifier(adminRole);
    await db.query(`CREATE ROLE ${g} NOLOGIN`);
    await db.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${g}`);
    await db.query(`GRANT ${g} TO ${admin} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
    for (const [i, login] of logins.entries()) {
      const l = db.escapeIdentifier(login);
      await db.query(`CREATE ROLE ${l} LOGIN PASSWORD ${db.escapeLiteral(scramVerifier(i === 0 ? passwords.a : passwords.b))}`);
      await db.query(`GRANT ${g} TO ${l} WITH INHERIT TRUE, SET TRUE`);
      await db.query(`ALTER ROLE ${l} SET role = ${db.escapeLiteral(group)}`);
      await db.query(`GRANT ${l} TO ${admin} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
    }
  } finally {
    await db.end();
  }
  return { ...passwords, logins };
}
