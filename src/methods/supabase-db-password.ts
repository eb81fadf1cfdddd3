import type pg from 'pg';
import type { AdapterContext } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import { statusOf } from '../http/http-error.js';
import { describeTarget, loginConfig, tryLogin, type DatabaseLogin } from '../postgres/connect.js';
import { currentLogsIn, cutOffOwnSessions, firstLoginClock } from '../postgres/own-login.js';
import { DEFAULT_SETTLE_SECONDS, describeSettle, loginThroughPooler, SETTLE_INTERVAL_MS, throughPooler } from '../postgres/pooler.js';
import { proveOldPasswordRefused } from './postgres-role.js';
import { takeRotationLock, type RotationLock } from '../postgres/lock.js';
import { urlLogin, urlProblem } from '../postgres/url.js';
import { untilDeadline } from '../runtime/deadline.js';
import { Secret } from '../secret/secret.js';
import { supabaseClient, supabaseSystem } from '../supabase/client.js';
import type { CredentialMethod, PreflightReport, RevocationProof, StagedChange } from './method.js';

/** How long Supabase may take to apply a new password before a direct login with it must work. */
const APPLY_SECONDS = 60;

/**
 * The Supabase project's own database password (the `postgres` role), set through the Management
 * API (`PATCH /v1/projects/{ref}/database/password`, v1-update-database-password).
 *
 * The API has no staging: the password is live the moment the call returns and the old one dead.
 * The tool picks the value, so the engine writes every store target first (nothing has changed
 * yet, so a failed write is backed out), and apply() sends it. A call that fails for certain
 * (a 4xx) changed nothing; one whose outcome is unknown (lost reply, 5xx after retries) is
 * settled by logging in: the new value works → it landed; the old one works → it did not;
 * neither → the stores keep the new value (reversible turns false) and a rerun repairs it on the
 * authority of the access token, which needs no old password. Proofs are logins as the role
 * itself, on the project's direct connection (or db_url); through a pooler (Supavisor) they wait
 * for its credential cache (postgres/pooler.ts).
 */
