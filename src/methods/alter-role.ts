import type pg from 'pg';
import type { AdapterContext } from '../adapters/context.js';
import type { PostgresSystem } from '../policy/types.js';
import { RotationError } from '../errors/errors.js';
import type { Secret } from '../secret/secret.js';
import { connect, connectionConfig, describeTarget, pgError, tryLogin } from '../postgres/connect.js';
import { scramVerifier } from '../postgres/scram.js';
import { systemCa } from '../adapters/system-ca.js';
import { urlLogin } from '../postgres/url.js';
import { cutOffSessionsBefore, exposureNote } from '../postgres/sessions.js';
import { proveOldPasswordRefused } from './postgres-role.js';
import { takeRotationLock, type RotationLock } from '../postgres/lock.js';
import { digitalOceanCopies } from '../digitalocean/copies.js';
import type { CredentialMethod, PreflightReport, RevocationProof, StagedChange } from './method.js';


/**
 * A Postgres role's password, changed with ALTER ROLE on the admin connection.
 *
 * The ALTER runs inside a transaction that stays open while the engine writes the stores, and is
 * committed only after every store holds the new value (see rotateCredential). Postgres keeps the
 * old verifier live until COMMIT and discards the change if the connection dies, so a crash at any
 * point before the commit leaves the old password working. The statement carries a SCRAM verifier
 * computed here, never the plaintext.
 */
