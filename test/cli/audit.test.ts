import { readFileSync } from 'node:fs';
import { describe, expect, it, beforeAll } from 'vitest';
import { provisionCredential } from '../../src/provision/run.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { runAudit } from '../../src/audit/run.js';
import { failsAt, type AuditCheck, type AuditReport } from '../../src/audit/types.js';
import { auditTable } from '../../src/cli/audit.js';
import { leakHaystack, usePostgres } from '../helpers/postgres.js';
import { auditPolicyYaml, buildAuditPlatform, openSession, sql } from '../helpers/audit-platform.js';
import { Secret } from '../../src/secret/secret.js';
import { connectionConfig } from '../../src/postgres/connect.js';
import { takeRotationLock } from '../../src/postgres/lock.js';
import { testRuntime } from '../helpers/runtime.js';

const fixture = usePostgres();
let doadminPassword: Secret;
let env: Record<string, string>;

beforeAll(async () => {
  const fx = fixture();
  const built = await buildAuditPlatform(fx);
  doadminPassword = built.doadminPassword;
  env = {
    ROTATION_ADMIN_URL: fx.platform.adminUrl,
    SUPABASE_DB_URL: built.supabaseUrl,
    DIGITALOCEAN_TOKEN: 'dop_v1_audit-test-token-0123456789',
    SUPABASE_ACCESS_TOKEN: 'sbp_audittesttoken0123456789abcdef',
    ODOO_DB_PASSWORD: fx.platform.passwords.odoo_app.reveal(),
    SUPERSET_RO_PASSWORD: fx.platform.passwords.superset_ro.reveal(),
    SUPERSET_PASSWORD: 'superset-admin-password-42',
    SUPABASE_SERVICE_ROLE_KEY: 'sb_secret_audittestkey0123456789abcdef',
  };
});

async function audit(yaml = auditPolicyYaml()): Promise<AuditReport> {
  return runAudit(parsePolicy(yaml, 'rotation.yaml', env), undefined, { runtime: testRuntime({ now: () => new Date() }) });
}

function failed(report: AuditReport): AuditCheck[] {
  return report.systems.flatMap((s) => s.checks.filter((c) => c.verdict === 'fail'));
}

function only(report: AuditReport, rule: AuditCheck['rule'], subject: string): AuditCheck {
  const matches = report.systems.flatMap((s) => s.checks).filter((c) => c.rule === rule && c.subject === subject && c.verdict === 'fail');
  expect(matches, auditTable(report)).toHaveLength(1);
  return matches[0];
}

/** Applies the first fix of every finding of a check, as the platform's operator would. */
async function applyFix(check: AuditCheck, database: string): Promise<string[]> {
  const statements = check.findings.map((f) => f.fixes[0]);
  for (const s of statements) expect(s, 'the first fix is SQL to run').toMatch(/;$/);
  await sql(fixture(), database, statements);
  return statements;
}

