import { createHash } from 'node:crypto';
import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import { renderFormat } from '../adapters/format.js';
import { DEFAULT_API_URL, supabaseClient, supabaseSystem, type SupabaseTarget } from '../supabase/client.js';
import type { Consumer } from './consumer.js';
import { optionsOf } from '../adapters/options.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Supabase's limit on an Edge Function secret value. */
const MAX_VALUE = 24_576;

/**
 * Sets Edge Function secrets to the new value (or a `format` derived from it). Edge Functions
 * read secrets at each cold start, so no redeploy is needed. The project and token default to the
 * credential's `supabase` system; a credential of another system (a Postgres password the
 * functions use) names them here.
 */
export const supabaseFunctionSecrets: AdapterFactory<Consumer> = (spec, ctx) => {
  const { runtime } = ctx;
  const o = optionsOf(spec, runtime);
  const names = o.strings('names') ?? [];
  if (names.length === 0) throw new RotationError(`${spec.path}.names: expected a list of Edge Function secret names`);
  for (const name of names) {
    if (!NAME.test(name) || /^SUPABASE_/i.test(name)) {
      throw new RotationError(
        `${spec.path}.names: '${name}' cannot be an Edge Function secret: names are letters, digits and '_', and must not start with SUPABASE_ (reserved by Supabase)`,
      );
    }
  }
  const fromSystem = ctx.system.type === 'supabase' ? supabaseSystem(ctx.system, runtime) : undefined;
  const projectRef = o.optionalString('project_ref') ?? fromSystem?.projectRef;
  if (!projectRef) throw new RotationError(`${spec.path}.project_ref: required when the credential's system is not of type supabase`);
  const token = o.optionalSecret('access_token') ?? fromSystem?.token;
  if (!token) throw new RotationError(`${spec.path}.access_token: required when the credential's system is not of type supabase`);
  runtime.reporter.mask(token);
  const target: SupabaseTarget = {
    projectRef,
    token,
    apiUrl: o.optionalString('api_url') ?? fromSystem?.apiUrl ?? runtime.env.SUPABASE_API_URL ?? DEFAULT_API_URL,
  };
  const api = supabaseClient(runtime, target);
  const format = o.optionalString('format');
  const list = names.join(', ');

  return {
    label: `supabase-function-secrets ${projectRef} ${list}`,

    // The Management API offers no dry run of a secrets write: the preflight proves the token
    // reads the project's secrets (secrets:read). docs/consumers.md says so.
    async check() {
      await api.listSecrets();
    },

    async refresh(value) {
      const rendered = renderFormat(format, value, ctx.user?.());
      if (rendered.reveal().length > MAX_VALUE) {
        throw new RotationError(`${spec.path}: the value is ${rendered.reveal().length} characters; Supabase takes at most ${MAX_VALUE}`);
      }
      await api.setSecrets(names.map((name) => ({ name, value: rendered })));
      return `Edge Function secret(s) ${list} set in project ${projectRef} (no redeploy needed)`;
    },

    async prove(value) {
      const rendered = renderFormat(format, value, ctx.user?.());
      const listed = await api.listSecrets();
      const missing = names.filter((name) => !listed.some((s) => s.name === name));
      if (missing.length > 0)
        throw new RotationError(`Supabase project ${projectRef}: secret(s) ${missing.join(', ')} are missing after they were set`, {
          hint: 'rerun the rotation; the old key is still valid',
        });
      // Supabase lists each value as its SHA-256 digest: compare it, never record it.
      const digest = createHash('sha256').update(rendered.reveal()).digest('hex');
      const shown = (name: string) => listed.find((s) => s.name === name)?.value;
      const stale = names.filter((name) => {
        const v = shown(name);
        return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) && v !== digest;
      });
      if (stale.length > 0)
        throw new RotationError(
          `Supabase project ${projectRef}: secret(s) ${stale.join(', ')} do not hold the new value after they were set`,
          { hint: 'rerun the rotation; the old key is still valid' },
        );
      const compared = names.filter((name) => /^[0-9a-f]{64}$/.test(String(shown(name))));
      return compared.length === names.length
        ? { proof: 'read-back', detail: `Supabase lists ${list} with the SHA-256 digest of the new value` }
        : {
            proof: 'sent-value-only',
            detail: `Supabase lists ${list} but shows no digest for ${names.filter((n) => !compared.includes(n)).join(', ')}: only the accepted write is known`,
          };
    },
  };
};
