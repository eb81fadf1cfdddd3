import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import { supabaseSystem } from '../supabase/client.js';
import { describeProbe, tryProjectKey } from '../supabase/project-key.js';
import { untilDeadline } from '../runtime/deadline.js';
import { optionsOf } from '../adapters/options.js';
import type { HealthProbe } from './probe.js';

/**
 * The project's API answers the new key: presented in the `apikey` header where Supabase serves
 * its kind (a secret key at `/rest/v1/`, a publishable key at `/auth/v1/settings`: see
 * project-key.ts), it must get 200, retried until timeout_seconds (default 60) while it propagates.
 */
export const supabaseApiProbe: AdapterFactory<HealthProbe> = (spec, ctx) => {
  const { runtime } = ctx;
  if (ctx.system.type !== 'supabase') throw new RotationError(`${spec.path}: needs a credential of a system of type supabase`);
  const sys = supabaseSystem(ctx.system, runtime);
  const o = optionsOf(spec, runtime);
  const projectUrl = o.optionalString('project_url') ?? sys.projectUrl;
  const timeout = o.number('timeout_seconds', 60);
  return {
    label: `supabase-api ${projectUrl}`,
    async probe(value) {
      const result = await untilDeadline(runtime, timeout, async () => {
        const seen = await tryProjectKey(runtime, projectUrl, value);
        return seen.status === 200
          ? { ok: true, value: `HTTP 200 with the new key at ${seen.url}` }
          : { ok: false, why: `${describeProbe(seen)}; expected 200` };
      });
      if (!result.ok) throw new RotationError(`supabase-api: ${result.why} (after ${result.tries} tries over ${timeout}s)`);
      return result.value;
    },
  };
};
