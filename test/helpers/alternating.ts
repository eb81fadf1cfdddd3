import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import pg from 'pg';
import { provisionAlternating } from '../../src/demo/platform.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { provisionCredential } from '../../src/provision/run.js';
import { createGitHubModel } from '../models/github.js';
import { DIST_TOKEN } from './action-child.js';
import { PLATFORM_SYSTEM, type PostgresFixture } from './postgres.js';
import { testRuntime } from './runtime.js';

/** The alternating-roles set-up for `group` on the fixture's server (see provisionAlternating). */
export const makeAlternating = (fx: PostgresFixture, group: string, logins?: string[]) => provisionAlternating(fx.server, group, logins);

/** A policy for one alternating-roles credential of `group`, its value in `${current}`; `rest` holds store, consumers and health. */
export function alternatingYaml(group: string, current: string, rest: string): string {
  return `${PLATFORM_SYSTEM}  ${group}:
    system: odoo-sor
    method: alternating-roles
    cadence: quarterly
    current: \${${current}}
${rest}`;
}

/**
 * The alternating-roles world of the fault tests: a connection URL in a file (readable), the
 * password and the user as two GitHub secrets (write-only), a workflow dispatch, a login probe.
 */
export function alternatingStoresYaml(group: string, port: number): string {
  return alternatingYaml(
    group,
    'CURRENT',
    `    store:
      - file: { path: .secrets/app.env, key: DATABASE_URL, format: "postgresql://{user}:{password}@127.0.0.1:${port}/odoo" }
      - github: { repository: acme/ops, secret: DB_PASSWORD }
      - github: { repository: acme/ops, secret: DB_USER, format: "{user}" }
    consumers:
      - github-workflow: { repository: acme/ops, workflow: deploy.yml }
    health:
      - postgres-login: {}
`,
  );
}

/**
 * test/fixtures/alternating-policy.yaml around a dist child: the GitHub stand-in (acme/ops with a
 * production environment and deploy-odoo.yml) and Odoo's /web/health, healthy when the connection
 * URL GitHub's production environment holds logs in. The platform's odoo_app (a login role today)
 * is moved to the alternating set-up the way docs/alternating-roles.md says: provision, then NOLOGIN.
 */
export async function alternatingWorld(fx: () => PostgresFixture) {
  const github = createGitHubModel({
    token: DIST_TOKEN,
    repos: [{ full_name: 'acme/ops', environments: ['production'], workflows: [{ file: 'deploy-odoo.yml', pollsToComplete: 1 }] }],
  });
  const health = createServer(async (_req, res) => {
    const ok = await urlLogsIn(github.secretValue({ repository: 'acme/ops', environment: 'production', name: 'ODOO_DATABASE_URL' }));
    res.writeHead(ok ? 200 : 500).end(ok ? 'pass' : 'fail');
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  const policy = readFileSync(new URL('../fixtures/alternating-policy.yaml', import.meta.url), 'utf8')
    .replaceAll('PGPORT', String(fx().server.port))
    .replace('https://erp.example.com/web/health', `http://127.0.0.1:${(health.address() as { port: number }).port}/web/health`);

  // The move from a single login role (docs/alternating-roles.md): the database owner lets the
  // group create in public, provision adds the logins, and the group stops logging in.
  const su = await fx().server.client('odoo');
  await su.query('GRANT USAGE, CREATE ON SCHEMA public TO odoo_app');
  await su.end();
  const parsed = parsePolicy(policy, 'rotation.yaml', { ROTATION_ADMIN_URL: fx().platform.adminUrl, ODOO_DB_PASSWORD: 'unused' });
  await provisionCredential(parsed, 'odoo_app', { runtime: testRuntime(), apply: true });
  const db = new pg.Client({ connectionString: fx().platform.adminUrl });
  await db.connect();
  await db.query('ALTER ROLE odoo_app NOLOGIN');
  await db.end();
  return { github, health, policy };
}

/** Whether a postgresql:// URL logs in. */
export async function urlLogsIn(url: string | undefined): Promise<boolean> {
  if (!url) return false;
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
