// `credential-rotation audit` as an operator or the scheduled workflow runs it: the built CLI as a
// child process against a real PostgreSQL 16, its exit code, its records and the job summary.
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { parse } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import auditSchema from '../../schema/audit.schema.json' with { type: 'json' };
import { cli, ROOT as root } from '../helpers/cli-child.js';
import { leakHaystack, usePostgres } from '../helpers/postgres.js';
import { auditPolicyYaml, buildAuditPlatform, sql } from '../helpers/audit-platform.js';
import { evidenceStamp } from '../../src/evidence/write.js';

const fixture = usePostgres();
let env: Record<string, string>;
let secrets: string[];

beforeAll(async () => {
  const fx = fixture();
  const { supabaseUrl, doadminPassword } = await buildAuditPlatform(fx);
  env = {
    ROTATION_ADMIN_URL: fx.platform.adminUrl,
    SUPABASE_DB_URL: supabaseUrl,
    DIGITALOCEAN_TOKEN: 'dop_v1_audit-cli-token-0123456789',
    SUPABASE_ACCESS_TOKEN: 'sbp_auditclitoken0123456789abcdef',
    ODOO_DB_PASSWORD: fx.platform.passwords.odoo_app.reveal(),
    SUPERSET_RO_PASSWORD: fx.platform.passwords.superset_ro.reveal(),
    SUPERSET_PASSWORD: 'superset-admin-password-42',
    SUPABASE_SERVICE_ROLE_KEY: 'sb_secret_auditclikey0123456789abcdef',
  };
  secrets = [...Object.values(env).filter((v) => !v.includes('://')), new URL(fx.platform.adminUrl).password, doadminPassword.reveal()];
});

function workspace(): { dir: string; summary: string } {
  const dir = mkdtempSync(join(tmpdir(), 'audit-cli-'));
  mkdirSync(join(dir, '.github'));
  writeFileSync(join(dir, '.github/rotation.yaml'), auditPolicyYaml());
  const summary = join(dir, 'summary.md');
  writeFileSync(summary, '');
  return { dir, summary };
}

const validate = (() => {
  // Formats (date-time) are checked by the test itself: the timestamps must parse and match the folder.
  return new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(auditSchema);
})();

