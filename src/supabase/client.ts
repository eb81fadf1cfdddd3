import type { Runtime } from '../runtime/runtime.js';
import { RotationError } from '../errors/errors.js';
import { statusOf, type StatusHints } from '../http/http-error.js';
import { jsonCall } from '../http/json-call.js';
import { withRetry, runtimeRetry } from '../http/retry.js';
import { joinUrl } from '../http/request.js';
import { Secret } from '../secret/secret.js';
import type { SystemPolicy } from '../policy/types.js';

export const DEFAULT_API_URL = 'https://api.supabase.com';

export type KeyType = 'legacy' | 'publishable' | 'secret';

/** An API key as the Management API lists it; the value is wrapped at once. */
export interface ApiKey {
  id: string;
  name: string;
  type: KeyType;
  value?: Secret;
}

export interface SupabaseTarget {
  projectRef: string;
  token: Secret;
  apiUrl: string;
}

/** The connection details of a `type: supabase` system (project_url defaults to the ref's). */
export function supabaseSystem(system: SystemPolicy, runtime: Runtime): SupabaseTarget & { projectUrl: string } {
  const s = 'settings' in system ? system.settings : {};
  const projectRef = String(s.project_ref ?? '');
  // The Management API's description: a ref is 20 lower-case letters (`components.parameters.ref`).
  if (!/^[a-z]{20}$/.test(projectRef))
    throw new RotationError(`systems.${system.id}.project_ref: expected a Supabase project ref (20 lower-case letters)`);
  const token = asSecret(s.access_token, `systems.${system.id}.access_token`);
  runtime.reporter.mask(token);
  return {
    projectRef,
    token,
    apiUrl: String(s.api_url ?? runtime.env.SUPABASE_API_URL ?? DEFAULT_API_URL),
    projectUrl: String(s.project_url ?? `https://${projectRef}.supabase.co`),
  };
}

export function asSecret(value: unknown, path: string): Secret {
  if (value instanceof Secret) return value;
  if (typeof value === 'string' && value !== '') return new Secret(value);
  throw new RotationError(`${path}: expected a Supabase access token (sbp_…), usually \${SUPABASE_ACCESS_TOKEN}`);
}

/** What each status means for a Management API call, for a person to act on. */
function hintsFor(t: SupabaseTarget, extra: StatusHints): StatusHints {
  return {
    401: 'Supabase rejected the access token: create a personal access token (sbp_…) at https://supabase.com/dashboard/account/tokens and pass it as access_token',
    403: `the token's account may not manage project ${t.projectRef}: it needs the Owner or Administrator role in the project's organization`,
    404: `project ${t.projectRef} was not found: check project_ref and that the token's account can see it`,
    429: 'Supabase rate limit (120 requests per minute per user and endpoint); retried with backoff',
    ...extra,
  };
}

/**
 * The few Management API calls the rotation uses. Every call goes through runtime.fetch (so tests
 * model the API), retries 429/5xx/network failures, and builds errors from the status and
 * Supabase's own message only: never from a request body or a revealed key.
 */
