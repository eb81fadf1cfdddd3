import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import { Secret } from '../secret/secret.js';
import { REQUEST_TIMEOUT_MS } from '../http/request.js';
import { renderFormat } from '../adapters/format.js';
import { PASSWORD_MASK, SupersetClient, type SupersetSession } from '../superset/client.js';
import type { Consumer } from './consumer.js';
import { optionsOf, hasPasswordPlaceholder } from '../adapters/options.js';

/**
 * A Superset database connection (a datasource) that logs in with the rotated password. The
 * preflight proves the update would be accepted without making it: the user may write Database
 * connections (its permissions), the connection exists and its stored URI can be read (`GET
 * …/{pk}/connection`), and a CSRF session can be had. The update writes the new SQLAlchemy URI
 * (Superset's PUT pings the database first and keeps the old URI if it cannot connect); the proof
 * reads back what Superset stored (`…/connection`, password masked), checks it is the URI sent,
 * and has Superset test its stored connection (the masked URI makes it use the stored password).
 * Before Superset 3.0 the stored URI cannot be read: then only the sent URI is tested, and the
 * evidence says so. The URI is a template like
 * postgresql://superset_ro:{password}@db:25060/odoo?sslmode=require; it never appears in a message.
 */
export const supersetDatabase: AdapterFactory<Consumer> = (spec, ctx) => {
  const { runtime } = ctx;
  const o = optionsOf(spec, runtime);
  const base = o.url('url');
  const username = o.string('username');
  const password = o.secret('password');
  const databaseId = o.value('database_id');
  if (typeof databaseId !== 'number' || !Number.isInteger(databaseId) || databaseId < 1) {
    throw new RotationError(`${spec.path}.database_id: expected the id (a whole number) of the database connection in Superset`);
  }
  const template = o.string('uri');
  if (!hasPasswordPlaceholder(template)) throw new RotationError(`${spec.path}.uri: expected a URI template containing {password}`);
  const configuredName = o.optionalString('database_name');
  const timeoutMs = o.number('timeout_seconds', REQUEST_TIMEOUT_MS / 1000) * 1000;

  // Whatever Superset echoes back, the URI that carries a password never reaches a message.
  const sensitive: Secret[] = [];
  const scrub = (text: string) => sensitive.reduce((out, s) => out.split(s.reveal()).join('***'), text);
  const client = new SupersetClient(base, runtime, timeoutMs, scrub);
  const where = `Superset ${base} database ${databaseId}`;
  /** The URI the last refresh sent, for the sent-value test where nothing can be read back. */
  let sent: Secret | undefined;

  const nameOf = (db: { database_name: string }) => {
    const name = configuredName ?? db.database_name;
    if (!name) throw new RotationError(`${where}: Superset gave no database_name; set ${spec.path}.database_name`);
    return name;
  };

  /** Refuses a template Superset cannot connect with; a refused password alone is no reason. */
  const checkTemplate = async (session: SupersetSession, current: Secret, name: string) => {
    const uri = renderFormat(template, current, ctx.currentUser?.());
    runtime.reporter.mask(uri);
    sensitive.push(uri);
    try {
      await client.testConnection(session, uri, name);
    } catch (error) {
      if (!(error instanceof RotationError) || error.code !== 'SUPERSET_TEST_FAILED') throw error;
      if (/password/i.test(error.message)) {
        runtime.reporter.warning(
          `${where}: Superset reaches the database with ${spec.path}.uri, but the current password is refused there (drift or a half-done earlier run)`,
        );
        return;
      }
      throw new RotationError(
        `${where}: Superset cannot connect with ${spec.path}.uri and the current password (${error.message.replace(/^.*?failed /, '')})`,
        {
          hint: "its update would refuse the new URI the same way: fix the uri template (driver, host, port, database, sslmode) or Superset's route to the database; nothing was changed",
          code: 'SUPERSET_TEMPLATE',
        },
      );
    }
  };

  return {
    label: `superset-database ${base} #${databaseId}`,

    async check(dryRun) {
      // Every check needs a login, and Superset records each one (the user's last_login and
      // login_count): a dry run does not log in.
      if (dryRun) {
        return `not contacted in a dry run: every check needs a login, which Superset records (the user's last login and login count); a real run's preflight checks the user's permission, the connection and the uri template with the current password, before anything changes`;
      }
      const bearer = await client.login(username, password);
      const db = await client.getDatabase(bearer, databaseId);
      if (configuredName && db.database_name && db.database_name !== configuredName) {
        throw new RotationError(`${where} is named '${db.database_name}', but ${spec.path}.database_name says '${configuredName}'`, {
          hint: 'check database_id: the policy may point at another connection',
        });
      }
      const permissions = await client.permissions(bearer);
      if (!permissions.includes('can_write')) {
        throw new RotationError(
          `Superset user '${username}' may not edit database connections (its Database permissions: ${permissions.join(', ') || 'none'})`,
          {
            hint: 'give the user a role with "can write on Database" (the Admin role has it); nothing was changed',
          },
        );
      }
      if (!(await client.getConnection(bearer, databaseId))) {
        runtime.reporter.warning(
          `${where}: this Superset has no GET /api/v1/database/{pk}/connection (before 3.0), so what it stores cannot be read back; only the sent URI will be tested`,
        );
      }
      // A CSRF token with its cookie proves writes can be authorised; nothing is changed.
      const session = await client.session(bearer);
      // Superset's PUT connects with the new URI before it stores it: its test of the template
      // with the current password predicts that, without changing anything.
      // {user} is the login `current` belongs to: the method's preflight, run before this check, found it.
      if (ctx.credential.current) await checkTemplate(session, ctx.credential.current, nameOf(db));
    },

    async refresh(value) {
      const uri = renderFormat(template, value, ctx.user?.());
      runtime.reporter.mask(uri);
      sensitive.push(uri, value);
      const bearer = await client.login(username, password);
      const session = await client.session(bearer);
      await client.updateUri(session, databaseId, uri);
      sent = uri;
      return `${where}: URI updated (Superset's update connected with it)`;
    },

    async prove(value) {
      const bearer = await client.login(username, password);
      const session = await client.session(bearer);
      const stored = await client.getConnection(bearer, databaseId);
      if (!stored?.sqlalchemy_uri) {
        const db = await client.getDatabase(bearer, databaseId);
        await client.testConnection(session, sent ?? renderFormat(template, value, ctx.user?.()), nameOf(db));
        return {
          proof: 'sent-value-only',
          detail: `this Superset shows no stored URI (GET …/${databaseId}/connection is missing before 3.0): only the URI sent was tested; Superset's connection test passed on it`,
        };
      }
      // What Superset stored must be what was sent: the same URI with the password masked.
      const expected = renderFormat(template, new Secret(PASSWORD_MASK), ctx.user?.()).reveal();
      if (!sameUri(stored.sqlalchemy_uri, expected)) {
        throw new RotationError(`${where}: the stored URI reads back different from the one sent (user, host, port, database or options)`, {
          hint: 'another change to the connection may have raced this one: check it in Superset, then rerun',
        });
      }
      const name = nameOf(stored);
      await client.testConnection(session, stored.sqlalchemy_uri, name);
      return {
        proof: 'read-back',
        detail: `read back the stored URI ('${name}', password masked); Superset's connection test passed on its stored connection`,
      };
    },
  };
};

/** Two URIs equal as URLs (Superset may normalise the encoding). */
function sameUri(a: string, b: string): boolean {
  try {
    const [x, y] = [new URL(a), new URL(b)];
    return (
      x.protocol === y.protocol &&
      decodeURIComponent(x.username) === decodeURIComponent(y.username) &&
      decodeURIComponent(x.password) === decodeURIComponent(y.password) &&
      x.host === y.host &&
      x.pathname === y.pathname &&
      x.search === y.search
    );
  } catch {
    return a === b;
  }
}
