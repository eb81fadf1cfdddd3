import type { AdapterContext } from '../adapters/context.js';
import type { PostgresSystem } from '../policy/types.js';
import { RotationError } from '../errors/errors.js';
import type { Secret } from '../secret/secret.js';
import { describeTarget, pgError, tryLogin } from '../postgres/connect.js';
import { currentLogsIn } from '../postgres/own-login.js';
import { urlLogin } from '../postgres/url.js';
import { cutOffSessionsBefore, exposureNote } from '../postgres/sessions.js';
import { proveOldPasswordRefused, roleAdmin, type TargetRole } from './postgres-role.js';
import { clusterSystemOf } from '../policy/cluster-link.js';
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
  const pg = roleAdmin(ctx, `role ${role}`);
  const { where } = pg;
  const loginAs = (password: Secret) => pg.loginAs(role, password);
  let changedAt: Date | undefined;

  return {
    name: `alter-role (${where})`,
    generates: 'client',

    async preflight(current): Promise<PreflightReport> {
      const notes: string[] = [];
      const [target] = await pg.query<TargetRole & { rolcanlogin: boolean }>(
        `SELECT rolname, rolsuper, rolcanlogin, pg_has_role(current_user, oid, 'MEMBER WITH ADMIN OPTION') AS admin FROM pg_roles WHERE rolname = $1`,
        [role],
      );
      if (!target)
        throw new RotationError(`role ${JSON.stringify(role)} does not exist on ${describeTarget(system.adminUrl)}`, {
          hint: 'check credentials.*.role (it defaults to the credential id)',
        });
      if (!target.rolcanlogin) {
        throw new RotationError(`role ${role} cannot log in (NOLOGIN): a password for it would never be used`, {
          hint: `credential-rotation provision ${ctx.credential.id} --apply repairs it (with access: set on the credential), or ALTER ROLE ${(await pg.client()).escapeIdentifier(role)} LOGIN`,
        });
      }
      const adminNotes: string[] = [];
      pg.requireMayChange(await pg.adminRole(adminNotes), target);
      // On a DigitalOcean cluster: its own copy of the password, and the pools that use the role.
      // The survey's code loads only for a server the policy links to a DigitalOcean cluster.
      if (clusterSystemOf(ctx.policy, ctx.system))
        notes.push(...(await (await import('../digitalocean/copies.js')).digitalOceanCopies(ctx, { method: 'alter-role', role })));
      // Taken once the role is known and the admin may change it, so those get their own messages.
      await pg.lock(role);
      if (ctx.reason === 'exposure') notes.push(await exposureNote(await pg.client(), role));
      notes.push(...adminNotes);

      const currentWorks = await currentLogsIn(
        current,
        loginAs,
        role,
        'the role must be able to connect to the admin URL’s host and database',
      );
      return { currentWorks, notes, endpoints: [urlLogin(system.adminUrl.reveal())] };
    },

    async tryCurrent(value) {
      return (await tryLogin(loginAs(value))).ok;
    },

    async generate(chosen): Promise<StagedChange> {
      if (!chosen) throw new RotationError('alter-role needs a generated value');
      await pg.stagePassword(role, chosen);
      const db = await pg.client();
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
          changedAt = await pg.serverNow();
          return `ALTER ROLE ${role} committed (SCRAM-SHA-256 verifier, ${pg.iterations} iterations)`;
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
      const cutOff =
        reason === 'exposure'
          ? await cutOffSessionsBefore(await pg.client(), role, changedAt ?? ctx.runtime.now(), pg.lockPids())
          : undefined;
      return proveOldPasswordRefused({ role, old, login: loginAs, cutOff });
    },

    close: () => pg.close(),
  };
}
