// Issue 8 §4: evidence that status can trust. The shipped schema validates every record the
// engine writes; plan, status and scheduled runs count only records that validate, sit where their
// own started_at and credential say, are not in the future and, for rotated, show every step ok and
// the old credential tried and refused; anything else is named in a warning and ignored. With a
// token, status checks each GitHub secret's updated_at against the last rotation on record.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { loadPolicy } from '../../src/registry/load-policy.js';
import { planRotations } from '../../src/cli/plan.js';
import { overdueMessage, statusRows } from '../../src/cli/status.js';
import { checkStoreTargets } from '../../src/cli/status-stores.js';
import { readHistory } from '../../src/evidence/history.js';
import type { EvidenceRecord } from '../../src/evidence/record.js';
import { CADENCE_POLICY, evidenceRecord, workspaceWithHistory } from '../helpers/evidence.js';
import { http, HttpResponse } from 'msw';
import { REPO, rotate, server, TEXT, URLS, world, type World } from '../helpers/platform.js';

const SCHEMA = JSON.parse(readFileSync(join(import.meta.dirname, '../../schema/evidence.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(SCHEMA);
const NOW = new Date('2026-06-01T00:00:00Z');
// quarterly_app last rotated 2026-01-15: overdue on NOW.
const HISTORY: [string, string][] = [
  ['quarterly_app', '2026-01-15T03:00:00Z'],
  ['monthly_app', '2026-05-20T03:00:00Z'],
];

/** Every JSON record under a workspace's evidence folder. */
function records(workspace: string): { path: string; record: EvidenceRecord }[] {
  const dir = join(workspace, 'docs/evidence');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ path: f, record: JSON.parse(readFileSync(join(dir, f), 'utf8')) as EvidenceRecord }));
}

function put(workspace: string, path: string, data: unknown): void {
  const file = join(workspace, 'docs/evidence', path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof data === 'string' ? data : JSON.stringify(data));
}

/** A record as the engine writes it for quarterly_app, rotated at `at`, changed by `edit`. */
function forged(at: string, edit: (r: EvidenceRecord) => void = () => {}): EvidenceRecord {
  const r = evidenceRecord('quarterly_app', at);
  edit(r);
  return r;
}

const FIVE_FIELDS = { credential: 'quarterly_app', status: 'rotated', started_at: '2999-01-01T00:00:00Z' };

