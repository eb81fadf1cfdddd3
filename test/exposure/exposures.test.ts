// Issue 17, "Exposure closes itself": GitHub secret-scanning alerts → the leaked value proven dead
// (rotated with reason exposure, or already refused) → the alert resolved as revoked, naming the
// evidence. Real PostgreSQL 16, the Supabase and GitHub models (checked against their descriptions).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { http } from 'msw';
import { GITHUB_BASE_URL } from '../helpers/runtime.js';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import exposureSchema from '../../schema/exposure.schema.json' with { type: 'json' };
import { generatePassword } from '../../src/secret/generate.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { usePostgres, makeRole } from '../helpers/postgres.js';
import { alternatingYaml, makeAlternating } from '../helpers/alternating.js';
import {
  connectionString,
  evidenceFiles,
  exposurePolicyYaml,
  exposures,
  exposureWorld,
  fileValue,
  leakSinks,
  ODOO,
  OPS,
  works,
} from '../helpers/exposure.js';

const fx = usePostgres();
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
/** The record's shipped JSON Schema (schema/exposure.schema.json). */
const validExposureRecord = ajv.compile(exposureSchema);
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

let roles = 0;
/** A fresh alter-role role on the server and its password. */
async function freshRole(): Promise<[string, string]> {
  const role = `leak_app_${++roles}`;
  return [role, (await makeRole(fx(), role)).reveal()];
}
async function setPassword(role: string, password: string): Promise<void> {
  const db = await fx().server.client();
  try {
    await db.query(`ALTER ROLE ${role} PASSWORD ${db.escapeLiteral(scramVerifier(generatePassword().map(() => password)))}`);
  } finally {
    await db.end();
  }
}

