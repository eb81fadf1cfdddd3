import type pg from 'pg';
import type { AdapterContext } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import type { ProviderSystem } from '../policy/types.js';
import { loginConfig, tryLogin, type DatabaseLogin } from '../postgres/connect.js';
import type { CutOff } from '../postgres/sessions.js';
import { currentLogsIn, cutOffOwnSessions, firstLoginClock } from '../postgres/own-login.js';
import { proveOldPasswordRefused } from './postgres-role.js';
import { takeRotationLock, type RotationLock } from '../postgres/lock.js';
import { describeConnection } from '../postgres/url.js';
import { Secret } from '../secret/secret.js';
import { digitalOceanClient, type ClusterConnection, type StatusHints } from '../digitalocean/client.js';
import { digitalOceanSystemSettings } from '../digitalocean/settings.js';
import { clusterCa } from '../digitalocean/cluster-ca.js';
import { digitalOceanCopies } from '../digitalocean/copies.js';
import type { CredentialMethod, PreflightReport, RevocationProof, StagedChange } from './method.js';

/** The settings of a `type: digitalocean` system, with the token as a Secret. */
export function digitalOceanSettings(ctx: AdapterContext) {
  return digitalOceanSystemSettings(ctx.system as ProviderSystem, ctx.runtime);
}

const NO_LOCK_NOTE =
  'no rotation lock on the cluster (the current value does not log in): the workflow concurrency group keeps runs of this credential apart';

/**
 * A managed-database user's password (doadmin and the like), reset through DigitalOcean's API,
 * which picks the new value. The reset is live the moment it returns and cannot be undone, so the
 * usual "stage, store, apply" order does not apply: generate() resets, the engine then writes every
 * store (retrying transient failures), and if a store still fails the run fails with the stores
 * that took the value keeping it. The old value is dead by then, so a rerun finds `current` not
 * logging in and resets again on the authority of the DigitalOcean token: no human repair needed.
 */
