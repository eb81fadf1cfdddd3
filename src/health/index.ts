import type { AdapterFactory } from '../engine/adapters.js';
import type { HealthProbe } from './probe.js';
import { httpProbe } from './http.js';
import { postgresLogin } from './postgres-login.js';

/** Every health probe kind, by the key the policy uses. */
export const PROBES: Record<string, AdapterFactory<HealthProbe>> = {
  http: httpProbe,
  'postgres-login': postgresLogin,
};
