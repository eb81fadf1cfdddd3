import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../engine/errors.js';
import type { Secret } from '../secret/secret.js';
import { renderFormat } from '../stores/format.js';
import { SupersetClient } from '../superset/client.js';
import type { Consumer } from './consumer.js';
import { hasPasswordPlaceholder, httpUrl, optionalString, positive, requireString, secretOption } from './options.js';

/**
 * A Superset database connection (a datasource) that logs in with the rotated password: the
 * consumer writes the new SQLAlchemy URI, then asks Superset itself to test the connection it
 * stored (sending back the masked URI Superset shows, so Superset uses the stored password).
 * The URI is a template like postgresql://superset_ro:{password}@db:25060/odoo?sslmode=require;
 * it never appears in a message.
 */
export const supersetDatabase: AdapterFactory<Consumer> = (spec, ctx) => {
  const { runtime } = ctx;
  const o = spec.options;
  const base = httpUrl(o.url, `${spec.path}.url`);
  const username = requireString(o.username, `${spec.path}.username`);
  const password = secretOption(o.password, `${spec.path}.password`, runtime);
  const databaseId = o.database_id;
  if (typeof databaseId !== 'number' || !Number.isInteger(databaseId) || databaseId < 1) {
    throw new RotationError(`${spec.path}.database_id: expected the id (a whole number) of the database connection in Superset`);
  }
  const template = requireString(o.uri, `${spec.path}.uri`);
  if (!hasPasswordPlaceholder(template)) throw new RotationError(`${spec.path}.uri: expected a URI template containing {password}`);
  const configuredName = optionalString(o.database_name, undefined, `${spec.path}.database_name`);
  const timeoutMs = positive(o.timeout_seconds, 30, `${spec.path}.timeout_seconds`) * 1000;

  // Whatever Superset echoes back, the URI that carries a password never reaches a message.
  const sensitive: Secret[] = [];
  const scrub = (text: string) => sensitive.reduce((out, s) => out.split(s.reveal()).join('***'), text);
  const client = new SupersetClient(base, runtime, timeoutMs, scrub);
  const where = `Superset ${base} database ${databaseId}`;

  return {
    label: `superset-database ${base} #${databaseId}`,

    async check() {
      const bearer = await client.login(username, password);
      const db = await client.getDatabase(bearer, databaseId);
      // A CSRF token with its cookie proves writes can be authorised; nothing is changed.
      await client.session(bearer);
      if (configuredName && db.database_name && db.database_name !== configuredName) {
        throw new RotationError(`${where} is named '${db.database_name}', but ${spec.path}.database_name says '${configuredName}'`, {
          hint: 'check database_id: the policy may point at another connection',
        });
      }
    },

    async refresh(value) {
      const uri = renderFormat(template, value);
      runtime.reporter.mask(uri);
      sensitive.push(uri, value);
      const bearer = await client.login(username, password);
      const session = await client.session(bearer);
      await client.updateUri(session, databaseId, uri);
      // Read back what Superset stored; its masked form makes the test use the stored password.
      const stored = await client.getDatabase(bearer, databaseId);
      const name = configuredName ?? stored.database_name;
      if (!name) throw new RotationError(`${where}: Superset gave no database_name; set ${spec.path}.database_name`);
      await client.testConnection(session, stored.sqlalchemy_uri ?? uri, name);
      return `${where} ('${name}'): URI updated; Superset's connection test passed`;
    },
  };
};
