import type { Runtime } from '../runtime/runtime.js';
import { RotationError } from '../errors/errors.js';
import { jsonCall } from '../http/json-call.js';
import { joinUrl } from '../http/request.js';
import { HttpError, statusOf } from '../http/http-error.js';
import { Secret } from '../secret/secret.js';

/** Superset shows and accepts this in place of a stored password ("keep the stored one"). */
export const PASSWORD_MASK = 'XXXXXXXXXX';

export interface SupersetSession {
  bearer: Secret;
  csrf: Secret;
  /** The session cookie(s) issued with the CSRF token: Flask-WTF ties the token to them. */
  cookie: Secret;
}

export interface SupersetDatabase {
  id: number;
  database_name: string;
  /** As Superset shows it: the password replaced by PASSWORD_MASK. */
  sqlalchemy_uri?: string;
}

/**
 * The few Superset REST calls the datasource consumer needs. Every value that authenticates
 * (password, access token, CSRF token, session cookie) is a Secret, masked before use; `scrub`
 * removes any other value (the URI with a password) from the messages Superset sends back.
 */
export class SupersetClient {
  constructor(
    private readonly base: string,
    private readonly runtime: Runtime,
    private readonly timeoutMs: number,
    private readonly scrub: (text: string) => string = (t) => t,
  ) {}

  async login(username: string, password: Secret): Promise<Secret> {
    const { json } = await this.call(`Superset ${this.base}: log in as ${username}`, '/api/v1/security/login', {
      method: 'POST',
      body: { username, password: password.reveal(), provider: 'db', refresh: true },
      hints: {
        401: `Superset refused user '${username}': check username and password (the password comes from the policy's password key), and that the user is a database (AUTH_DB) user`,
        400: 'Superset refused the login request; its AUTH_TYPE may not allow database logins',
      },
    });
    const token = (json as { access_token?: unknown } | undefined)?.access_token;
    if (typeof token !== 'string' || token === '') throw new RotationError(`Superset ${this.base}: the login answer holds no access_token`);
    return this.secret(token);
  }

  /** A CSRF token and the session cookie set by that same answer: writes need both. */
  async session(bearer: Secret): Promise<SupersetSession> {
    const { json, headers } = await this.call(`Superset ${this.base}: read a CSRF token`, '/api/v1/security/csrf_token/', {
      headers: { authorization: `Bearer ${bearer.reveal()}` },
      hints: { 401: 'Superset refused the access token it just issued: check that the clocks agree and JWT settings are stable' },
    });
    const result = (json as { result?: unknown } | undefined)?.result;
    if (typeof result !== 'string' || result === '') throw new RotationError(`Superset ${this.base}: the CSRF answer holds no token`);
    const pairs = headers
      .getSetCookie()
      .map((c) => c.split(';')[0].trim())
      .filter((c) => c.includes('='));
    if (pairs.length === 0) {
      throw new RotationError(`Superset ${this.base}: the CSRF token came without a session cookie`, {
        hint: 'a proxy in front of Superset may strip Set-Cookie; writes will be refused with "The CSRF session token is missing"',
      });
    }
    return { bearer, csrf: this.secret(result), cookie: this.secret(pairs.join('; ')) };
  }

  async getDatabase(bearer: Secret, id: number): Promise<SupersetDatabase> {
    const { json } = await this.call(`Superset ${this.base}: read database ${id}`, `/api/v1/database/${id}`, {
      headers: { authorization: `Bearer ${bearer.reveal()}` },
      hints: {
        404: `Superset has no database connection with id ${id} (or the user cannot see it): open Settings → Database Connections and copy the id from the edit URL`,
      },
    });
    const result = (json as { result?: Partial<SupersetDatabase> } | undefined)?.result ?? {};
    return { id, database_name: String(result.database_name ?? '') };
  }