export function supabaseClient(runtime: Runtime, t: SupabaseTarget) {
  const base = joinUrl(t.apiUrl, `/v1/projects/${encodeURIComponent(t.projectRef)}`);

  /** One Management API call through the project's one HTTP client (jsonCall). */
  async function call(
    what: string,
    method: string,
    path: string,
    body: unknown,
    hints: StatusHints = {},
    attempts?: number,
  ): Promise<unknown> {
    const result = await jsonCall(runtime, `Supabase: ${what}`, joinUrl(base, path), {
      method,
      headers: { authorization: `Bearer ${t.token.reveal()}` },
      body,
      hints: hintsFor(t, hints),
      attempts,
    });
    return result.json;
  }

  const retryOptions = runtimeRetry(runtime);

  const toKey = (raw: Record<string, unknown>): ApiKey => ({
    id: String(raw.id ?? raw.name),
    name: String(raw.name),
    type: (raw.type ?? 'legacy') as KeyType,
    value: typeof raw.api_key === 'string' && raw.api_key !== '' ? new Secret(raw.api_key) : undefined,
  });

  async function listKeys(): Promise<ApiKey[]> {
    const raw = (await call(`list the API keys of project ${t.projectRef}`, 'GET', '/api-keys?reveal=true', undefined)) as Record<
      string,
      unknown
    >[];
    return raw.map(toKey);
  }

  return {
    projectRef: t.projectRef,

    /** Every API key of the project, with values revealed (the only way to match `current`). */
    listKeys,

    /**
     * Creates a key. A failed try may still have created it (a 5xx or a lost reply), so each retry
     * first looks for the key by name: a retry never leaves two new keys.
     */
    async createKey(type: 'secret' | 'publishable', name: string, description?: string): Promise<ApiKey> {
      let tried = false;
      return withRetry(async () => {
        if (tried) {
          const found = (await listKeys()).find((k) => k.name === name && k.type === type);
          if (found) return found;
        }
        tried = true;
        const raw = (await call(
          `create ${type} API key ${name} in project ${t.projectRef}`,
          'POST',
          '/api-keys?reveal=true',
          { type, name, ...(description ? { description } : {}) },
          {
            400: `Supabase refused the key name '${name}': names are 4 to 64 lower case letters, digits and '_' (^[a-z_][a-z0-9_]+$)`,
            422: `Supabase refused the key name '${name}': names are 4 to 64 lower case letters, digits and '_' (^[a-z_][a-z0-9_]+$)`,
          },
          1,
        )) as Record<string, unknown>;
        return toKey(raw);
      }, retryOptions);
    },

    /** Deletes a key; a key already gone (404) counts as deleted, so a rerun gets through. */
    async deleteKey(key: ApiKey, compromised?: { reason: string }): Promise<'deleted' | 'already gone'> {
      const query = compromised ? `?was_compromised=true&reason=${encodeURIComponent(compromised.reason)}` : '';
      try {
        await call(
          `delete API key ${key.name} of project ${t.projectRef}`,
          'DELETE',
          `/api-keys/${encodeURIComponent(key.id)}${query}`,
          undefined,
        );
        return 'deleted';
      } catch (error) {
        if (statusOf(error) === 404) return 'already gone';
        throw error;
      }
    },

    /** The project's status and its database host (v1-get-project). */
    async getProject(): Promise<{ status: string; databaseHost?: string }> {
      const raw = (await call(`read project ${t.projectRef}`, 'GET', '', undefined)) as { status?: unknown; database?: { host?: unknown } };
      return {
        status: String(raw.status ?? 'UNKNOWN'),
        databaseHost: typeof raw.database?.host === 'string' ? raw.database.host : undefined,
      };
    },

    /**
     * Sets the password of the project's `postgres` role (v1-update-database-password). The same
     * value sent again sets the same password, so a retry after a lost reply is safe.
     */
    async setDatabasePassword(password: Secret): Promise<void> {
      await call(
        `set the database password of project ${t.projectRef}`,
        'PATCH',
        '/database/password',
        { password: password.reveal() },
        {
          400: 'Supabase refused the password (the API takes at least 4 characters)',
          403: `the token may not change the database password of project ${t.projectRef}: it needs the database:write scope (fine-grained: Database Config, read and write)`,
        },
      );
    },

    /** Edge Function secret names (and the digest Supabase reports for each value). */
    async listSecrets(): Promise<{ name: string; value?: string }[]> {
      return (await call(`list the Edge Function secrets of project ${t.projectRef}`, 'GET', '/secrets', undefined)) as {
        name: string;
        value?: string;
      }[];
    },

    async setSecrets(secrets: { name: string; value: Secret }[]): Promise<void> {
      const names = secrets.map((s) => s.name).join(', ');
      await call(
        `set Edge Function secrets ${names} of project ${t.projectRef}`,
        'POST',
        '/secrets',
        secrets.map((s) => ({ name: s.name, value: s.value.reveal() })),
        {
          400: `Supabase refused the secrets ${names}: names must not start with SUPABASE_ and values must be at most 24,576 characters`,
          422: `Supabase refused the secrets ${names}: names must not start with SUPABASE_ and values must be at most 24,576 characters`,
        },
      );
    },
  };
}

export type SupabaseClient = ReturnType<typeof supabaseClient>;
