import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../engine/errors.js';
import { jsonCall, statusOf } from '../http/json-call.js';
import type { Secret } from '../secret/secret.js';
import { renderFormat } from '../stores/format.js';
import type { Consumer } from './consumer.js';
import { hasPasswordPlaceholder, httpUrl, positive, secretOption } from './options.js';

const TOO_OLD =
  'this n8n does not offer PATCH /api/v1/credentials/{id} (partial credential update, n8n PR #23431, Dec 2025): upgrade n8n; 2.39.5 answers 405 by mistake (issue #38746), use an earlier 2.38.x or a fixed later release';

/**
 * An n8n credential whose data holds the rotated value (a Postgres password, a Supabase key).
 * The public API's PATCH with isPartialData merges only the keys given, so the credential's other
 * fields (host, user, …) stay as they are.
 */
export const n8nCredential: AdapterFactory<Consumer> = (spec, ctx) => {
  const { runtime } = ctx;
  const o = spec.options;
  const base = httpUrl(o.url, `${spec.path}.url`);
  const apiKey = secretOption(o.api_key, `${spec.path}.api_key`, runtime);
  const id = o.credential_id;
  if (!((typeof id === 'string' && id.trim() !== '') || (typeof id === 'number' && Number.isInteger(id)))) {
    throw new RotationError(`${spec.path}.credential_id: expected the credential's id (from its URL in n8n)`);
  }
  const data = o.data === undefined ? { password: '{password}' } : o.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new RotationError(`${spec.path}.data: expected a mapping of credential fields`);
  if (!mentionsPassword(data)) throw new RotationError(`${spec.path}.data: no value contains {password}, so the rotated value would never reach n8n`);
  const timeoutMs = positive(o.timeout_seconds, 30, `${spec.path}.timeout_seconds`) * 1000;
  const credentialUrl = `${base}/api/v1/credentials/${encodeURIComponent(String(id))}`;
  const where = `n8n ${base} credential ${String(id)}`;
  const headers = () => ({ 'x-n8n-api-key': apiKey.reveal() });
  const hints: Record<number, string> = {
    401: `n8n refused the API key (${spec.path}.api_key): it is wrong, expired or deleted; create one under Settings → n8n API`,
    403: 'the API key lacks a scope this needs (credential:update; on enterprise plans keys are scoped)',
    404: `n8n has no credential '${String(id)}' that this key can see: copy the id from the credential's URL`,
    405: TOO_OLD,
  };

  return {
    label: `n8n-credential ${base} ${String(id)}`,

    async check() {
      // GET /api/v1/credentials/{id} (the public API's read of one credential's metadata, no data)
      // proves both the key and the id. Versions without that route answer 405: then the key is
      // proven with GET /api/v1/workflows?limit=1, which every public API version has.
      try {
        await jsonCall(runtime, `${where}: read`, credentialUrl, { headers: headers(), timeoutMs, hints });
      } catch (error) {
        if (statusOf(error) !== 405) throw error;
        await jsonCall(runtime, `n8n ${base}: check the API key`, `${base}/api/v1/workflows?limit=1`, { headers: headers(), timeoutMs, hints });
        runtime.reporter.warning(`${where}: this n8n cannot read one credential, so its id is checked only by the update; if the update answers 405: ${TOO_OLD}`);
      }
    },

    async refresh(value) {
      try {
        await jsonCall(runtime, `${where}: update`, credentialUrl, {
          method: 'PATCH',
          headers: headers(),
          body: { data: renderData(data, value), isPartialData: true },
          timeoutMs,
          hints: { ...hints, 400: "n8n refused the data: its keys must be fields of the credential's type (GET /api/v1/credentials/schema/{type} lists them)" },
          scrub: (t) => t.split(value.reveal()).join('***'),
        });
      } catch (error) {
        if (statusOf(error) === 405) throw new RotationError(`${where}: update refused with HTTP 405`, { hint: TOO_OLD, code: 'N8N_TOO_OLD' });
        throw error;
      }
      return `${where}: ${Object.keys(data).join(', ')} updated (partial)`;
    },
  };
};

function mentionsPassword(value: unknown): boolean {
  if (typeof value === 'string') return hasPasswordPlaceholder(value);
  if (value && typeof value === 'object') return Object.values(value).some(mentionsPassword);
  return false;
}

/** The data with {password} filled in: plaintext, built only for the request body. */
function renderData(v: unknown, value: Secret): unknown {
  if (typeof v === 'string') return hasPasswordPlaceholder(v) ? renderFormat(v, value).reveal() : v;
  if (Array.isArray(v)) return v.map((x) => renderData(x, value));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renderData(x, value)]));
  return v;
}
