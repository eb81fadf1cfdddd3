import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import { Secret } from '../secret/secret.js';
import { DEFAULT_API_URL, digitalOceanClient, type AppSpecBindings, type Deployment, type StatusHints } from '../digitalocean/client.js';
import { credentialBindings, describeBindings, type Binding } from '../digitalocean/bindings.js';
import { linkedCluster } from '../digitalocean/linked-cluster.js';
import { loginsOf } from '../policy/logins.js';
import { optionsOf } from '../adapters/options.js';
import type { Consumer, ConsumerProof } from './consumer.js';

/** Phases after which a deployment will not move again. */
const FAILED = ['ERROR', 'CANCELED', 'SUPERSEDED'];

/**
 * A DigitalOcean App Platform app that reads the credential (from its env, or a secret the
 * deploy pulls): restarted (`mode: restart`, the default: same image, new containers) or
 * redeployed (`mode: deploy`), then watched until the deployment is ACTIVE. ERROR or CANCELED,
 * or no ACTIVE within timeout_minutes, fails the run with the app and deployment named.
 *
 * An app whose spec binds the cluster (`${db.PASSWORD}`, `${db.DATABASE_URL}`, pool bindings) gets
 * DigitalOcean's copy of the password when it is deployed, not the stored value (docs/digitalocean.md):
 * the preflight finds such bindings of the rotated user and refuses unless a deploy will bind the
 * new value, which is the case after digitalocean-reset (DigitalOcean sets its copy) with mode deploy.
 */
