import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import { jsonCall } from '../http/json-call.js';
import { joinUrl, REQUEST_TIMEOUT_MS } from '../http/request.js';
import { HttpError, statusOf } from '../http/http-error.js';
import type { Secret } from '../secret/secret.js';
import { renderFormat } from '../adapters/format.js';
import type { Consumer } from './consumer.js';
import { optionsOf, hasPasswordPlaceholder } from '../adapters/options.js';

/** What to tell a person for each n8n release whose API cannot take the update (see docs/consumers.md). */
const VERSION_ISSUES = {
  tooOld:
    'this n8n predates PATCH /api/v1/credentials/{id} (partial credential update, PR #23431, first in n8n 2.3.0): upgrade n8n to a release with PR #35680 (merged 2026-08), not 2.39.5',
  patch405:
    'this n8n reads the credential but answers 405 to PATCH: n8n 2.39.5 has that regression (issue #38746); move to a release with the fix, or back to 2.38.x if it includes PR #35680',
  strictPartial:
    "this n8n validates partial credential data against the credential type's whole schema, so a partial update is refused for lacking fields it would keep (fixed by PR #35680, merged 2026-08): upgrade n8n",
} as const;

/**
 * An n8n credential whose data holds the rotated value (a Postgres password, a Supabase key).
 * The public API's PATCH with isPartialData merges only the keys given, so the credential's other
 * fields (host, user, …) stay as they are. The preflight sends the same PATCH with no data
 * (`{data: {}, isPartialData: true}`): a no-op that every release which cannot take the real
 * update refuses the same way (405, or 400 for the whole-schema validation), before anything
 * changed. n8n still records it (the credential's updatedAt moves), so a dry run does not send it. After the update n8n tests the stored credential itself (POST …/{id}/test) where the
 * release has that route; the public API never returns credential data.
 */