describe('credential-rotation audit on a real PostgreSQL 16', () => {
  it('passes on a correctly provisioned platform, reading the catalogs as the least-privilege admin', async () => {
    const report = await audit();
    expect(failed(report), auditTable(report)).toEqual([]);
    const rules = report.systems.flatMap((s) => s.checks.map((c) => `${s.system}:${c.rule}:${c.subject}`));
    expect(rules).toEqual(
      expect.arrayContaining([
        'odoo-sor:readonly-is-readonly:superset_ro',
        'odoo-sor:app-role-not-admin:odoo_app',
        'odoo-sor:break-glass-unused:doadmin',
        'odoo-do:break-glass-unused:doadmin',
        'supabase-db:rls-where-exposed:public',
        'odoo-sor:policy-boundaries:superset_ro',
        'supabase-ssot:policy-boundaries:service_role',
      ]),
    );
    expect(failsAt(report, 'warning')).toBe(false);
    // No secret in what the audit prints or records.
    const haystack = leakHaystack(JSON.stringify(report), auditTable(report));
    for (const secret of Object.values(env).filter((v) => !v.includes('127.0.0.1'))) expect(haystack).not.toContain(secret);
    expect(haystack).not.toContain(new URL(env.ROTATION_ADMIN_URL).password);
  });

  it('the example policy declares the intent keys, and its audit passes on the provisioned platform', async () => {
    const text = readFileSync(new URL('../../examples/platform/rotation.yaml', import.meta.url), 'utf8');
    // Every variable the example names gets a placeholder; those the audit reads point at this server.
    const names = [...new Set([...text.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]))];
    const placeholders = Object.fromEntries(names.map((n) => [n, n.endsWith('_URL') ? 'https://example.test' : `value-of-${n}`]));
    const policy = parsePolicy(text, 'examples/platform/rotation.yaml', {
      ...placeholders,
      ...env,
      SUPABASE_DB_URL: env.SUPABASE_DB_URL,
      ROTATION_ADMIN_URL: env.ROTATION_ADMIN_URL,
      OPS_REPOSITORY: 'acme/ops',
      DO_DATABASE_CLUSTER_ID: '9cc10173-e9ea-4176-9dbc-a4cee4c4ff30',
      ODOO_DB_PORT: '25060',
      N8N_SUPABASE_CREDENTIAL_ID: 'sbBridge1',
    });
    expect(policy.credentials.doadmin.breakGlass).toBe(true);
    expect(policy.credentials.odoo_app.access).toBe('readwrite');
    expect(policy.credentials.superset_ro.access).toBe('readonly');
    expect('exposedSchemas' in policy.systems['supabase-db'] && policy.systems['supabase-db'].exposedSchemas).toEqual(['public']);
    // The example rotates odoo_app and superset_ro with alternating-roles: their logins are what
    // the audit's fix says, `provision` (the platform of buildAuditPlatform has only the roles).
    for (const id of ['odoo_app', 'superset_ro']) await provisionCredential(policy, id, { runtime: testRuntime(), apply: true });
    const report = await runAudit(policy, undefined, { runtime: testRuntime({ now: () => new Date() }) });
    expect(failed(report), auditTable(report)).toEqual([]);
    expect(report.systems.map((s) => s.system)).toEqual(['odoo-sor', 'odoo-do', 'supabase-db', 'supabase-ssot']);
  });

  it('rule 1: names a stray GRANT INSERT to the read-only role, and passes after the printed fix', async () => {
    await sql(fixture(), 'odoo', ['GRANT INSERT, UPDATE ON public.sale_order TO superset_ro']);
    const check = only(await audit(), 'readonly-is-readonly', 'superset_ro');
    expect(check.severity).toBe('error');
    expect(check.findings.map((f) => f.what)).toEqual(
      expect.arrayContaining([
        'superset_ro holds INSERT on table public.sale_order',
        'superset_ro holds UPDATE on table public.sale_order',
      ]),
    );
    expect(await applyFix(check, 'odoo')).toEqual(
      expect.arrayContaining(['REVOKE INSERT ON TABLE "public"."sale_order" FROM "superset_ro";']),
    );
    expect(failed(await audit())).toEqual([]);
  });

  it('rule 1: follows a membership that smuggles in a write grant (INHERIT), and one that only SET ROLE reaches', async () => {
    await sql(fixture(), 'odoo', [
      'CREATE ROLE report_writer NOLOGIN',
      'GRANT DELETE ON public.res_partner TO report_writer',
      'GRANT report_writer TO superset_ro',
      'CREATE ROLE schema_maker NOLOGIN',
      'GRANT CREATE ON SCHEMA public TO schema_maker',
      'GRANT schema_maker TO superset_ro WITH INHERIT FALSE, SET TRUE',
      // A membership with neither flag passes nothing on: not a finding.
      'CREATE ROLE harmless NOLOGIN',
      'GRANT TRUNCATE ON public.res_partner TO harmless',
      'GRANT harmless TO superset_ro WITH INHERIT FALSE, SET FALSE',
    ]);
    const check = only(await audit(), 'readonly-is-readonly', 'superset_ro');
    const whats = check.findings.map((f) => f.what);
    expect(whats).toContain(
      'superset_ro reaches report_writer (superset_ro → report_writer), which holds DELETE on table public.res_partner',
    );
    expect(whats).toContain('superset_ro reaches schema_maker (superset_ro → schema_maker), which holds CREATE on schema public');
    expect(whats.join('\n')).not.toContain('harmless');
    expect(check.findings.map((f) => f.fixes[0])).toEqual([
      'REVOKE "report_writer" FROM "superset_ro" GRANTED BY "postgres";',
      'REVOKE "schema_maker" FROM "superset_ro" GRANTED BY "postgres";',
    ]);
    await applyFix(check, 'odoo');
    expect(failed(await audit())).toEqual([]);
    await sql(fixture(), 'odoo', [
      'REVOKE harmless FROM superset_ro',
      'DROP OWNED BY report_writer, schema_maker, harmless',
      'DROP ROLE report_writer, schema_maker, harmless',
    ]);
  });

  it('rule 1: a read-only role that owns a table, or that PUBLIC lets write, is not read-only', async () => {
    await sql(fixture(), 'odoo', [
      'CREATE TABLE public.scratch (x int)',
      'ALTER TABLE public.scratch OWNER TO superset_ro',
      'GRANT UPDATE ON public.res_partner TO PUBLIC',
    ]);
    const check = only(await audit(), 'readonly-is-readonly', 'superset_ro');
    const whats = check.findings.map((f) => f.what).join('\n');
    expect(whats).toContain('superset_ro owns table public.scratch');
    expect(whats).toContain('superset_ro, as every role (PUBLIC), holds UPDATE on table public.res_partner');
    expect(check.findings.find((f) => f.what.includes('PUBLIC'))?.fixes[0]).toBe(
      'REVOKE UPDATE ON TABLE "public"."res_partner" FROM PUBLIC;',
    );
    await sql(fixture(), 'odoo', ['DROP TABLE public.scratch', 'REVOKE UPDATE ON public.res_partner FROM PUBLIC']);
    expect(failed(await audit())).toEqual([]);
  });

  it('rule 2: names a CREATEROLE application role, and passes after the printed fix', async () => {
    await sql(fixture(), 'postgres', ['ALTER ROLE odoo_app CREATEROLE CREATEDB']);
    const check = only(await audit(), 'app-role-not-admin', 'odoo_app');
    expect(check.findings[0].what).toBe('odoo_app is CREATEROLE, CREATEDB');
    expect(await applyFix(check, 'postgres')).toEqual(['ALTER ROLE "odoo_app" NOCREATEROLE NOCREATEDB;']);
    expect(failed(await audit())).toEqual([]);
  });

  it('rule 3: names an open session of the break-glass role from another application, with client and start', async () => {
    const app = await openSession(fixture(), 'doadmin', doadminPassword, 'odoo-web');
    try {
      const report = await audit();
      const check = only(report, 'break-glass-unused', 'doadmin');
      const finding = check.findings[0];
      expect(finding.what).toMatch(
        /^session of doadmin open: pid \d+, application "odoo-web", client 127\.0\.0\.1, database odoo, since \d{4}-\d\d-\d\dT/,
      );
      expect(finding.facts).toMatchObject({ application: 'odoo-web', client: '127.0.0.1', user: 'doadmin' });
      expect(finding.fixes.at(-1)).toContain(`pg_terminate_backend(${finding.facts?.pid})`);
      expect(JSON.stringify(report)).not.toContain(doadminPassword.reveal());
      // The printed fix ends the session (once the application has moved to its own role).
      await sql(fixture(), 'postgres', [finding.fixes.at(-1)!.replace(/^.*then: /, '')]);
      expect(failed(await audit())).toEqual([]);
    } finally {
      await app.end().catch(() => undefined);
    }
  });

  it('rule 3: without pg_read_all_stats the session still counts, and the fix names the GRANT', async () => {
    await sql(fixture(), 'postgres', ['REVOKE pg_read_all_stats FROM rotation_admin']);
    const app = await openSession(fixture(), 'doadmin', doadminPassword, 'odoo-web');
    try {
      const check = only(await audit(), 'break-glass-unused', 'doadmin');
      expect(check.findings[0].what).toContain('hidden: the admin lacks pg_read_all_stats');
      expect(check.findings[0].fixes[0]).toBe('GRANT pg_read_all_stats TO "rotation_admin"; (to see which application holds it)');
    } finally {
      await app.end();
      await sql(fixture(), 'postgres', ['GRANT pg_read_all_stats TO rotation_admin']);
    }
  });

  it("rule 3: when the admin URL logs in as the break-glass role, the audit's own connections (to every database it reads) are not counted", async () => {
    const url = new URL(env.ROTATION_ADMIN_URL);
    url.username = 'doadmin';
    url.password = encodeURIComponent(doadminPassword.reveal());
    const report = await audit(auditPolicyYaml().replace('${ROTATION_ADMIN_URL}', url.toString()));
    // superset_ro may connect to postgres and supabase too: rule 1 read them through doadmin's own connections.
    expect(
      report.systems.flatMap((s) => s.checks).filter((c) => c.rule === 'break-glass-unused' && c.verdict === 'fail'),
      auditTable(report),
    ).toEqual([]);
    expect(JSON.stringify(report)).not.toContain(doadminPassword.reveal());
  });

  it("rule 3: a session that calls itself credential-rotation is counted like any other (application_name is the client's to set)", async () => {
    const spoofs = [
      await openSession(fixture(), 'doadmin', doadminPassword, 'credential-rotation'),
      await openSession(fixture(), 'doadmin', doadminPassword, 'credential-rotation lock'),
    ];
    try {
      const check = only(await audit(), 'break-glass-unused', 'doadmin');
      expect(check.findings.map((f) => f.facts?.application).sort()).toEqual(['credential-rotation', 'credential-rotation lock']);
    } finally {
      for (const s of spoofs) await s.end();
    }
  });

  it("rule 3: the rotation lock's own session of the break-glass role is spared only while it holds the lock, with or without a settings row", async () => {
    const doadmin = connectionConfig(new Secret(fixture().platform.adminUrl), { user: 'doadmin', password: doadminPassword });
    for (const settings of ['none', "ALTER ROLE doadmin SET work_mem = '8MB'"]) {
      if (settings !== 'none') await sql(fixture(), 'postgres', [settings]);
      // digitalocean-reset takes the lock in a session of the user itself.
      const lock = await takeRotationLock(doadmin, 'doadmin', 'the test');
      const app = await openSession(fixture(), 'doadmin', doadminPassword, 'credential-rotation');
      try {
        const check = only(await audit(), 'break-glass-unused', 'doadmin');
        expect(
          check.findings.map((f) => f.facts?.pid),
          settings,
        ).toEqual([(app as unknown as { processID: number }).processID]);
        await app.end();
        expect(failed(await audit()), settings).toEqual([]);
      } finally {
        await app.end().catch(() => undefined);
        await lock.release();
      }
    }
    // A session that held it once is an ordinary session again.
    const after = await openSession(fixture(), 'doadmin', doadminPassword, 'x');
    const held = await after
      .query('BEGIN')
      .then(() => after.query("ALTER ROLE doadmin SET work_mem = '16MB'"))
      .then(() => after.query('ROLLBACK'));
    expect(held.command).toBe('ROLLBACK');
    expect(only(await audit(), 'break-glass-unused', 'doadmin').findings).toHaveLength(1);
    await after.end();
    await sql(fixture(), 'postgres', ['ALTER ROLE doadmin RESET work_mem']);
  });

  it("rule 3: a session of the break-glass role that holds locks like the rotation lock's but not its row is counted", async () => {
    const app = await openSession(fixture(), 'doadmin', doadminPassword, 'credential-rotation lock');
    await sql(fixture(), 'postgres', ["ALTER ROLE doadmin SET work_mem = '8MB'"]);
    try {
      await app.query('BEGIN');
      // doadmin's role object and pg_db_role_setting, as the lock holds them, but the row of another database.
      await app.query("ALTER ROLE doadmin IN DATABASE odoo SET application_name = 'credential-rotation lock'");
      const check = only(await audit(), 'break-glass-unused', 'doadmin');
      expect(check.findings.map((f) => f.facts?.application)).toEqual(['credential-rotation lock']);
    } finally {
      await app.query('ROLLBACK').catch(() => undefined);
      await app.end();
      await sql(fixture(), 'postgres', ['ALTER ROLE doadmin RESET work_mem']);
    }
  });

  it('rule 4: names a public table with RLS off that anon can read, and passes after the printed fix', async () => {
    await sql(fixture(), 'supabase', ['CREATE TABLE public.leads (id serial, email text)']); // default privileges grant it to anon
    const check = only(await audit(), 'rls-where-exposed', 'public');
    expect(check.findings.map((f) => f.what)).toEqual([
      'table public.leads has RLS disabled and is granted to anon, authenticated: the API serves every row',
    ]);
    expect(check.findings[0].fixes[1]).toContain('ALTER TABLE "public"."leads" ENABLE ROW LEVEL SECURITY;');
    await applyFix(check, 'supabase');
    expect(failed(await audit())).toEqual([]);
    await sql(fixture(), 'supabase', ['DROP TABLE public.leads']);
  });

  it('rule 4: a view that runs as its owner, and RLS with no policy (a warning), are named too', async () => {
    await sql(fixture(), 'supabase', [
      'CREATE VIEW public.all_profiles AS SELECT * FROM public.profiles',
      'CREATE TABLE public.drafts (id int)',
      'ALTER TABLE public.drafts ENABLE ROW LEVEL SECURITY',
    ]);
    const report = await audit();
    const check = only(report, 'rls-where-exposed', 'public');
    expect(check.findings.map((f) => [f.severity, f.what.split(':')[0]])).toEqual([
      ['error', "view public.all_profiles is granted to anon, authenticated and runs with its owner's rights (not security_invoker)"],
      ['warning', 'table public.drafts has RLS enabled but no policy, and is granted to anon, authenticated'],
    ]);
    expect(check.findings[0].fixes[0]).toBe('ALTER VIEW "public"."all_profiles" SET (security_invoker = true);');
    await sql(fixture(), 'supabase', [check.findings[0].fixes[0]]);
    const warnOnly = await audit();
    expect(failsAt(warnOnly, 'error')).toBe(false);
    expect(failsAt(warnOnly, 'warning')).toBe(true);
    await sql(fixture(), 'supabase', ['DROP VIEW public.all_profiles', 'DROP TABLE public.drafts']);
  });

  it('rule 5 and rule 3 in the policy: Superset on a writable role, Edge Functions on Odoo, a shared secret, an app on doadmin', async () => {
    const report = await audit(
      auditPolicyYaml({
        odooApp: `    consumers:
      - superset-database: { url: http://superset.local, username: admin, password: x, database_id: 2, uri: "postgresql+psycopg2://odoo_app:{password}@db/odoo" }
      - supabase-function-secrets: { names: [ODOO_DB_PASSWORD] }
`,
        doadmin: `    consumers:
      - github-workflow: { repository: acme/ops, workflow: deploy-odoo.yml }
`,
        serviceRole: `      - n8n-credential: { url: http://n8n.local, api_key: k, credential_id: "7", data: { connectionString: "postgresql://doadmin:{password}@db/odoo" } }
      - http: { url: "http://n8n.local/hook", secret: "\${SUPERSET_RO_PASSWORD}" }
`,
      }).replace(
        'key: SUPABASE_SERVICE_ROLE_KEY }',
        'key: SUPABASE_SERVICE_ROLE_KEY }\n      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }',
      ),
    );
    const whats = failed(report).flatMap((c) => c.findings.map((f) => f.what));
    expect(whats).toEqual(
      expect.arrayContaining([
        'credentials.odoo_app.consumers[0].superset-database gives Superset odoo_app, which is declared readwrite: Superset reads only (section 4.3)',
        expect.stringMatching(
          /^credentials\.odoo_app\.consumers\[1\]\.supabase-function-secrets gives Edge Functions a credential of odoo-sor/,
        ),
        'credentials.service_role.store[1].file writes the same store target as odoo_app: two credentials share one secret',
        expect.stringMatching(/^break-glass credential doadmin has a consumer/),
        "credentials.service_role.consumers[1].n8n-credential hands the break-glass user doadmin to service_role's n8n-credential",
      ]),
    );
    expect(whats).toContain(
      "credentials.service_role.consumers[2].http (of service_role) is given superset_ro's current value: its secret is shared with another service",
    );
    expect(JSON.stringify(report)).not.toContain(env.SUPERSET_RO_PASSWORD);
  });
});
