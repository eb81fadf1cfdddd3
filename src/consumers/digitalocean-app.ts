import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import type { ProviderSystem } from '../policy/types.js';
import { Secret } from '../secret/secret.js';
import { DEFAULT_API_URL, digitalOceanClient, type Deployment, type StatusHints } from '../digitalocean/client.js';
import { positive } from '../adapters/options.js';
import type { Consumer } from './consumer.js';

/** Phases after which a deployment will not move again. */
const FAILED = ['ERROR', 'CANCELED', 'SUPERSEDED'];

/**
 * A DigitalOcean App Platform app that reads the credential (from its env, or a secret the
 * deploy pulls): restarted (`mode: restart`, the default: same image, new containers) or
 * redeployed (`mode: deploy`), then watched until the deployment is ACTIVE. ERROR or CANCELED,
 * or no ACTIVE within timeout_minutes, fails the run with the app and deployment named.
 */
export const digitalOceanApp: AdapterFactory<Consumer> = (spec, ctx) => {
  const o = spec.options;
  const { runtime } = ctx;
  const appId = typeof o.app_id === 'string' && o.app_id !== '' ? o.app_id : undefined;
  if (!appId) throw new RotationError(`${spec.path}.app_id: expected the App Platform app's id`);
  const mode = o.mode ?? 'restart';
  if (mode !== 'restart' && mode !== 'deploy') throw new RotationError(`${spec.path}.mode: expected restart | deploy`);
  const components = Array.isArray(o.components) ? o.components.map(String) : undefined;
  const timeoutMs = positive(o.timeout_minutes, 15, `${spec.path}.timeout_minutes`) * 60_000;
  const pollMs = positive(o.poll_seconds, 10, `${spec.path}.poll_seconds`) * 1000;

  // The consumer's own token, else the token of the credential's DigitalOcean system.
  const system = ctx.system as ProviderSystem;
  const raw = o.token ?? (system.type === 'digitalocean' ? system.settings.token : undefined);
  if (!(raw instanceof Secret) && (typeof raw !== 'string' || raw === '')) {
    throw new RotationError(`${spec.path}.token: expected a DigitalOcean API token, e.g. \${DIGITALOCEAN_TOKEN}`);
  }
  const token = raw instanceof Secret ? raw : new Secret(raw);
  runtime.reporter.mask(token);
  const systemUrl = system.type === 'digitalocean' && typeof system.settings.api_url === 'string' ? system.settings.api_url : undefined;
  const apiUrl = typeof o.api_url === 'string' ? o.api_url : (systemUrl ?? runtime.env.DIGITALOCEAN_API_URL ?? DEFAULT_API_URL);
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

  return {
    label,

    // App Platform offers no dry run of a restart or deployment and no read of a token's scopes:
    // the preflight proves the token can read the app (app:read). docs/consumers.md says so.
    async check() {
      await client.getApp(appId, hints);
    },

    async refresh() {
      const app = await client.getApp(appId, hints);
      const started = runtime.now().getTime();
      let deployment: Deployment =
        mode === 'restart' ? await client.restartApp(appId, components, hints) : await client.createDeployment(appId, Boolean(o.force_build), hints);
      const name = `app ${app.name} (${appId}) deployment ${deployment.id}`;
      for (;;) {
        if (deployment.phase === 'ACTIVE') {
          active = deployment;
          return `${name} is ACTIVE after a ${mode}`;
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

    async prove() {
      if (!active) throw new RotationError(`digitalocean-app ${appId}: no ACTIVE deployment to prove`);
      const read = await client.getDeployment(appId, active.id, hints);
      if (read.phase !== 'ACTIVE') throw new RotationError(`app ${appId} deployment ${active.id} reads back in phase ${read.phase}, not ACTIVE`);
      return { proof: 'read-back', detail: `deployment ${active.id} of app ${appId}, started after the new value was stored, reads back ACTIVE` };
    },
  };
};