export function supabaseDbPassword(ctx: AdapterContext): CredentialMethod {
  const { runtime, credential } = ctx;
  const sys = supabaseSystem(ctx.system, runtime);
  const api = supabaseClient(runtime, sys);
  const settings = 'settings' in ctx.system ? ctx.system.settings : {};
  const settleSeconds = settleOf(credential.settings.settle_seconds, `credentials.${credential.id}.settle_seconds`);
  const configuredUrl = dbUrlOf(settings.db_url, `systems.${ctx.system.id}.db_url`);
  if (configuredUrl) runtime.reporter.mask(configuredUrl);
  const where = `Supabase project ${sys.projectRef} database`;
  /** The connection the proofs use (without a password): db_url, or the project's direct host. */
  let dbUrl = configuredUrl;
  /** The login: the URL's user (the shared pooler's is postgres.<ref>), else the role. */
  let user = credential.role;
  let pooled = false;
  let lock: RotationLock | undefined;
  /** The value in use before the change: `current` when it logs in, or a store's (tryCurrent). */
  let before: Secret | undefined;
  /** The new value and the server's time when it first logged in (for cutting off old sessions). */
  let fresh: { secret: Secret; changedAt: Date } | undefined;

  const login = (): DatabaseLogin => ({ url: dbUrl!, user });
  const loginAs = (password: Secret): pg.ClientConfig => loginConfig(login(), password);
  const target = () => describeTarget(dbUrl!);

  return {
    name: `supabase-db-password (${where}, role ${credential.role})`,
    generates: 'client',
    user: () => user,
    currentUser: () => user,

    async preflight(current): Promise<PreflightReport> {
      const project = await api.getProject();
      if (project.status !== 'ACTIVE_HEALTHY') {
        throw new RotationError(
          `${where}: the project is ${project.status}, not ACTIVE_HEALTHY: its database password cannot be changed now`,
          {
            hint: 'wait until the project is healthy (restore a paused project first); nothing was changed',
          },
        );
      }
      dbUrl ??= project.databaseHost ? new Secret(`postgresql://${project.databaseHost}:5432/postgres?sslmode=require`) : undefined;
      if (!dbUrl)
        throw new RotationError(`${where}: Supabase reported no database host`, {
          hint: `set systems.${ctx.system.id}.db_url to the project's connection string (Connect → Direct or Session pooler)`,
        });
      const { host, port, user: urlUser } = urlLogin(dbUrl.reveal());
      user = urlUser ?? credential.role;
      pooled = throughPooler(host, settings.db_pooler);
      const notes = [
        `project ${sys.projectRef} (${project.status}); proofs log in as ${user} at ${target()}${pooled ? ' through the pooler' : ''}`,
      ];
      const currentWorks = await currentLogsIn(
        current,
        loginAs,
        `${user} at ${target()}`,
        `this runner must reach the database: the direct host is IPv6-only without Supabase's IPv4 add-on, so from GitHub-hosted runners set systems.${ctx.system.id}.db_url to the Session pooler's connection string`,
      );
      if (currentWorks) await adopt(current!);
      else
        notes.push(
          'no rotation lock on the database (the current value does not log in): the workflow concurrency group keeps runs of this credential apart',
        );
      return { currentWorks, notes, endpoints: [{ host, port }] };
    },

    async tryCurrent(value) {
      if (!dbUrl || !(await tryLogin(loginAs(value))).ok) return false;
      await adopt(value);
      return true;
    },

    async generate(chosen): Promise<StagedChange> {
      if (!chosen) throw new RotationError('supabase-db-password needs a generated value');
      /** Whether the PATCH may have changed the password: then the stores keep the new value. */
      let mayHaveLanded = false;
      return {
        value: chosen,
        get reversible() {
          return !mayHaveLanded;
        },
        detail: "new password generated; Supabase's API cannot stage it, so it is set at the apply step, once every store target holds it",
        async apply() {
          try {
            await api.setDatabasePassword(chosen);
          } catch (error) {
            const status = statusOf(error);
            // A definite refusal (4xx but 429) changed nothing: the engine backs the stores out.
            if (status !== undefined && status < 500 && status !== 429) throw error;
            const landed = await whichIsLive(chosen);
            if (landed === 'new') return `the call failed (${(error as Error).message}), but the new password logs in: Supabase set it`;
            if (landed === 'unknown') mayHaveLanded = true;
            throw error;
          }
          return `Supabase set the password of ${credential.role} (live at once; the old one stopped working)`;
        },
        async abort() {
          /* nothing was changed at Supabase before apply() */
        },
      };
    },

    async verify(value) {
      let settled = '';
      if (pooled) {
        const pooledLogin = await loginThroughPooler(runtime, loginAs(value), settleSeconds);
        if (!pooledLogin.ok)
          throw new RotationError(
            `the new password of ${user} is not accepted at ${target()}: ${describeSettle(pooledLogin.settle)}: ${pooledLogin.why}`,
          );
        settled = `; ${describeSettle(pooledLogin.settle)}`;
      }
      // The server's clock as the role itself: the moment from which older sessions are stale.
      const result = await firstLoginClock(runtime, loginAs(value), `${user} at ${target()}`, APPLY_SECONDS);
      if (!result.ok) throw new RotationError(`the new password of ${user} does not log in at ${target()}: ${result.why}`);
      fresh = { secret: value, changedAt: result.value };
      // The change killed the old value: say so now, in case a later step fails (a pooler).
      const old = before && !pooled ? await proveOldPasswordRefused({ role: user, old: before, login: loginAs }) : undefined;
      return {
        detail: `${user} logs in with the new password at ${target()}${settled}`,
        live: { changedAt: result.value, login: login() },
        old,
      };
    },

    async revoke(old, reason): Promise<RevocationProof> {
      // The change replaced the password: revoking is proving it (after the exposure cut-off).
      const cutOff =
        reason === 'exposure' && fresh
          ? await cutOffOwnSessions(loginAs(fresh.secret), user, fresh.changedAt, lock ? [lock.pid] : [], `${user} at ${target()}`)
          : undefined;
      const prove = () => proveOldPasswordRefused({ role: user, old, login: loginAs, cutOff, change: 'the password change' });
      const proof = await prove();
      if (!pooled || !proof.tried || proof.rejected) return proof;
      // A pooler's cache may still accept the old value for a while: it must stop within the window.
      const later = await untilDeadline(
        runtime,
        settleSeconds,
        async () => {
          const p = await prove();
          return p.rejected ? { ok: true as const, value: p } : { ok: false as const, why: p.detail };
        },
        SETTLE_INTERVAL_MS,
      );
      if (later.ok) return { ...later.value, detail: `${later.value.detail} (the pooler accepted it for a while after the change)` };
      return {
        ...proof,
        detail: `${proof.detail} through the pooler ${settleSeconds} s after the change: its credential cache still holds the old password`,
      };
    },

    async close() {
      const held = lock;
      lock = undefined;
      await held?.release();
      fresh = undefined;
    },
  };

  /** The value logs in: it is the one in use, and its session holds the rotation lock until close(). */
  async function adopt(value: Secret): Promise<void> {
    before = value;
    lock ??= await takeRotationLock(loginAs(value), user, target());
  }

  /** After a call whose outcome is unknown: which password the database takes now. */
  async function whichIsLive(chosen: Secret): Promise<'new' | 'old' | 'unknown'> {
    if ((await tryLogin(loginAs(chosen))).ok) return 'new';
    if (before && (await tryLogin(loginAs(before))).ok) return 'old';
    return 'unknown';
  }
}

function settleOf(value: unknown, path: string): number {
  if (value === undefined) return DEFAULT_SETTLE_SECONDS;
  if (typeof value !== 'number' || !(value > 0)) throw new RotationError(`${path}: expected a number of seconds greater than 0`);
  return value;
}

/** db_url as a Secret (it may be the project's connection string, password included: that part is not used). */
function dbUrlOf(value: unknown, path: string): Secret | undefined {
  if (value === undefined) return undefined;
  const url = value instanceof Secret ? value.reveal() : String(value);
  const problem = /^postgres(ql)?:\/\//.test(url) ? urlProblem(url) : 'expected a postgresql:// URL';
  if (problem) throw new RotationError(`${path}: not a usable PostgreSQL URL: ${problem}`);
  return new Secret(url);
}
