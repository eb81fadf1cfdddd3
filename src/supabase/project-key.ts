import type { Runtime } from '../runtime/runtime.js';
import type { Secret } from '../secret/secret.js';
import { joinUrl, PROBE_TRY_TIMEOUT_MS, runtimeRequest } from '../http/request.js';

/**
 * Where a Supabase API key is presented to prove it live (200) or dead (401), as Supabase serves
 * keys since 2026-03-11 (changelog "Removing access to OpenAPI spec via the anon key"):
 * - secret keys (`sb_secret_…`, legacy service_role JWT): `GET /rest/v1/`, the Data API's OpenAPI
 *   root, which only they may read;
 * - publishable keys (`sb_publishable_…`, legacy anon JWT) and anything else:
 *   `GET /auth/v1/settings`, Supabase Auth's public settings, which answers 200 to any live key
 *   and 401 to a missing, unknown or deleted one. `/rest/v1/` would answer them 403.
 */
export function keyProbePath(key: Secret): '/rest/v1/' | '/auth/v1/settings' {
  const value = key.reveal();
  if (value.startsWith('sb_secret_')) return '/rest/v1/';
  if (value.startsWith('sb_')) return '/auth/v1/settings';
  return jwtRole(value) === 'service_role' ? '/rest/v1/' : '/auth/v1/settings';
}

/** The `role` claim of a legacy JWT key, or undefined. */
function jwtRole(value: string): string | undefined {
  const payload = value.split('.')[1];
  if (!payload) return undefined;
  try {
    return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { role?: unknown }).role as string | undefined;
  } catch {
    return undefined;
  }
}

export interface KeyProbe {
  /** HTTP status, 0 when no answer came. */
  status: number;
  /** The URL the key was presented to (no key in it). */
  url: string;
  /** A network failure or timeout. */
  error?: string;
  /** On 401/403: the gateway's own `message` and `hint` (fixed texts, never an echo of the key). */
  refusal?: string;
}

/** Presents a key to the project's API gateway (`apikey` header) where its kind is served. */
export async function tryProjectKey(runtime: Runtime, projectUrl: string, key: Secret): Promise<KeyProbe> {
  const path = keyProbePath(key);
  const url = joinUrl(projectUrl, path);
  try {
    const response = await runtimeRequest(runtime, url, {
      headers: { apikey: key.reveal(), accept: path === '/rest/v1/' ? 'application/openapi+json' : 'application/json' },
      timeoutMs: PROBE_TRY_TIMEOUT_MS,
    });
    if (response.status !== 401 && response.status !== 403) {
      await response.body?.cancel();
      return { status: response.status, url };
    }
    return { status: response.status, url, refusal: gatewayWords(await response.text().catch(() => '')) };
  } catch (error) {
    const e = error as Error;
    return { status: 0, url, error: e.name === 'TimeoutError' ? 'timed out' : e.message };
  }
}

/** `message: hint` from a gateway error body, kept only when it reads as the gateway's fixed text. */
function gatewayWords(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { message?: unknown; hint?: unknown };
    const words = [body.message, body.hint].filter(
      (w): w is string => typeof w === 'string' && w.length < 200 && !/sb_(secret|publishable)_|eyJ/.test(w),
    );
    return words.length ? words.join(': ') : undefined;
  } catch {
    return undefined;
  }
}

/** What a probe's answer means, for a person: a 403 is a key type the endpoint does not take. */
export function describeProbe(seen: KeyProbe): string {
  if (seen.error !== undefined) return `${seen.url}: ${seen.error}`;
  const words = seen.refusal ? ` (${seen.refusal})` : '';
  if (seen.status === 403)
    return `HTTP 403 at ${seen.url}${words}: the key is live, but Supabase does not allow this kind of key on that endpoint`;
  if (seen.status === 401) return `HTTP 401 at ${seen.url}${words}: Supabase does not know this key (unknown or deleted)`;
  return `HTTP ${seen.status} at ${seen.url}`;
}