export const digitalOceanApp: AdapterFactory<Consumer> = (spec, ctx) => {
  const { runtime } = ctx;
  const o = optionsOf(spec, runtime);
  const appId = o.string('app_id');
  const mode = o.choice('mode', ['restart', 'deploy'], 'restart');
  const components = o.strings('components');
  const timeoutMs = o.number('timeout_minutes', 15) * 60_000;
  const pollMs = o.number('poll_seconds', 10) * 1000;

  // The consumer's own token, else the token of the credential's DigitalOcean cluster (its
  // system, or the one a postgres system links with cluster:/ca_from:).
  const cluster = linkedCluster(ctx);
  const token = o.optionalSecret('token') ?? cluster?.token;
  if (!token) throw new RotationError(`${spec.path}.token: expected a DigitalOcean API token, e.g. \${DIGITALOCEAN_TOKEN}`);
  runtime.reporter.mask(token);
  const apiUrl = o.optionalString('api_url') ?? cluster?.apiUrl ?? runtime.env.DIGITALOCEAN_API_URL ?? DEFAULT_API_URL;
  const client = digitalOceanClient(token, apiUrl, runtime);

  const label = `digitalocean-app ${appId} (${mode}${components ? ` ${components.join(', ')}` : ''})`;
  const hints: StatusHints = {
    401: 'DigitalOcean rejected the token (unknown, expired or revoked): create a new one and update DIGITALOCEAN_TOKEN',
    403: `the token may not ${mode} app ${appId}: it needs the app:read and app:update scopes`,
    404: `app ${appId} was not found: check ${spec.path}.app_id (doctl apps list) and that the token's team owns it`,
    422: `DigitalOcean refused to ${mode} app ${appId}: check ${spec.path}.components against the app's spec`,
  };

  /** The deployment the last refresh saw ACTIVE, re-read by prove(). */
  let active: Deployment | undefined;
  /** The app's bindings of the rotated user, found by check(). */
  let bound: Binding[] = [];
  const users = ctx.credential.method === 'alternating-roles' ? [ctx.credential.role, ...loginsOf(ctx.credential)] : [ctx.credential.role];
  const clusterHints: StatusHints = {
    ...hints,
    403: `the token of systems.${cluster?.id} lacks a scope: reading the cluster and its pools needs database:read, its copy of a password database:view_credentials`,
    404: `check systems.${cluster?.id}.cluster_id (the cluster's uuid) and that the token's team owns it`,
  };

  /** The bindings of the rotated user in the app's spec (the cluster's name and pools read only when it binds a database). */
  async function findBindings(appSpec: AppSpecBindings): Promise<Binding[]> {
    if (appSpec.databases.length === 0) return [];
    if (!cluster) return credentialBindings(appSpec, users, undefined);
    const db = digitalOceanClient(cluster.token, cluster.apiUrl, runtime);
    const [{ name }, pools] = await Promise.all([
      db.getCluster(cluster.clusterId, clusterHints),
      db.listPools(cluster.clusterId, clusterHints),
    ]);
    return credentialBindings(appSpec, users, { name, pools });
  }

  /** Refuses, before any change, an app a deploy would give a password other than the new one. */
  function judge(app: { id: string; name: string }, found: Binding[]): void {
    const what = `app ${app.name} (${app.id}) binds DigitalOcean's copy of a password the rotation changes: ${describeBindings(found)}`;
    const method = ctx.credential.method;
    if (method !== 'digitalocean-reset') {
      throw new RotationError(
        `${what}. App Platform injects DigitalOcean's copy when it deploys; ${method} changes the password with ALTER ROLE, which DigitalOcean does not document to update that copy${cluster ? '' : ` (systems.${ctx.system.id} names no cluster:, so every database component with that user counts)`}`,
        {
          hint: `give the app the stored value instead (an encrypted env var the deploy sets from the GitHub secret), or rotate the user with method digitalocean-reset and mode: deploy; nothing was changed`,
          code: 'NOT_ALLOWED',
        },
      );
    }
    if (mode !== 'deploy') {
      throw new RotationError(
        `${what}. App Platform binds them when it deploys; DigitalOcean does not document that a restart binds them again`,
        {
          hint: `set ${spec.path}.mode: deploy (a deployment binds DigitalOcean's copy, which the reset sets); nothing was changed`,
          code: 'NOT_ALLOWED',
        },
      );
    }
  }

  return {
    label,

    // App Platform offers no dry run of a restart or deployment and no read of a token's scopes:
    // the preflight proves the token can read the app (app:read). docs/consumers.md says so.
    async check() {
      const app = await client.getApp(appId, hints);
      bound = await findBindings(app.bindings);
      if (bound.length > 0) judge(app, bound);
    },

    async refresh() {
      const app = await client.getApp(appId, hints);
      const started = runtime.now().getTime();
      let deployment: Deployment =
        mode === 'restart'
          ? await client.restartApp(appId, components, hints)
          : await client.createDeployment(appId, o.flag('force_build'), hints);
      const name = `app ${app.name} (${appId}) deployment ${deployment.id}`;
      for (;;) {
        if (deployment.phase === 'ACTIVE') {
          active = deployment;
          const binds = bound.length > 0 ? `; it bound DigitalOcean's copy, set by the reset: ${describeBindings(bound)}` : '';
          return `${name} is ACTIVE after a ${mode}${binds}`;
        }
        if (FAILED.includes(deployment.phase)) {
          throw new RotationError(`${name} ended in phase ${deployment.phase}`, {
            hint: `read its logs (doctl apps logs ${appId} --deployment ${deployment.id}); the new password is stored: fix the app and rerun`,
          });
        }
        const left = started + timeoutMs - runtime.now().getTime();
        if (left <= 0) {
          throw new RotationError(`${name} was not ACTIVE within ${timeoutMs / 60_000} min (last phase ${deployment.phase})`, {
            hint: 'raise timeout_minutes or look at the deployment in the App Platform console',
            code: 'TIMEOUT',
          });
        }
        if (runtime.signal?.aborted) throw new RotationError(`waiting for ${name}: cancelled`, { code: 'CANCELLED' });
        await runtime.sleep(Math.min(pollMs, left));
        deployment = await client.getDeployment(appId, deployment.id, hints);
      }
    },

    async prove(value) {
      if (!active) throw new RotationError(`digitalocean-app ${appId}: no ACTIVE deployment to prove`);
      const read = await client.getDeployment(appId, active.id, hints);
      if (read.phase !== 'ACTIVE')
        throw new RotationError(`app ${appId} deployment ${active.id} reads back in phase ${read.phase}, not ACTIVE`);
      const detail = `deployment ${active.id} of app ${appId}, started after the new value was stored, reads back ACTIVE`;
      return bound.length > 0 && cluster ? proveBoundCopy(value, detail) : { proof: 'read-back', detail };
    },
  };

  /** What the deployment bound: DigitalOcean's copy of each bound user's password, read back and compared with the new value. */
  async function proveBoundCopy(value: Secret, detail: string): Promise<ConsumerProof> {
    const db = digitalOceanClient(cluster!.token, cluster!.apiUrl, runtime);
    for (const user of new Set(bound.map((b) => b.user))) {
      const same = await db.storedPasswordIs(cluster!.clusterId, user, value, clusterHints);
      if (same === false)
        throw new RotationError(`DigitalOcean's copy of ${user}'s password, which app ${appId} binds, is not the new value`);
      if (same === undefined)
        return {
          proof: 'read-back',
          detail: `${detail}; DigitalOcean's copy it binds was not read (the token lacks database:view_credentials)`,
        };
    }
    return {
      proof: 'read-back',
      detail: `${detail}; DigitalOcean's copy it binds (${[...new Set(bound.map((b) => b.user))].join(', ')}) is the new value`,
    };
  }
};
