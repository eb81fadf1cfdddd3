// Issue 16 §3: a record counts for plan, status and scheduled runs only when its credential,
// system, method and role (and, for alternating-roles, its two logins) are what the policy says
// now. A record copied from another credential's definition, or from before the policy changed,
// is named in a warning and does not make a never-rotated credential "not due".
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/registry/load-policy.js';
import { planMatrix, planRotations } from '../../src/cli/plan.js';
import { statusRows } from '../../src/cli/status.js';
import { isDue } from '../../src/evidence/history.js';
import type { EvidenceRecord } from '../../src/evidence/record.js';
import { CADENCE_POLICY, evidenceRecord, workspaceWithHistory } from '../helpers/evidence.js';
import { cli } from '../helpers/cli-child.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const AT = '2026-05-30T03:00:00Z';
const PATH = '20260530-0300/db-rotation/never_app.json';

function put(workspace: string, path: string, record: EvidenceRecord): void {
  const file = join(workspace, 'docs/evidence', path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(record));
}

function record(credential: string, edit: (r: EvidenceRecord) => void): EvidenceRecord {
  const r = evidenceRecord(credential, AT);
  edit(r);
  return r;
}

describe('a record of another definition does not count', () => {
  it.each<[string, (r: EvidenceRecord) => void, string]>([
    [
      'another role (a record copied from another credential)',
      (r) => void (r.role = 'odoo_app'),
      'role odoo_app (the policy says never_app)',
    ],
    ['another system', (r) => void (r.system = 'old-sor'), 'system old-sor (the policy says odoo-sor)'],
    ['another method', (r) => void (r.method = 'digitalocean-reset'), 'method digitalocean-reset (the policy says alter-role)'],
  ])('%s: never_app stays never rotated, and the warning names what differs', async (_what, edit, differs) => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, []);
    put(ws, PATH, record('never_app', edit));
    const policy = loadPolicy(join(ws, '.github/rotation.yaml'), {}, { withoutSecrets: true });
    const warnings: string[] = [];
    const row = statusRows(policy, ws, NOW, (m) => warnings.push(m)).find((r) => r.credential === 'never_app');
    expect(row).toMatchObject({ state: 'never rotated', overdue: true, evidence: null });
    expect(planMatrix(planRotations(policy, ws, NOW)).include).toContainEqual({ credential: 'never_app', reason: 'scheduled' });
    // A scheduled run asks the same question.
    expect(isDue(policy, policy.credentials.never_app, ws, NOW).due).toBe(true);
    expect(warnings).toEqual([
      `docs/evidence/${PATH}: ignored, it is a record of never_app with ${differs}: not a rotation of the credential the policy defines now`,
    ]);
  });

  it('the same record with the definition as the policy gives it counts', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, []);
    put(
      ws,
      PATH,
      record('never_app', () => {}),
    );
    const policy = loadPolicy(join(ws, '.github/rotation.yaml'), {}, { withoutSecrets: true });
    const warnings: string[] = [];
    expect(statusRows(policy, ws, NOW, (m) => warnings.push(m)).find((r) => r.credential === 'never_app')).toMatchObject({
      state: 'not due',
      overdue: false,
    });
    expect(warnings).toEqual([]);
  });

  it('`credential-rotation plan --json` schedules the credential and warns on stderr', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, []);
    put(
      ws,
      PATH,
      record('never_app', (r) => void (r.role = 'odoo_app')),
    );
    const run = await cli(['-C', ws, 'plan', '--json', '--now', NOW.toISOString()]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).include).toContainEqual({ credential: 'never_app', reason: 'scheduled' });
    expect(run.stderr).toContain(
      `warning: evidence docs/evidence/${PATH}: ignored, it is a record of never_app with role odoo_app (the policy says never_app)`,
    );
  });
});

describe('alternating-roles: the logins are part of the definition', () => {
  const policyWith = (logins: string) => `version: 1
systems:
  odoo-sor: { type: postgres, admin_url: "\${ROTATION_ADMIN_URL}" }
credentials:
  odoo_app: { system: odoo-sor, method: alternating-roles, role: odoo_app,${logins} cadence: quarterly, store: [ { file: { path: .secrets/o.env, key: P } } ] }
`;
  const alternating = (logins?: string[]) =>
    record('odoo_app', (r) => {
      r.method = 'alternating-roles';
      if (logins) r.logins = logins;
      else delete r.logins;
    });

  it.each<[string, string, string[] | undefined, string | undefined]>([
    ['the default logins, recorded', '', ['odoo_app_a', 'odoo_app_b'], undefined],
    ['the logins the policy names, recorded', ' logins: [odoo_x, odoo_y],', ['odoo_x', 'odoo_y'], undefined],
    [
      'another pair than the policy names',
      ' logins: [odoo_x, odoo_y],',
      ['odoo_app_a', 'odoo_app_b'],
      'logins odoo_app_a, odoo_app_b (the policy says odoo_x, odoo_y)',
    ],
    ['no logins in the record', '', undefined, 'no logins (the policy says odoo_app_a, odoo_app_b)'],
  ])('%s', async (_what, logins, recorded, differs) => {
    const ws = await workspaceWithHistory(policyWith(logins), []);
    put(ws, '20260530-0300/db-rotation/odoo_app.json', alternating(recorded));
    const policy = loadPolicy(join(ws, '.github/rotation.yaml'), {}, { withoutSecrets: true });
    const warnings: string[] = [];
    const row = statusRows(policy, ws, NOW, (m) => warnings.push(m))[0];
    if (differs) {
      expect(row.state).toBe('never rotated');
      expect(warnings).toEqual([
        `docs/evidence/20260530-0300/db-rotation/odoo_app.json: ignored, it is a record of odoo_app with ${differs}: not a rotation of the credential the policy defines now`,
      ]);
    } else {
      expect(row.state).toBe('not due');
      expect(warnings).toEqual([]);
    }
  });
});