describe('exposures --apply, end to end', () => {
  it('odoo_app leaked in a connection string and the Supabase secret key: each rotated once, old values refused, stores live, alerts resolved naming the evidence; an unrelated alert stays open; no secret in any sink', async () => {
    const odoo = fx().platform.passwords.odoo_app.reveal();
    const w = exposureWorld(fx, server, { odoo_app: odoo });
    const text = exposurePolicyYaml(['odoo_app']);
    const oldKey = w.env.SUPABASE_SECRET_KEY;
    const leakedUrl = connectionString('odoo_app', odoo);
    const strangerUrl = connectionString('someone_else', 'not-ours-Pa55word');
    const strangerKey = 'sb_secret_notoursnotoursnotours0123456789ab';
    for (const s of [leakedUrl, strangerUrl, strangerKey]) w.secrets.add(s);
    const scanning = w.gh.secretScanning;
    const odooAlert = scanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: leakedUrl });
    const keyAlert = scanning.addAlert(OPS, { secret_type: 'supabase_secret_key', secret: oldKey });
    const stranger = scanning.addAlert(ODOO, { secret_type: 'postgres_connection_string', secret: strangerUrl });
    const strangerKeyAlert = scanning.addAlert(ODOO, { secret_type: 'supabase_secret_key', secret: strangerKey });

    const report = await exposures(w, text, true);

    expect(report.exitCode, JSON.stringify(report.rows)).toBe(0);
    expect(w.rotations.sort()).toEqual(['odoo_app', 'service_key']);
    // odoo_app: the leaked password is refused; the file store and GitHub hold one new live value.
    const newOdoo = fileValue(w, '.secrets/odoo_app.env', 'DB_PASSWORD')!;
    expect(await works(fx, 'odoo_app', odoo)).toBe('refused');
    expect(await works(fx, 'odoo_app', newOdoo)).toBe('works');
    expect(w.gh.secretValue({ repository: OPS, name: 'ODOO_APP_PASSWORD' })).toBe(newOdoo);
    // The Supabase key: the leaked key answers 401, the new one (in both stores) 200.
    const newKey = fileValue(w, '.secrets/supabase.env', 'SUPABASE_SECRET_KEY')!;
    expect(await works(fx, 'key', oldKey)).toBe('refused');
    expect(await works(fx, 'key', newKey)).toBe('works');
    expect(w.gh.secretValue({ repository: OPS, name: 'SUPABASE_SECRET_KEY' })).toBe(newKey);
    w.secrets.add(newOdoo).add(newKey);

    // Both alerts resolved as revoked; the comment names the exposure record, the rotation record and the run.
    const files = evidenceFiles(w);
    for (const [number, credential] of [
      [odooAlert, 'odoo_app'],
      [keyAlert, 'service_key'],
    ] as const) {
      const alert = scanning.alert(OPS, number)!;
      expect(alert).toMatchObject({ state: 'resolved', resolution: 'revoked' });
      const exposureRecord = Object.keys(files).find((p) => p.endsWith(`db-exposure/${credential}.json`))!;
      const rotationRecord = Object.keys(files).find((p) => p.endsWith(`db-rotation/${credential}.json`))!;
      expect(alert.resolution_comment).toContain(exposureRecord);
      expect(alert.resolution_comment).toContain(rotationRecord);
      expect(alert.resolution_comment).toContain('https://github.com/acme/ops/actions/runs/4242');
      // The record names the alert by number and URL, with the proof, and the rotation has reason exposure.
      const record = JSON.parse(files[exposureRecord]);
      expect(validExposureRecord(record), JSON.stringify(validExposureRecord.errors)).toBe(true);
      expect(record).toMatchObject({ status: 'handled', action: 'rotate', rotation: { status: 'rotated', record: rotationRecord } });
      expect(record.alerts).toEqual([
        expect.objectContaining({
          repository: OPS,
          number,
          url: `https://github.com/${OPS}/security/secret-scanning/${number}`,
          value: 'current',
          resolution: 'resolved',
          proof: expect.objectContaining({ tried: true, rejected: true }),
        }),
      ]);
      expect(JSON.parse(files[rotationRecord])).toMatchObject({ reason: 'exposure', status: 'rotated' });
    }
    expect(JSON.parse(files[Object.keys(files).find((p) => p.endsWith('db-exposure/odoo_app.json'))!]).alerts[0].proof.detail).toMatch(
      /leaked password of odoo_app refused with SQLSTATE 28P01/,
    );
    // Unrelated alerts: left open, reported with the reason, never with the value.
    for (const number of [stranger, strangerKeyAlert])
      expect(scanning.alert(ODOO, number)).toMatchObject({ state: 'open', resolution: null });
    const unmatched = report.rows.filter((r) => r.action === 'none');
    expect(unmatched).toHaveLength(2);
    expect(unmatched).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          repository: ODOO,
          number: stranger,
          credential: null,
          outcome: 'left open',
          detail: 'not matched: user someone_else is not a managed role or login',
        }),
        expect.objectContaining({
          repository: ODOO,
          number: strangerKeyAlert,
          credential: null,
          outcome: 'left open',
          detail: expect.stringMatching(/^not matched: the key is not the value of any managed credential/),
        }),
      ]),
    );
    const haystack = leakSinks(w, fx);
    for (const s of w.secrets) expect(haystack.includes(s), `a secret (${s.length} chars) leaked`).toBe(false);
    // What was asked of GitHub: the generic type explicitly, open alerts only, every page.
    expect(
      w.gh.requests.filter((r) => r.method === 'GET' && r.path.includes('secret-scanning')).map((r) => decodeURIComponent(r.path)),
    ).toEqual(
      expect.arrayContaining([
        expect.stringContaining('state=open&secret_type=postgres_connection_string,supabase_secret_key,supabase_service_key'),
      ]),
    );
  });

  it('an alert for a value already rotated away is resolved with the 28P01 proof and no rotation', async () => {
    const [role, old] = await freshRole();
    const current = generatePassword().reveal();
    await setPassword(role, current);
    const w = exposureWorld(fx, server, { [role]: current });
    w.secrets.add(old).add(current);
    const number = w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: connectionString(role, old) });

    const report = await exposures(w, exposurePolicyYaml([role]), true);

    expect(report.exitCode).toBe(0);
    expect(w.rotations).toEqual([]);
    expect(await works(fx, role, current)).toBe('works');
    const alert = w.gh.secretScanning.alert(OPS, number)!;
    expect(alert).toMatchObject({ state: 'resolved', resolution: 'revoked' });
    const files = evidenceFiles(w);
    const path = Object.keys(files).find((p) => p.endsWith(`db-exposure/${role}.json`))!;
    expect(alert.resolution_comment).toContain(path);
    expect(alert.resolution_comment).toContain('already refused');
    expect(Object.keys(files).some((p) => p.includes('db-rotation'))).toBe(false);
    const record = JSON.parse(files[path]);
    expect(validExposureRecord(record), JSON.stringify(validExposureRecord.errors)).toBe(true);
    expect(record).toMatchObject({ action: 'resolve', status: 'handled' });
    expect(record.alerts[0]).toMatchObject({
      value: 'old',
      resolution: 'resolved',
      proof: { tried: true, rejected: true, detail: `the leaked password of ${role} refused with SQLSTATE 28P01` },
    });
    expect(report.rows).toEqual([
      expect.objectContaining({ number, credential: role, action: 'resolve', outcome: 'resolved', evidence: path }),
    ]);
    const haystack = leakSinks(w, fx);
    for (const s of w.secrets) expect(haystack.includes(s)).toBe(false);
  });

  it('an older password that still logs in is rotated like a current one', async () => {
    const [role, live] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: generatePassword().reveal() });
    const number = w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: connectionString(role, live) });
    const report = await exposures(w, exposurePolicyYaml([role]), true);
    expect(report.rows).toEqual([expect.objectContaining({ number, action: 'rotate', outcome: 'resolved' })]);
    expect(w.rotations).toEqual([role]);
    expect(await works(fx, role, live)).toBe('refused');
    expect(await works(fx, role, fileValue(w, `.secrets/${role}.env`, 'DB_PASSWORD')!)).toBe('works');
  });
});