describe('a record that does not hold up is named and ignored: an overdue credential stays overdue', () => {
  it.each<[string, string, unknown, RegExp]>([
    [
      'the five-field hand-written record, in a random folder',
      'random/quarterly_app.json',
      FIVE_FIELDS,
      /does not validate against schema\/evidence\.schema\.json/,
    ],
    [
      "the five fields and the schema marker, under a random folder's db-rotation",
      'random/db-rotation/quarterly_app.json',
      { schema: 'credential-rotation/evidence@1', ...FIVE_FIELDS },
      /does not validate/,
    ],
    ['the five-field record, where a record sits', '29990101-0000/db-rotation/quarterly_app.json', FIVE_FIELDS, /does not validate/],
    ['not JSON', '20260520-0300/db-rotation/quarterly_app.json', '{"credential": "quarterly_app", ', /not JSON/],
    [
      'a full record under another minute',
      '20260101-0000/db-rotation/quarterly_app.json',
      forged('2026-05-30T03:00:00Z'),
      /sits at 20260530-0300\/db-rotation\/quarterly_app\.json, not here/,
    ],
    [
      "a full record under another credential's name",
      '20260530-0300/db-rotation/monthly_app.json',
      forged('2026-05-30T03:00:00Z'),
      /not here/,
    ],
    [
      'a full record named -1 (the writer starts at -2)',
      '20260530-0300/db-rotation/quarterly_app-1.json',
      forged('2026-05-30T03:00:00Z'),
      /not here/,
    ],
    ['a full record outside db-rotation', '20260530-0300/quarterly_app.json', forged('2026-05-30T03:00:00Z'), /not here/],
    ['a record in the future', '29990101-0000/db-rotation/quarterly_app.json', forged('2999-01-01T00:00:00Z'), /in the future/],
    [
      'rotated, but a step failed',
      '20260530-0300/db-rotation/quarterly_app.json',
      forged('2026-05-30T03:00:00Z', (r) => void (r.steps[6].outcome = 'failed')),
      /claims rotated, but step health is failed/,
    ],
    [
      'rotated, with a step missing',
      '20260530-0300/db-rotation/quarterly_app.json',
      forged('2026-05-30T03:00:00Z', (r) => void r.steps.splice(7, 1)),
      /step revoke is missing/,
    ],
    [
      'rotated, the old credential not refused',
      '20260530-0300/db-rotation/quarterly_app.json',
      forged('2026-05-30T03:00:00Z', (r) => void (r.old_credential.rejected = false)),
      /old credential was not tried and refused/,
    ],
    [
      'refused without being tried',
      '20260530-0300/db-rotation/quarterly_app.json',
      forged('2026-05-30T03:00:00Z', (r) => void (r.old_credential = { tried: false, rejected: true, detail: 'x' })),
      /refused without trying it/,
    ],
  ])('%s', async (_what, path, data, why) => {
    const workspace = await workspaceWithHistory(CADENCE_POLICY, HISTORY);
    put(workspace, path, data);
    const policy = loadPolicy(join(workspace, '.github/rotation.yaml'), {}, { withoutSecrets: true });
    const warnings: string[] = [];
    const rows = statusRows(policy, workspace, NOW, (m) => warnings.push(m));
    expect(rows.find((r) => r.credential === 'quarterly_app')).toMatchObject({
      state: 'overdue',
      overdue: true,
      last_rotated: '2026-01-15T03:00:05.000Z',
    });
    expect(planRotations(policy, workspace, NOW).find((r) => r.credential === 'quarterly_app')?.due).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^docs/evidence/${path.replace(/[.]/g, '\\.')}: ignored, `));
    expect(warnings[0]).toMatch(why);
  });

  it('the same record where it belongs does count (and a second run in the minute, -2, too)', async () => {
    const workspace = await workspaceWithHistory(CADENCE_POLICY, HISTORY);
    put(workspace, '20260530-0300/db-rotation/quarterly_app-2.json', forged('2026-05-30T03:00:00Z'));
    const policy = loadPolicy(join(workspace, '.github/rotation.yaml'), {}, { withoutSecrets: true });
    const warnings: string[] = [];
    const row = statusRows(policy, workspace, NOW, (m) => warnings.push(m)).find((r) => r.credential === 'quarterly_app');
    expect(warnings).toEqual([]);
    expect(row).toMatchObject({
      state: 'not due',
      overdue: false,
      evidence: 'docs/evidence/20260530-0300/db-rotation/quarterly_app-2.json',
    });
  });

  it('`credential-rotation status` prints the warning on stderr and the gate still fails', async () => {
    const workspace = await workspaceWithHistory(CADENCE_POLICY, HISTORY);
    put(workspace, 'random/quarterly_app.json', FIVE_FIELDS);
    const run = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '../../dist/cli.js'), '-C', workspace, 'status', '--fail-on-overdue', '--now', NOW.toISOString()],
      {
        env: { PATH: process.env.PATH },
        encoding: 'utf8',
      },
    );
    expect(run.stderr).toContain('warning: evidence docs/evidence/random/quarterly_app.json: ignored, it does not validate');
    expect(run.stderr).toMatch(/error: overdue: quarterly_app/);
    expect(run.status).toBe(1);
  });
});

describe('the records the engine writes', () => {
  it('validate against the shipped schema and count, for every method of the example platform; a failed and an exposure run validate too', async () => {
    const w = world();
    for (const id of ['doadmin', 'odoo_app', 'superset_ro', 'service_role', 'anon'] as const) {
      const r = await rotate(w, id);
      expect(r.status, `${id}: ${r.summary}`).toBe('rotated');
    }
    const exposure = await rotate(w, 'service_role', 'exposure');
    expect(exposure.status, exposure.summary).toBe('rotated');
    // Odoo stays unhealthy after the change: a failed run that changed something.
    server.use(http.get(`${URLS.ODOO_URL}/web/health`, () => HttpResponse.json({ status: 'fail' }, { status: 503 })));
    expect((await rotate(w, 'odoo_app', 'manual')).status).toBe('failed');

    const written = records(w.runtime.workspace);
    expect(written).toHaveLength(7);
    for (const { path, record } of written) expect(validate(record), `${path}: ${JSON.stringify(validate.errors)}`).toBe(true);
    expect(written.some((r) => r.record.incident?.exposure)).toBe(true);

    const warnings: string[] = [];
    const history = readHistory(parsePlatformPolicy(w), w.runtime.workspace, { now: w.runtime.now(), warn: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(history.map((e) => e.record.status).sort()).toEqual(['failed', ...Array(6).fill('rotated')]);
  });

  it('a scheduled run is not skipped by a forged record that says "not due"', async () => {
    const w = world();
    put(w.runtime.workspace, 'random/odoo_app.json', { ...FIVE_FIELDS, credential: 'odoo_app' });
    // In its place too, with a started_at that is its folder's, but dated after the run.
    const future = evidenceRecord('odoo_app', '2026-03-01T03:30:00Z');
    put(w.runtime.workspace, '20260301-0330/db-rotation/odoo_app.json', future);
    const result = await rotate(w, 'odoo_app', 'scheduled');
    expect(result.status).toBe('rotated');
    expect(w.runtime.reporter.lines).toContain(
      "warning: evidence docs/evidence/random/odoo_app.json: ignored, it does not validate against schema/evidence.schema.json: (top level) must have required property 'schema'; (top level) must have required property 'system'; (top level) must have required property 'method'",
    );
    expect(w.runtime.reporter.lines).toContain(
      'warning: evidence docs/evidence/20260301-0330/db-rotation/odoo_app.json: ignored, it is dated in the future (2026-03-01T03:30:00.000Z)',
    );
  });
});

describe('the evidence is honest about the old credential', () => {
  it('with no current, the old value was not tried: not refused, not rotated, not counted; the README says so', async () => {
    const w = world();
    const text = TEXT.replace('    current: ${ODOO_DB_PASSWORD}\n', '');
    expect(text).not.toBe(TEXT);
    delete w.env.ODOO_DB_PASSWORD;
    const result = await rotate(w, 'odoo_app', 'manual', text);
    expect(result.record.old_credential).toMatchObject({ tried: false, rejected: false });
    expect(result.record.old_credential.detail).toMatch(/^not tried: no current value was given/);
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/the old credential was not tried: .* set current/);
    // Stored everywhere and live: nothing to repair but the proof.
    expect(result.record.stores.every((s) => s.outcome === 'ok')).toBe(true);
    const [{ record }] = records(w.runtime.workspace);
    expect(validate(record)).toBe(true);
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    expect(readme).toMatch(/without `current`[^.]*the evidence says the old value was not tried/i);
  });
});

describe('with a token, status checks each GitHub secret against the last rotation on record', () => {
  it('a secret not changed since before the rotation the evidence claims is flagged; the gate fails', async () => {
    const w = world();
    expect((await rotate(w, 'odoo_app')).status).toBe('rotated');
    const policy = parsePlatformPolicy(w);
    const rows = statusRows(policy, w.runtime.workspace, w.runtime.now());
    await checkStoreTargets(policy, rows, w.runtime);
    const odoo = rows.find((r) => r.credential === 'odoo_app')!;
    // Every GitHub target of odoo_app (password and login name, repository and environment).
    expect(odoo.stores?.map((s) => s.verdict)).toEqual(['changed', 'changed', 'changed', 'changed']);
    expect(odoo).toMatchObject({ overdue: false, stale: [] });
    expect(overdueMessage(rows.filter((r) => r.credential === 'odoo_app'))).toBeUndefined();

    // Someone puts the environment secret back (or the write never landed): it predates the run.
    w.gh.secret({ repository: REPO, environment: 'production', name: 'ODOO_DB_PASSWORD' })!.updated_at = '2026-02-01T00:00:00Z';
    const again = statusRows(policy, w.runtime.workspace, w.runtime.now());
    await checkStoreTargets(policy, again, w.runtime);
    const flagged = again.find((r) => r.credential === 'odoo_app')!;
    expect(flagged.stores?.map((s) => s.verdict)).toEqual(['changed', 'changed', 'stale', 'changed']);
    expect(flagged.stores?.[2].detail).toBe(
      `github ${REPO} environment production ODOO_DB_PASSWORD was last updated 2026-02-01T00:00:00.000Z, before the rotation of 2026-03-01T03:00:00.000Z that ${flagged.evidence} claims`,
    );
    expect(flagged).toMatchObject({ overdue: true, stale: [`github ${REPO} environment production ODOO_DB_PASSWORD`] });
    expect(overdueMessage([flagged])).toBe(
      `not changed since the rotation the evidence claims: odoo_app (github ${REPO} environment production ODOO_DB_PASSWORD)`,
    );
    // The checks only read metadata: GET …/secrets/{name}.
    expect(w.gh.count({ method: 'GET', path: /\/environments\/production\/secrets\/ODOO_DB_PASSWORD$/ })).toBe(2);
  });
});

function parsePlatformPolicy(w: World) {
  const file = join(w.runtime.workspace, '.github/rotation.yaml');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, TEXT);
  return loadPolicy(file, w.env, { withoutSecrets: true });
}