export function alterRole(ctx: AdapterContext): CredentialMethod {
  const system = ctx.system as PostgresSystem;
  const role = ctx.credential.role;
  const where = `Postgres ${describeTarget(system.adminUrl)} role ${role}`;
  const ca = systemCa(ctx);
  const loginAs = (password: Secret) => connectionConfig(system.adminUrl, { user: role, password }, ca);
  let admin: pg.Client | undefined;
  let lock: RotationLock | undefined;
  let iterations = 4096;
  let mayHideStatement = false;
  let changedAt: Date | undefined;

  async function adminClient(): Promise<pg.Client> {
    admin ??= await connect(connectionConfig(system.adminUrl, undefined, ca), `admin connection of system '${system.id}' (${describeTarget(system.adminUrl)})`);
    return admin;
  }

  return {
    name: `alter-role (${where})`,
    generates: 'client',

    async preflight(current): Promise<PreflightReport> {
      const db = await adminClient();
      const notes: string[] = [];
      const q = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) => {
        try {
          return (await db.query<T>(sql, params)).rows;
        } catch (error) {
          throw pgError(`preflight query on ${where}`, error);
        }
      };

      const [target] = await q<{ rolsuper: boolean; rolcanlogin: boolean }>('SELECT rolsuper, rolcanlogin FROM pg_roles WHERE rolname = $1', [role]);
      if (!target) throw new RotationError(`role ${JSON.stringify(role)} does not exist on ${describeTarget(system.adminUrl)}`, { hint: 'check credentials.*.role (it defaults to the credential id)' });
      if (!target.rolcanlogin) {
        throw new RotationError(`role ${role} cannot log in (NOLOGIN): a password for it would never be used`, {
          hint: `credential-rotation provision ${ctx.credential.id} --apply repairs it (with access: set on the credential), or ALTER ROLE ${db.escapeIdentifier(role)} LOGIN`,
        });
      }

      const [me] = await q<{ user: string; rolsuper: boolean; rolcreaterole: boolean; admin: boolean; iterations: string | null; hide: boolean }>(
        `SELECT current_user AS user, r.rolsuper, r.rolcreaterole,
                pg_has_role(current_user, $1, 'MEMBER WITH ADMIN OPTION') AS admin,
                current_setting('scram_iterations', true) AS iterations,
                has_parameter_privilege('log_statement', 'SET') AS hide
           FROM pg_roles r WHERE r.rolname = current_user`,
        [role],
      );
      // PG16: a non-superuser may change another role's password only with CREATEROLE and ADMIN
      // OPTION on it, and never a superuser's.
      const allowed = me.rolsuper || me.user === role || (me.rolcreaterole && me.admin && !target.rolsuper);
      // Names in the hints as a person would paste them: quoted only when they need it.
      const ident = (name: string) => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : db.escapeIdentifier(name));
      const [roleSql, adminSql] = [ident(role), ident(me.user)];
      if (!allowed) {
        throw new RotationError(`the admin connection (role ${me.user}) may not change the password of role ${role}`, {
          hint: `it needs CREATEROLE and ADMIN OPTION on ${role}: GRANT ${roleSql} TO ${adminSql} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
          code: 'NOT_ALLOWED',
        });
      }
      // On a DigitalOcean cluster: its own copy of the password, and the pools that use the role.
      notes.push(...(await digitalOceanCopies(ctx, { method: 'alter-role', role })));
      // Taken once the role is known and the admin may change it, so those get their own messages.
      lock ??= await takeRotationLock(connectionConfig(system.adminUrl, undefined, ca), role, where);
      if (ctx.reason === 'exposure') notes.push(await exposureNote(db, role));
      iterations = Number(me.iterations ?? 4096) || 4096;
      mayHideStatement = me.hide;
      if (!mayHideStatement) notes.push('the admin may not SET log_statement: the ALTER ROLE may be logged, and carries only a SCRAM verifier');

      let currentWorks = false;
      if (current) {
        const login = await tryLogin(loginAs(current));
        currentWorks = login.ok;
        if (!login.ok && !login.rejected) {
          throw new RotationError(`cannot test the current password of ${role}: ${login.message}`, { hint: 'the role must be able to connect to the admin URL’s host and database' });
        }
      }
      return { currentWorks, notes, endpoints: [urlLogin(system.adminUrl.reveal())] };
    },

    async tryCurrent(value) {
      return (await tryLogin(loginAs(value))).ok;
    },

    async generate(chosen): Promise<StagedChange> {
      if (!chosen) throw new RotationError('alter-role needs a generated value');
      const db = await adminClient();
      const verifier = scramVerifier(chosen, iterations);
      try {
        await db.query('BEGIN');
        if (mayHideStatement) await db.query("SET LOCAL log_statement = 'none'");
        await db.query(`SET LOCAL lock_timeout = '${Math.round((system.lockTimeoutSeconds ?? 10) * 1000)}ms'`);
        await db.query(`ALTER ROLE ${db.escapeIdentifier(role)} PASSWORD ${db.escapeLiteral(verifier)}`);
      } catch (error) {
        await db.query('ROLLBACK').catch(() => undefined);
        throw pgError(`ALTER ROLE on ${where}`, error);
      }
      return {
        value: chosen,
        reversible: true,
        async apply() {
          try {
            await db.query('COMMIT');
          } catch (error) {
            // The COMMIT may or may not have reached the server: ask the server which password works.
            if ((await tryLogin(loginAs(chosen))).ok) return 'committed (confirmed by logging in after a lost reply)';
            throw pgError(`COMMIT on ${where}`, error);
          }
          // The server's clock, so the exposure cut-off compares like with like.
          changedAt = (await db.query<{ now: Date }>('SELECT now()')).rows[0].now;
          return `ALTER ROLE ${role} committed (SCRAM-SHA-256 verifier, ${iterations} iterations)`;
        },
        async abort() {
          await db.query('ROLLBACK');
        },
      };
    },

    async verify(value) {
      const login = await tryLogin(loginAs(value));
      if (!login.ok) throw new RotationError(`the new password of ${role} does not log in: ${login.message}`);
      return { detail: `${role} logs in with the new password` };
    },

    async revoke(old, reason): Promise<RevocationProof> {
      // On exposure the sessions opened with the old password are cut off first (from the admin
      // session, by the server's clock at the commit); then the old password must be refused.
      const cutOff = reason === 'exposure' ? await cutOffSessionsBefore(await adminClient(), role, changedAt ?? new Date(), lock ? [lock.pid] : []) : undefined;
      return proveOldPasswordRefused({ role, old, login: loginAs, cutOff });
    },

    async close() {
      const [db, held] = [admin, lock];
      [admin, lock] = [undefined, undefined];
      await held?.release();
      await db?.end();
    },
  };
}