export const n8nCredential: AdapterFactory<Consumer> = (spec, ctx) => {
  const { runtime } = ctx;
  const o = optionsOf(spec, runtime);
  const base = o.url('url');
  const apiKey = o.secret('api_key');
  const id = o.value('credential_id');
  if (!((typeof id === 'string' && id.trim() !== '') || (typeof id === 'number' && Number.isInteger(id)))) {
    throw new RotationError(`${spec.path}.credential_id: expected the credential's id (from its URL in n8n)`);
  }
  const data = o.mapping('data') ?? { password: '{password}' };
  if (!mentionsPassword(data))
    throw new RotationError(`${spec.path}.data: no value contains {password}, so the rotated value would never reach n8n`);
  const timeoutMs = o.number('timeout_seconds', REQUEST_TIMEOUT_MS / 1000) * 1000;
  const credentialUrl = joinUrl(base, `/api/v1/credentials/${encodeURIComponent(String(id))}`);
  const where = `n8n ${base} credential ${String(id)}`;
  const headers = () => ({ 'x-n8n-api-key': apiKey.reveal() });
  const hints: Record<number, string> = {
    401: `n8n refused the API key (${spec.path}.api_key): it is wrong, expired or deleted; create one under Settings → n8n API`,
    403: 'the API key lacks a scope this needs (credential:read and credential:update; on enterprise plans keys are scoped)',
    404: `n8n has no credential '${String(id)}' that this key can see: copy the id from the credential's URL`,
  };
  const patch = (what: string, body: unknown, scrub?: (t: string) => string) =>
    jsonCall(runtime, `${where}: ${what}`, credentialUrl, {
      method: 'PATCH',
      headers: headers(),
      body,
      timeoutMs,
      hints: { ...hints, 400: hint400('') },
      scrub,
    });

  return {
    label: `n8n-credential ${base} ${String(id)}`,

    async check(dryRun) {
      // The read proves the key and the id; a 405 here means the release has no /credentials/{id}.
      const read = await jsonCall(runtime, `${where}: read`, credentialUrl, { headers: headers(), timeoutMs, hints }).catch(
        (error: unknown) => {
          throw statusOf(error) === 405 ? versionError(`${where}: reading the credential answered HTTP 405`, VERSION_ISSUES.tooOld) : error;
        },
      );
      // The no-op below cannot see the data's keys: the type's schema can, before any change.
      const type = (read.json as { type?: unknown } | undefined)?.type;
      if (typeof type === 'string') await checkKeys(type);
      // The no-op still moves the credential's updatedAt: a dry run writes nothing anywhere.
      if (dryRun) {
        return `the no-op partial update is not sent in a dry run (n8n would record it as a change of the credential); the API key, its read access, the credential id${typeof type === 'string' ? " and the data's fields" : ''} were checked; whether this release takes a partial update (2.39.5 and releases before PR #35680 do not) is proven by a real run's preflight, before anything changes`;
      }
      // The no-op partial update: refused exactly as the real one would be, and changes no data.
      await patch('no-op partial update (preflight)', { data: {}, isPartialData: true }).catch((error: unknown) => {
        throw refusal(error, 'the no-op partial update (preflight)');
      });
    },

    async refresh(value) {
      await patch('update', { data: renderData(data, value, ctx.user?.()), isPartialData: true }, (t) =>
        t.split(value.reveal()).join('***'),
      ).catch((error: unknown) => {
        throw refusal(error, 'the update');
      });
      return `${where}: ${Object.keys(data).join(', ')} updated (partial)`;
    },

    async prove() {
      // n8n's own test of the credential it stored (a login with the stored data); older
      // releases have no such route, and the public API never returns credential data.
      let answer: unknown;
      try {
        answer = (
          await jsonCall(runtime, `${where}: test the stored credential`, `${credentialUrl}/test`, {
            method: 'POST',
            headers: headers(),
            timeoutMs,
            hints,
          })
        ).json;
      } catch (error) {
        const status = statusOf(error);
        if (status !== 404 && status !== 405) throw error;
        return {
          proof: 'sent-value-only',
          detail: `this n8n has no credential test (POST /api/v1/credentials/{id}/test answered ${status}) and its API never returns credential data: only the accepted update is known`,
        };
      }
      const result = (answer ?? {}) as { status?: unknown; message?: unknown };
      if (result.status !== 'OK') {
        throw new RotationError(
          `${where}: n8n's test of the stored credential failed: ${typeof result.message === 'string' ? result.message : 'no reason given'}`,
          {
            hint: `n8n now holds the new value but cannot connect with it: check ${spec.path}.data and the credential's other fields in n8n, then rerun`,
            code: 'N8N_TEST_FAILED',
          },
        );
      }
      return {
        proof: 'read-back',
        detail: `n8n tested the credential it stored: ${typeof result.message === 'string' ? result.message : 'OK'}`,
      };
    },
  };

  /** Each key of the data mapping must be a field of the credential's type, of a type a template can fill. */
  async function checkKeys(type: string): Promise<void> {
    let schema: { properties?: Record<string, { type?: string }> } | undefined;
    try {
      schema = (
        await jsonCall(
          runtime,
          `n8n ${base}: read the schema of credential type ${type}`,
          joinUrl(base, `/api/v1/credentials/schema/${encodeURIComponent(type)}`),
          { headers: headers(), timeoutMs, hints: { 401: hints[401] } },
        )
      ).json as typeof schema;
    } catch (error) {
      if (statusOf(error) === 404) return; // not offered: the update's own validation remains
      throw error;
    }
    const fields = schema?.properties ?? {};
    for (const [key, v] of Object.entries(data as Record<string, unknown>)) {
      const field = fields[key];
      if (!field)
        throw new RotationError(
          `${spec.path}.data: '${key}' is not a field of n8n credential type ${type} (its fields: ${Object.keys(fields).join(', ')})`,
          { hint: 'fix the data mapping; nothing was changed' },
        );
      const given = typeof v === 'string' ? 'string' : typeof v;
      if (field.type && ['string', 'number', 'boolean'].includes(field.type) && field.type !== given) {
        throw new RotationError(`${spec.path}.data.${key}: n8n credential type ${type} takes a ${field.type} there, not a ${given}`, {
          hint: 'fix the data mapping; nothing was changed',
        });
      }
    }
  }

  /** A refused PATCH, named by its cause: the release (405, whole-schema 400) or the data. */
  function refusal(error: unknown, what: string): unknown {
    const status = statusOf(error);
    if (status === 405) return versionError(`${where}: ${what} was refused with HTTP 405`, VERSION_ISSUES.patch405);
    if (status !== 400) return error;
    const said = error instanceof HttpError ? (error.serverMessage ?? '') : '';
    if (/requires property/.test(said))
      return versionError(`${where}: ${what} was refused with HTTP 400 (${said})`, VERSION_ISSUES.strictPartial);
    return new RotationError(`${where}: ${what} was refused with HTTP 400 (${said || 'no reason given'})`, { hint: hint400(said) });
  }
};

function versionError(message: string, hint: string): RotationError {
  return new RotationError(message, { hint: `${hint}. Nothing was changed in n8n`, code: 'N8N_VERSION' });
}

/** The 400 hint by n8n's own words: an unknown key, a wrong type, or else the request shape. */
function hint400(said: string): string {
  if (/additional property/.test(said))
    return "a key of the data mapping is not a field of the credential's type: GET /api/v1/credentials/schema/{type} lists the fields";
  if (/is not of a type/.test(said))
    return 'a value of the data mapping has the wrong type for its field: GET /api/v1/credentials/schema/{type} lists the types';
  return 'n8n refused the request; its message says which part';
}

function mentionsPassword(value: unknown): boolean {
  if (typeof value === 'string') return hasPasswordPlaceholder(value);
  if (value && typeof value === 'object') return Object.values(value).some(mentionsPassword);
  return false;
}

/** The data with {password} (and {user}) filled in: plaintext, built only for the request body. */
function renderData(v: unknown, value: Secret, user: string | undefined): unknown {
  if (typeof v === 'string') return hasPasswordPlaceholder(v) || v.includes('{user}') ? renderFormat(v, value, user).reveal() : v;
  if (Array.isArray(v)) return v.map((x) => renderData(x, value, user));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderData(x, value, user)]));
  return v;
}