describe('alternating-roles, and alerts read through an organization', () => {
  it("either login of an alternating-roles credential matches: the idle login's still-accepted password and the active one's, found through organizations: [acme] → one rotation, both resolved, both refused", async () => {
    const { a, b, logins } = await makeAlternating(fx(), 'alt_grp');
    const w = exposureWorld(fx, server, {});
    w.env.CURRENT_ALT = a.reveal();
    const text = `${alternatingYaml(
      'alt_grp',
      'CURRENT_ALT',
      `    store:
      - file: { path: .secrets/alt.env, key: DB_PASSWORD }
      - file: { path: .secrets/alt.env, key: DB_USER, format: "{user}" }
`,
    )}exposure:\n  organizations: [acme]\n`;
    const onOps = w.gh.secretScanning.addAlert(OPS, {
      secret_type: 'postgres_connection_string',
      secret: connectionString(logins[0], a.reveal()),
    });
    const onOdoo = w.gh.secretScanning.addAlert(ODOO, {
      secret_type: 'postgres_connection_string',
      secret: connectionString(logins[1], b.reveal()),
    });
    const report = await exposures(w, text, true);
    expect(report.exitCode, JSON.stringify(report.rows)).toBe(0);
    expect(w.rotations).toEqual(['alt_grp']);
    expect(report.rows.map((r) => [r.repository, r.number, r.credential, r.outcome]).sort()).toEqual([
      [ODOO, onOdoo, 'alt_grp', 'resolved'],
      [OPS, onOps, 'alt_grp', 'resolved'],
    ]);
    for (const [login, old] of [
      [logins[0], a],
      [logins[1], b],
    ] as const)
      expect(await works(fx, login, old.reveal())).toBe('refused');
    expect(await works(fx, fileValue(w, '.secrets/alt.env', 'DB_USER')!, fileValue(w, '.secrets/alt.env', 'DB_PASSWORD')!)).toBe('works');
    expect(w.gh.requests.some((r) => r.path.startsWith('/orgs/acme/secret-scanning/alerts?'))).toBe(true);
    expect(w.gh.secretScanning.alert(ODOO, onOdoo)).toMatchObject({ state: 'resolved', resolution: 'revoked' });
  });
});

