import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../engine/errors.js';
import { supabaseSystem, tryProjectKey } from '../supabase/client.js';
import { untilDeadline } from '../engine/deadline.js';
import type { HealthProbe } from './probe.js';

/**
 * The project's API answers the new key: `GET {project_url}/rest/v1/` with it in the `apikey`
 * header must give 200, retried until timeout_seconds (default 60) while the key propagates.
 */
export const supabaseApiProbe: AdapterFactory<HealthProbe> = (spec, ctx) => {
  const { runtime } = ctx;
  if (ctx.system.type !== 'supabase') throw new RotationError(`${spec.path}: needs a credential of a system of type supabase`);
  const sys = supabaseSystem(ctx.system, runtime);
  const projectUrl = typeof spec.options.project_url === 'string' ? spec.options.project_url.replace(/\/+$/, '') : sys.projectUrl;
  const timeout = Number(spec.options.timeout_seconds ?? 60);
  return {
    label: `supabase-api ${projectUrl}/rest/v1/`,
    async probe(value) {
      const result = await untilDeadline(runtime, timeout, async () => {
        const seen = await tryProjectKey(runtime, projectUrl, value);
        return seen.status === 200 ? { ok: true, value: 'HTTP 200 with the new key' } : { ok: false, why: 'error' in seen ? seen.error : `HTTP ${seen.status}, expected 200` };
      });
      if (!result.ok) throw new RotationError(`${projectUrl}/rest/v1/: ${result.why} (after ${result.tries} tries over ${timeout}s)`);
      return result.value;
    },
  };
};
