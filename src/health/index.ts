import type { AdapterFactory } from '../engine/adapters.js';
import type { HealthProbe } from './probe.js';
import { noStaleSessions } from './no-stale-sessions.js';
import { supabaseApiProbe } from './supabase-api.js';
import { httpProbe } from './http.js';
import { postgresLogin } from './postgres-login.js';

/** Every health probe kind, by the key the policy uses. */
export const PROBES: Record<string, AdapterFactory<HealthProbe>> = {
  'no-stale-sessions': noStaleSessions,
  http: httpProbe,
  'postgres-login': postgresLogin,
  'supabase-api': supabaseApiProbe,
};