describe('exposures without --apply', () => {
  it('an alert seen through its repository and its organization is one row', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password });
    const number = w.gh.secretScanning.addAlert(OPS, {
      secret_type: 'postgres_connection_string',
      secret: connectionString(role, password),
    });
    const report = await exposures(w, exposurePolicyYaml([role], `  repositories: [${OPS}]\n  organizations: [acme]\n`), false);
    expect(report.rows).toEqual([expect.objectContaining({ repository: OPS, number, credential: role, outcome: 'would rotate' })]);
  });

  it('reports what it would do and changes nothing: no ALTER ROLE, no secret written, no key created, no alert updated, no record', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password });
    const oldKey = w.env.SUPABASE_SECRET_KEY;
    const a = w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: connectionString(role, password) });
    const b = w.gh.secretScanning.addAlert(OPS, { secret_type: 'supabase_secret_key', secret: oldKey });
    const logStart = fx().server.log.length;

    const report = await exposures(w, exposurePolicyYaml([role]), false);

    expect(report.rows.map((r) => [r.number, r.credential, r.action, r.outcome])).toEqual(
      [
        [b, 'service_key', 'rotate', 'would rotate'],
        [a, role, 'rotate', 'would rotate'],
      ].sort((x, y) => Number(y[0]) - Number(x[0])),
    );
    expect(report.exitCode).toBe(0);
    expect(w.rotations).toEqual([]);
    expect(await works(fx, role, password)).toBe('works');
    expect(await works(fx, 'key', oldKey)).toBe('works');
    expect(fx().server.log.slice(logStart).join('\n')).not.toMatch(/ALTER ROLE/i);
    expect(w.gh.count({ method: 'PATCH' }) + w.gh.count({ method: 'PUT' })).toBe(0);
    expect(w.sb.count({ method: 'POST' }) + w.sb.count({ method: 'DELETE' })).toBe(0);
    expect(w.gh.secretScanning.alerts(OPS).every((x) => x.state === 'open')).toBe(true);
    expect(evidenceFiles(w)).toEqual({});
  });
});

describe('several alerts, reruns, failures', () => {
  it('five alerts of one credential in two repositories: one rotation, every alert resolved; a rerun finds nothing to do', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password });
    const leaked = connectionString(role, password);
    const numbers = [OPS, OPS, ODOO, ODOO, ODOO].map(
      (repo) => [repo, w.gh.secretScanning.addAlert(repo, { secret_type: 'postgres_connection_string', secret: leaked })] as const,
    );
    const text = exposurePolicyYaml([role]);
    const first = await exposures(w, text, true);
    expect(first.exitCode).toBe(0);
    expect(w.rotations).toEqual([role]);
    expect(first.rotations).toBe(1);
    for (const [repo, n] of numbers) expect(w.gh.secretScanning.alert(repo, n)).toMatchObject({ state: 'resolved', resolution: 'revoked' });
    const second = await exposures(w, text, true);
    expect(second).toMatchObject({ rows: [], rotations: 0, exitCode: 0 });
    expect(w.rotations).toEqual([role]);
  });

  it('an alert update that fails exits 1 and leaves the alert open; the rerun proves the value refused and resolves it without rotating again', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password });
    const number = w.gh.secretScanning.addAlert(OPS, {
      secret_type: 'postgres_connection_string',
      secret: connectionString(role, password),
    });
    w.gh.failNext({ method: 'PATCH' }, { status: 422, message: 'Validation Failed' });
    const text = exposurePolicyYaml([role]);
    const first = await exposures(w, text, true);
    expect(first.exitCode).toBe(1);
    expect(first.rows).toEqual([expect.objectContaining({ number, outcome: 'failed', detail: expect.stringContaining('HTTP 422') })]);
    expect(w.gh.secretScanning.alert(OPS, number)!.state).toBe('open');
    expect(await works(fx, role, password)).toBe('refused');
    const second = await exposures(w, text, true);
    expect(second.exitCode).toBe(0);
    expect(second.rows).toEqual([expect.objectContaining({ number, action: 'resolve', outcome: 'resolved' })]);
    expect(w.rotations).toEqual([role]);
  });

  it('a rotation that fails exits 1, leaves its alerts open and the old value working; other credentials are still handled', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password });
    const a = w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: connectionString(role, password) });
    const b = w.gh.secretScanning.addAlert(OPS, { secret_type: 'supabase_secret_key', secret: w.env.SUPABASE_SECRET_KEY });
    // The GitHub store refuses the write (a token without Secrets: write): the engine backs out.
    w.gh.failNext(
      { method: 'PUT', path: new RegExp(`${role.toUpperCase()}_PASSWORD$`) },
      { status: 403, message: 'Resource not accessible by integration' },
    );
    const report = await exposures(w, exposurePolicyYaml([role]), true);
    expect(report.exitCode).toBe(1);
    expect(report.rows.find((r) => r.number === a)).toMatchObject({
      credential: role,
      outcome: 'failed',
      detail: expect.stringContaining('the rotation failed'),
    });
    expect(report.rows.find((r) => r.number === b)).toMatchObject({ credential: 'service_key', outcome: 'resolved' });
    expect(w.gh.secretScanning.alert(OPS, a)!.state).toBe('open');
    expect(await works(fx, role, password)).toBe('works');
  });
});

