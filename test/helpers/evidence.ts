import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvidenceRecord, RunStatus } from '../../src/evidence/record.js';
import { writeEvidence } from '../../src/evidence/write.js';
import { STEPS, type StepName } from '../../src/engine/steps.js';

/** An evidence record of the shape rotateCredential writes, finished a few seconds after it started. */
export function evidenceRecord(credential: string, startedAt: string, status: RunStatus = 'rotated'): EvidenceRecord {
  const started = new Date(startedAt);
  return {
    schema: 'credential-rotation/evidence@1',
    credential,
    system: 'odoo-sor',
    method: 'alter-role',
    role: credential,
    reason: 'scheduled',
    trigger: { event: 'schedule', actor: 'test' },
    started_at: started.toISOString(),
    finished_at: new Date(started.getTime() + 5_000).toISOString(),
    status,
    summary: status,
    // What the engine lists: every step up to the revocation (the record is written in the evidence step).
    steps: (Object.keys(STEPS) as StepName[])
      .filter((step) => step !== 'evidence')
      .map((step, i) => ({
        step,
        title: STEPS[step],
        started_at: new Date(started.getTime() + i * 100).toISOString(),
        duration_ms: 100,
        outcome: status === 'rotated' || step === 'preflight' ? 'ok' : step === 'generate' ? 'failed' : 'skipped',
        detail: status,
      })),
    stores: status === 'rotated' ? [{ target: `file .secrets/${credential}.env P`, outcome: 'ok', detail: 'written' }] : [],
    consumers: [],
    health: [],
    old_credential: { tried: true, rejected: status === 'rotated', detail: 'test' },
    notes: [],
  };
}

/** A workspace with `.github/rotation.yaml` and the given evidence history, written by the real writeEvidence. */
export async function workspaceWithHistory(
  policy: string,
  history: [credential: string, startedAt: string, status?: RunStatus][],
): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'rotation-history-'));
  mkdirSync(join(dir, '.github'));
  writeFileSync(join(dir, '.github/rotation.yaml'), policy);
  for (const [credential, at, status] of history)
    await writeEvidence(evidenceRecord(credential, at, status), 'docs/evidence', dir, (text) => text);
  return dir;
}

/** Four alter-role credentials, one per cadence kind; no secret needs to be set to read it for plan/status. */
export const CADENCE_POLICY = `version: 1
systems:
  odoo-sor: { type: postgres, admin_url: "\${ROTATION_ADMIN_URL}" }
credentials:
  monthly_app: { system: odoo-sor, method: alter-role, cadence: monthly, current: "\${MONTHLY}", store: [ { file: { path: .secrets/m.env, key: P } } ] }
  quarterly_app: { system: odoo-sor, method: alter-role, cadence: quarterly, current: "\${QUARTERLY}", store: [ { file: { path: .secrets/q.env, key: P } } ] }
  annual_app: { system: odoo-sor, method: alter-role, cadence: annually, current: "\${ANNUAL}", store: [ { file: { path: .secrets/a.env, key: P } } ] }
  tenday_app: { system: odoo-sor, method: alter-role, cadence: 10d, current: "\${TENDAY}", store: [ { file: { path: .secrets/t.env, key: P } } ] }
  never_app: { system: odoo-sor, method: alter-role, cadence: quarterly, store: [ { file: { path: .secrets/n.env, key: P } } ] }
`;