export function digitalOceanReset(ctx: AdapterContext): CredentialMethod {
  const settings = digitalOceanSettings(ctx);
  const user = ctx.credential.role;
  const { runtime } = ctx;
  const client = digitalOceanClient(settings.token, settings.apiUrl, runtime);
  const where = `DigitalOcean cluster ${settings.clusterId} user ${user}`;
  const hints: StatusHints = {
    401: 'DigitalOcean rejected the token (unknown, expired or revoked): create a new one and update DIGITALOCEAN_TOKEN',
    403: 'the token lacks a scope: it needs database:read, database:update and database:view_credentials',
    404: `check systems.${settings.id}.cluster_id (the cluster's uuid) and that the token's team owns it`,
  };
  let connection: ClusterConnection | undefined;
  /** A session as the user, holding the rotation lock on the cluster while the run lasts. */
  let lock: RotationLock | undefined;
  /** The preflight's notes while they say no lock is held (a stored value that logs in may take it yet). */
  let noLockNotes: string[] | undefined;
  /** The new value and the server's time when it first logged in (for cutting off old sessions). */
  let fresh: { secret: Secret; changedAt: Date } | undefined;

  // verify-ca/verify-full check the server against the cluster's own CA, read from the API.
  const ca = clusterCa(settings, runtime, `the CA of DigitalOcean cluster ${settings.clusterId}`, true);
  /** The cluster's connection details as a URL, so the login means what the same URL means to libpq. */
  const clusterUrl = () => {
    const c = connection!;
    const mode = settings.sslmode ?? (c.ssl ? 'require' : 'disable');
    return `postgresql://${encodeURIComponent(user)}@${c.host}:${c.port}/${encodeURIComponent(settings.database ?? c.database)}?sslmode=${mode}`;
  };
  /** Where the user logs in: the cluster's host, as its URL, with its CA. */
  const login = (): DatabaseLogin => ({ url: new Secret(clusterUrl()), user, ca });
  const loginAs = (password: Secret): pg.ClientConfig => loginConfig(login(), password);
  /** Where the logins go, with the sslmode a TLS failure is about (postgres/url.ts describeConnection). */
  const target = () => describeConnection(clusterUrl());

  return {
    name: `digitalocean-reset (${where})`,
    generates: 'provider',

    async preflight(current): Promise<PreflightReport> {
      const cluster = await client.getCluster(settings.clusterId, hints);
      if (cluster.engine !== 'pg') throw new RotationError(`${where}: the cluster's engine is ${cluster.engine}, not pg (PostgreSQL)`);
      connection = cluster.connection;
      const found = await client.getUser(settings.clusterId, user, {
        ...hints,
        404: `user ${user} does not exist on cluster ${cluster.name}: check credentials.${ctx.credential.id}.role (it defaults to the credential id)`,
      });
      // Without view_credentials the reset would succeed and return no password: a lockout.
      if (!found.showsPassword) {
        throw new RotationError(`the DigitalOcean token cannot see the password of ${user}: it lacks the database:view_credentials scope`, {
          hint: 'a reset would then return no password; give the token database:read, database:update and database:view_credentials. Nothing was changed',
          code: 'NOT_ALLOWED',
        });
      }
      const notes = [
        `cluster ${cluster.name} (${cluster.status}) at ${target()}`,
        ...(await digitalOceanCopies(ctx, { method: 'digitalocean-reset', role: user })),
      ];
      const currentWorks = await currentLogsIn(
        current,
        loginAs,
        `${user} at ${target()}`,
        "this runner must reach the cluster: add its address to the cluster's trusted sources",
      );
      if (currentWorks) {
        // The lock lives in a session of the user itself (the only login this method has); a
        // password reset leaves open sessions alone, so it is held until close().
        lock = await takeRotationLock(loginAs(current!), user, target());
      } else {
        notes.push(NO_LOCK_NOTE);
        noLockNotes = notes;
      }
      return { currentWorks, notes, endpoints: [{ host: connection.host, port: connection.port }] };
    },

    async tryCurrent(value) {
      if (!connection || !(await tryLogin(loginAs(value))).ok) return false;
      lock ??= await takeRotationLock(loginAs(value), user, target());
      // The engine records the preflight's notes after this: the lock is held after all.
      const at = noLockNotes?.indexOf(NO_LOCK_NOTE) ?? -1;
      if (at >= 0) noLockNotes!.splice(at, 1);
      return true;
    },

    async generate(): Promise<StagedChange> {
      const value = await client.resetAuth(settings.clusterId, user, {
        ...hints,
        403: 'the token needs the database:update and database:view_credentials scopes to reset a password',
        422: `DigitalOcean refused to reset ${user}: the cluster must be online, and the user one it manages`,
      });
      runtime.reporter.mask(value);
      return {
        value,
        reversible: false,
        async apply() {
          return `DigitalOcean reset the password of ${user} (live since the reset; it cannot be undone)`;
        },
        async abort() {
          /* nothing to undo: the provider's reset is final */
        },
      };
    },

    async verify(value) {
      // Read the server's clock as the new user: the moment from which old sessions are stale.
      const result = await firstLoginClock(runtime, loginAs(value), `${user} at ${target()}`, 60);
      if (!result.ok) throw new RotationError(`the new password of ${user} does not log in at ${target()}: ${result.why}`);
      fresh = { secret: value, changedAt: result.value };
      return { detail: `${user} logs in with the new password at ${target()}`, live: { changedAt: result.value, login: login() } };
    },

    async revoke(old, reason): Promise<RevocationProof> {
      // The reset replaced the password: revocation is done; prove it (after the exposure cut-off).
      const cutOff = reason === 'exposure' ? await terminateOldSessions() : undefined;
      return proveOldPasswordRefused({ role: user, old, login: loginAs, cutOff, change: 'the reset' });
    },

    async close() {
      const held = lock;
      lock = undefined;
      await held?.release();
      connection = undefined;
      fresh = undefined;
    },
  };

  /** On exposure, sessions opened with the old password are cut off: a role may end its own. */
  async function terminateOldSessions(): Promise<CutOff | undefined> {
    if (!fresh) return undefined;
    // The rotation lock's session (opened with the old password before the reset) is spared.
    return cutOffOwnSessions(loginAs(fresh.secret), user, fresh.changedAt, lock ? [lock.pid] : [], `${user} at ${target()}`);
  }
}