describe('errors a user meets', () => {
  it('a token without "Secret scanning alerts" (GITHUB_TOKEN) gets 403: the permission and the repository are named, no rotation starts', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password }, { permissions: { secret_scanning_alerts: 'none' } });
    w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: connectionString(role, password) });
    const report = await exposures(w, exposurePolicyYaml([role]), true);
    expect(report.exitCode).toBe(1);
    expect(w.rotations).toEqual([]);
    expect(report.problems[0]).toMatchObject({ source: OPS, kind: 'permission' });
    expect(report.problems[0].message).toMatch(/acme\/ops.*HTTP 403.*Secret scanning alerts: read and write.*on acme\/ops/);
    expect(await works(fx, role, password)).toBe('works');
    expect(w.runtime.reporter.lines.join('\n')).toContain('no rotation started');
  });

  it('a repository the token cannot see (404) stops the run the same way', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password });
    w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: connectionString(role, password) });
    const report = await exposures(w, exposurePolicyYaml([role], `  repositories: [${OPS}, acme/secret-project]\n`), true);
    expect(report).toMatchObject({ exitCode: 1, rows: [], rotations: 0 });
    expect(report.problems).toEqual([
      expect.objectContaining({
        source: 'acme/secret-project',
        kind: 'permission',
        message: expect.stringMatching(/HTTP 404.*does not exist or the token cannot see it.*Secret scanning alerts: read and write/),
      }),
    ]);
    expect(await works(fx, role, password)).toBe('works');
  });

  it('secret scanning disabled on one repository is named; the other repository is still handled', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password });
    w.gh.secretScanning.setEnabled(ODOO, false);
    const number = w.gh.secretScanning.addAlert(OPS, {
      secret_type: 'postgres_connection_string',
      secret: connectionString(role, password),
    });
    const report = await exposures(w, exposurePolicyYaml([role]), true);
    expect(report.exitCode).toBe(0);
    expect(report.problems).toEqual([
      expect.objectContaining({ source: ODOO, kind: 'disabled', message: expect.stringContaining('secret scanning is disabled') }),
    ]);
    expect(w.runtime.reporter.lines).toContainEqual(expect.stringMatching(/^warning: acme\/odoo: secret scanning is disabled/));
    expect(w.gh.secretScanning.alert(OPS, number)!.state).toBe('resolved');
  });

  it('an alert without its secret (hidden, or the token may not see it) is reported as not matched, with the reason', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password });
    const number = w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string' });
    const report = await exposures(w, exposurePolicyYaml([role]), true);
    expect(report.exitCode).toBe(0);
    expect(report.rows).toEqual([
      expect.objectContaining({
        number,
        credential: null,
        action: 'none',
        outcome: 'left open',
        detail: expect.stringContaining('GitHub shows no secret for this alert'),
      }),
    ]);
  });

  it('a leaked password that cannot be tried (the server does not answer) is neither rotated nor resolved on a guess: exit 1, named', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password });
    w.env.ROTATION_ADMIN_URL = 'postgresql://rotation_admin:unreachable-Pw-1@127.0.0.1:1/odoo';
    w.secrets.add('unreachable-Pw-1');
    const number = w.gh.secretScanning.addAlert(OPS, {
      secret_type: 'postgres_connection_string',
      secret: connectionString(role, password),
    });
    const report = await exposures(w, exposurePolicyYaml([role]), true);
    expect(report.exitCode).toBe(1);
    expect(w.rotations).toEqual([]);
    expect(report.rows).toEqual([
      expect.objectContaining({
        number,
        credential: null,
        action: 'none',
        outcome: 'failed',
        detail: expect.stringMatching(
          new RegExp(`^could not tell whether the leaked value of ${role} works: the leaked password of ${role} could not be tried`),
        ),
      }),
    ]);
    expect(w.gh.secretScanning.alert(OPS, number)!.state).toBe('open');
    const haystack = leakSinks(w, fx);
    for (const s of w.secrets) expect(haystack.includes(s)).toBe(false);
  });

  it('the policy has no exposure: key → a clear error (exit 2 in the CLI)', async () => {
    const w = exposureWorld(fx, server, {});
    const text = exposurePolicyYaml([]).replace(/exposure:\n.*\n$/s, '');
    await expect(exposures(w, text, false)).rejects.toThrow(/has no exposure: key/);
  });
});