  /**
   * What Superset stores for a connection, password masked: since Superset 3.0 only
   * `GET …/{pk}/connection` shows the URI. Undefined where the release has no such route.
   */
  async getConnection(bearer: Secret, id: number): Promise<SupersetDatabase | undefined> {
    try {
      const { json } = await this.call(
        `Superset ${this.base}: read the stored connection of database ${id}`,
        `/api/v1/database/${id}/connection`,
        {
          headers: { authorization: `Bearer ${bearer.reveal()}` },
          hints: {
            403: `the Superset user may not read connection details of database ${id}: it needs "can write on Database" (the Admin role has it)`,
          },
        },
      );
      const result = (json as { result?: Partial<SupersetDatabase> } | undefined)?.result ?? {};
      return {
        id,
        database_name: String(result.database_name ?? ''),
        sqlalchemy_uri: typeof result.sqlalchemy_uri === 'string' ? result.sqlalchemy_uri : undefined,
      };
    } catch (error) {
      if (statusOf(error) === 404 || statusOf(error) === 405) return undefined;
      throw error;
    }
  }

  /** The Database API's permissions of the logged-in user (FAB's `_info` endpoint). */
  async permissions(bearer: Secret): Promise<string[]> {
    const { json } = await this.call(
      `Superset ${this.base}: read the user's Database permissions`,
      `/api/v1/database/_info?q=(keys:!(permissions))`,
      {
        headers: { authorization: `Bearer ${bearer.reveal()}` },
      },
    );
    const permissions = (json as { permissions?: unknown } | undefined)?.permissions;
    return Array.isArray(permissions) ? permissions.map(String) : [];
  }

  async updateUri(session: SupersetSession, id: number, uri: Secret): Promise<void> {
    await this.call(`Superset ${this.base}: update the URI of database ${id}`, `/api/v1/database/${id}`, {
      method: 'PUT',
      headers: this.writeHeaders(session),
      body: { sqlalchemy_uri: uri.reveal() },
      hints: {
        ...CSRF_HINTS,
        403: `the Superset user may not edit database ${id}: it needs "can write on Database" (the Admin role has it)`,
        404: `Superset has no database connection with id ${id}`,
        422: 'Superset refused the new URI and kept the one it had: its update tests the connection first, so either Superset cannot connect with the new URI (check the uri template: user, host, port, database, sslmode, and that Superset reaches the database) or the URI is malformed (driver)',
      },
    });
  }

  /** Superset's own connection test; with the masked URI it uses the stored password. */
  async testConnection(session: SupersetSession, uri: string | Secret, databaseName: string): Promise<void> {
    try {
      await this.call(`Superset ${this.base}: test the connection of '${databaseName}'`, '/api/v1/database/test_connection/', {
        method: 'POST',
        headers: this.writeHeaders(session),
        body: { sqlalchemy_uri: typeof uri === 'string' ? uri : uri.reveal(), database_name: databaseName },
        hints: CSRF_HINTS,
        attempts: 2,
      });
    } catch (error) {
      const status = statusOf(error);
      if (status !== 400 && status !== 422) throw error;
      const said = error instanceof HttpError ? (error.serverMessage ?? '') : '';
      if (/csrf/i.test(said)) throw error;
      throw new RotationError(`Superset's connection test of '${databaseName}' failed (HTTP ${status}): ${said || 'no reason given'}`, {
        hint: 'Superset now holds the new URI but cannot connect with it: check the uri template (user, host, port, database, sslmode) and that Superset can reach the database, then rerun',
        code: 'SUPERSET_TEST_FAILED',
      });
    }
  }

  private writeHeaders(session: SupersetSession): Record<string, string> {
    return {
      authorization: `Bearer ${session.bearer.reveal()}`,
      'x-csrftoken': session.csrf.reveal(),
      cookie: session.cookie.reveal(),
      // With WTF_CSRF_SSL_STRICT (the default) Flask-WTF checks the Referer on HTTPS.
      referer: `${this.base}/`,
    };
  }

  private secret(value: string): Secret {
    const secret = new Secret(value);
    this.runtime.reporter.mask(secret);
    return secret;
  }

  private call(
    what: string,
    path: string,
    options: { method?: string; headers?: Record<string, string>; body?: unknown; hints?: Record<number, string>; attempts?: number },
  ) {
    return jsonCall(this.runtime, what, joinUrl(this.base, path), { ...options, timeoutMs: this.timeoutMs, scrub: this.scrub });
  }
}

const CSRF_HINTS: Record<number, string> = {
  400: 'Superset refused the write; if it says "The CSRF session token is missing", the session cookie did not come back with the token: check that no proxy strips cookies, that the url key uses the host name Superset is served on, and that SESSION_COOKIE_SECURE matches http/https',
  401: 'Superset refused the access token: log in again (rerun)',
};