describe('credential-rotation audit (dist/cli.js)', () => {
  it('passes on the provisioned platform, writes one schema-valid record per system and the job summary, and status shows it', async () => {
    const { dir, summary } = workspace();
    const run = await cli(['-C', dir, 'audit'], { ...env, GITHUB_STEP_SUMMARY: summary });
    expect(run.stderr).toBe('');
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^system\s+rule\s+subject\s+verdict\s+detail$/m);
    expect(run.stdout).toContain('audit passed: 9 check(s) on 4 system(s)');
    const stamps = readdirSync(join(dir, 'docs/evidence'));
    expect(stamps).toHaveLength(1);
    const files = readdirSync(join(dir, 'docs/evidence', stamps[0], 'db-audit')).sort();
    expect(files).toEqual([
      'odoo-do.json',
      'odoo-do.md',
      'odoo-sor.json',
      'odoo-sor.md',
      'supabase-db.json',
      'supabase-db.md',
      'supabase-ssot.json',
      'supabase-ssot.md',
    ]);
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      const record = JSON.parse(readFileSync(join(dir, 'docs/evidence', stamps[0], 'db-audit', file), 'utf8'));
      expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
      expect(evidenceStamp(new Date(record.started_at))).toBe(stamps[0]);
      expect(record.verdict).toBe('pass');
    }
    const md = readFileSync(join(dir, 'docs/evidence', stamps[0], 'db-audit/odoo-sor.md'), 'utf8');
    expect(md).toContain('| Verdict | **pass** |');
    expect(readFileSync(summary, 'utf8')).toContain('### Access audit');

    const status = await cli(['-C', dir, 'status'], {});
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      new RegExp(
        `^last audit of odoo-sor: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d passed: docs/evidence/${stamps[0]}/db-audit/odoo-sor.json$`,
        'm',
      ),
    );
    const rows = JSON.parse((await cli(['-C', dir, 'status', '--json'], {})).stdout);
    expect(rows.find((r: { credential: string }) => r.credential === 'superset_ro').last_audit).toMatchObject({
      system: 'odoo-sor',
      verdict: 'pass',
      failed: [],
    });
  });

  it('exits 1 on a broken rule, prints the fix, records it, and --fail-on error lets a warning through', async () => {
    const { dir, summary } = workspace();
    await sql(fixture(), 'odoo', ['GRANT TRUNCATE ON public.res_partner TO superset_ro']);
    try {
      const run = await cli(['-C', dir, 'audit', 'odoo-sor'], { ...env, GITHUB_STEP_SUMMARY: summary });
      expect(run.code).toBe(1);
      expect(run.stdout).toContain('error: superset_ro holds TRUNCATE on table public.res_partner');
      expect(run.stdout).toContain('fix: REVOKE TRUNCATE ON TABLE "public"."res_partner" FROM "superset_ro";');
      expect(readFileSync(summary, 'utf8')).toContain('fix: `REVOKE TRUNCATE ON TABLE "public"."res_partner" FROM "superset_ro";`');
      const json = await cli(['-C', dir, 'audit', 'odoo-sor', '--json', '--no-record'], env);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout).systems[0].checks.find((c: { rule: string }) => c.rule === 'readonly-is-readonly')).toMatchObject({
        verdict: 'fail',
        severity: 'error',
      });
      const status = await cli(['-C', dir, 'status'], {});
      expect(status.stdout).toMatch(/^last audit of odoo-sor: .* FAILED \(readonly-is-readonly:superset_ro\): /m);
      // Every sink: the terminal, the job summary, the records it wrote and the server's log.
      const records = readdirSync(join(dir, 'docs/evidence'), { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(json|md)$/.test(f))
        .map((f) => readFileSync(join(dir, 'docs/evidence', f), 'utf8'));
      expect(records.length).toBeGreaterThanOrEqual(2);
      // The failed record is schema-valid too, and tells a tool the path, the object and who may run the fix
      // (the grantor: PostgreSQL records a superuser's grant as the owner's).
      const written = readdirSync(join(dir, 'docs/evidence'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
      const failedRecords = written.map((f) => JSON.parse(readFileSync(join(dir, 'docs/evidence', f), 'utf8')));
      for (const record of failedRecords) expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
      expect(failedRecords.flatMap((r) => r.checks.flatMap((c: { findings: unknown[] }) => c.findings))).toContainEqual(
        expect.objectContaining({
          path: 'table-privilege',
          object: 'table public.res_partner',
          runAs: 'odoo_app',
          fixes: ['REVOKE TRUNCATE ON TABLE "public"."res_partner" FROM "superset_ro";'],
        }),
      );
      expect(leakHaystack(run.stdout, run.stderr, json.stdout, readFileSync(summary, 'utf8'), records, fixture().server.log)).not.toMatch(
        new RegExp(secrets.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')),
      );
    } finally {
      await sql(fixture(), 'odoo', ['REVOKE TRUNCATE ON public.res_partner FROM superset_ro']);
    }
    await sql(fixture(), 'supabase', ['CREATE TABLE public.drafts (id int)', 'ALTER TABLE public.drafts ENABLE ROW LEVEL SECURITY']);
    try {
      expect((await cli(['-C', dir, 'audit', 'supabase-db', '--no-record'], env)).code).toBe(1);
      expect((await cli(['-C', dir, 'audit', 'supabase-db', '--no-record', '--fail-on', 'error'], env)).code).toBe(0);
    } finally {
      await sql(fixture(), 'supabase', ['DROP TABLE public.drafts']);
    }
  });

  it('an unreachable admin connection is a failed check naming the system, not a crash', async () => {
    const { dir } = workspace();
    const run = await cli(['-C', dir, 'audit', 'odoo-sor', '--no-record'], {
      ...env,
      ROTATION_ADMIN_URL: 'postgresql://rotation_admin:wrong-password-123@127.0.0.1:1/odoo',
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/odoo-sor\s+connect\s+odoo-sor\s+FAIL \(error\)/);
    expect(run.stdout).toContain('systems.odoo-sor.admin_url (127.0.0.1:1/odoo): cannot connect');
    expect(run.stdout + run.stderr).not.toContain('wrong-password-123');
    const unknown = await cli(['-C', dir, 'audit', 'nope', '--no-record'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown system 'nope'");
  });

  it("scheduled.yml's Audit step runs it with the values from toJSON(secrets) and vars, and reports the code", async () => {
    const workflow = parse(readFileSync(join(root, '.github/workflows/scheduled.yml'), 'utf8'));
    const step = workflow.jobs.audit.steps.find((s: { name?: string }) => s.name === 'Audit');
    const run = (brokenRule: boolean) => {
      const { dir, summary } = workspace();
      symlinkSync(join(root, 'dist'), join(dir, 'dist'));
      const output = join(dir, 'github-output');
      writeFileSync(join(dir, '.step.sh'), step.run);
      const { ROTATION_ADMIN_URL, ...rest } = env;
      // As the runner runs a bash step: -e and pipefail.
      const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '.step.sh'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: `${join(root, 'node_modules/.bin')}:${process.env.PATH}`,
          RUNNER_TEMP: dir,
          GITHUB_OUTPUT: output,
          GITHUB_STEP_SUMMARY: summary,
          // As the runner fills them: secrets first, a configuration variable for the admin URL.
          ROTATION_SECRETS_JSON: JSON.stringify({ github_token: 'ghs_unused', ...rest }),
          ROTATION_VARS_JSON: JSON.stringify({
            ROTATION_ADMIN_URL: brokenRule ? ROTATION_ADMIN_URL.replace(/\/odoo$/, '/nodb') : ROTATION_ADMIN_URL,
          }),
        },
      });
      return { result, output: readFileSync(output, 'utf8'), out: readFileSync(join(dir, 'audit.out'), 'utf8') };
    };
    const good = run(false);
    expect(good.result.status, good.result.stderr).toBe(0);
    expect(good.output).toBe('code=0\n');
    expect(good.out).toMatch(/^record: docs\/evidence\/\d{8}-\d{4}\/db-audit\/odoo-sor\.json$/m);
    // A check that fails (the admin cannot reach its database) is code 1, and the step still passes so the records get committed.
    const bad = run(true);
    expect(bad.result.status).toBe(0);
    expect(bad.output).toBe('code=1\n');
    expect(leakHaystack(good.result.stdout, bad.result.stdout, good.result.stderr, bad.result.stderr)).not.toMatch(
      new RegExp(secrets.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')),
    );
  });
});