describe('a flood of alerts', () => {
  it('a list that keeps failing part-way: the pages read are handled, the failure is named, exit 1', async () => {
    const [role, password] = await freshRole();
    const w = exposureWorld(fx, server, { [role]: password });
    for (let i = 0; i < 150; i++)
      w.gh.secretScanning.addAlert(OPS, {
        secret_type: 'postgres_connection_string',
        secret: connectionString(i === 149 ? role : `nobody_${i}`, `pw-${i}-abc`),
      });
    w.gh.failNext((r) => r.method === 'GET' && r.path.includes('page=2'), { status: 502 }, 4);
    const report = await exposures(w, exposurePolicyYaml([role], `  repositories: [${OPS}]\n`), true);
    expect(report.exitCode).toBe(1);
    expect(report.problems).toEqual([
      expect.objectContaining({ source: OPS, kind: 'error', message: expect.stringContaining('(page 2): HTTP 502') }),
    ]);
    // Newest first: page 1 holds alerts 150…51, the leaked one (150) among them.
    expect(report.rows).toHaveLength(100);
    expect(report.rows.find((r) => r.number === 150)).toMatchObject({ credential: role, outcome: 'resolved' });
  });

  it('hundreds of alerts over many pages, under rate limits (Retry-After, x-ratelimit-reset): every page read, each credential rotated once', async () => {
    // One after the other: concurrent GRANTs on the database collide ("tuple concurrently updated").
    const made = [await freshRole(), await freshRole()];
    const w = exposureWorld(fx, server, Object.fromEntries(made));
    for (let i = 0; i < 320; i++) {
      const [role, password] = made[i % 2];
      const secret = i % 4 === 3 ? connectionString(`nobody_${i}`, `pw-${i}-xyz`) : connectionString(role, password);
      w.gh.secretScanning.addAlert(i % 3 === 0 ? ODOO : OPS, { secret_type: 'postgres_connection_string', secret });
    }
    const start = w.runtime.now().getTime();
    const reset = Math.ceil(start / 1000) + 30;
    w.gh.failNext(
      { method: 'GET', path: /secret-scanning\/alerts$/ },
      { status: 429, headers: { 'retry-after': '7' }, message: 'You have exceeded a secondary rate limit.' },
    );
    w.gh.failNext((r) => r.method === 'GET' && r.path.includes('page=2'), {
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) },
      message: 'API rate limit exceeded',
    });
    // When (on the run's clock) each alert update reached GitHub.
    const updatedAt: number[] = [];
    server.use(
      http.patch(`${GITHUB_BASE_URL}/repos/*`, () => {
        updatedAt.push(w.runtime.now().getTime());
        return undefined;
      }),
    );
    const report = await exposures(w, exposurePolicyYaml(made.map(([r]) => r)), true);
    expect(report.exitCode, JSON.stringify(report.problems)).toBe(0);
    expect(report.rows).toHaveLength(320);
    // Within GitHub's secondary limit (80 content-creating requests a minute): 60 updates a minute at most.
    expect(updatedAt).toHaveLength(240);
    expect(Math.max(...updatedAt.map((t) => updatedAt.filter((u) => u >= t && u < t + 60_000).length))).toBe(60);
    expect(w.rotations.sort()).toEqual(made.map(([r]) => r).sort());
    // Retry-After: 7 s waited; then x-ratelimit-reset waited out to the second GitHub named (the fake clock moves with each wait).
    expect(w.runtime.sleeps.slice(0, 2)).toEqual([7000, reset * 1000 - start - 7000]);
    expect(w.runtime.sleeps.slice(2)).toEqual([60_000, 60_000, 60_000]);
    expect(report.rows.filter((r) => r.outcome === 'resolved')).toHaveLength(240);
    expect(report.rows.filter((r) => r.outcome === 'left open')).toHaveLength(80);
    // Pages of 100: 2 pages for acme/odoo (107 alerts), 3 for acme/ops (213), plus the two retried.
    expect(w.gh.count({ method: 'GET', path: /secret-scanning\/alerts$/ })).toBe(7);
  });
});
