import type { Runtime } from '../runtime/runtime.js';
import type { ServerCa } from '../postgres/tls.js';
import type { DigitalOceanSettings } from './settings.js';

/** One read per cluster and run (a run's policy holds one token Secret): its connections trust the same CA. */
const cache = new WeakMap<object, Map<string, Promise<string>>>();

/**
 * The CA that signed a DigitalOcean cluster's certificate, read from `GET /v2/databases/{uuid}/ca`
 * (scope database:read) the first time a connection needs it. `onlyToVerify`: read for
 * verify-ca/verify-full only, so `require` keeps meaning "encrypt, do not verify".
 */
export function clusterCa(settings: DigitalOceanSettings, runtime: Runtime, source: string, onlyToVerify = false): ServerCa {
  return {
    source,
    onlyToVerify,
    load: () => {
      const key = `${settings.apiUrl}|${settings.clusterId}`;
      const reads = cache.get(settings.token) ?? new Map<string, Promise<string>>();
      cache.set(settings.token, reads);
      let pending = reads.get(key);
      if (!pending) {
        // Loaded here, not at the top: alter-role runs need DigitalOcean's client only when they verify against it.
        pending = import('./client.js').then(({ digitalOceanClient }) =>
          digitalOceanClient(settings.token, settings.apiUrl, runtime).getCa(settings.clusterId, {
            401: 'DigitalOcean rejected the token (unknown, expired or revoked): create a new one and update DIGITALOCEAN_TOKEN',
            403: "the token lacks the database:read scope, needed to read the cluster's CA certificate",
            404: `check systems.${settings.id}.cluster_id (the cluster's uuid) and that the token's team owns it`,
          }),
        );
        reads.set(key, pending);
        pending.catch(() => reads.delete(key));
      }
      return pending;
    },
  };
}
