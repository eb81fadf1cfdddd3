// Issue 16 §3: the evidence folder is committed to the repository, so it is read as untrusted
// input. Only regular files are read (no symlink, FIFO or device is opened), each up to a size and
// all of them up to a total; an evidence_dir that resolves outside the workspace is refused for
// plan, status and audit as for rotations, and no record is written through a symlinked folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/registry/load-policy.js';
import { readHistory } from '../../src/evidence/history.js';
import { evidenceStamp, writeEvidence } from '../../src/evidence/write.js';
import { CADENCE_POLICY, evidenceRecord, workspaceWithHistory } from '../helpers/evidence.js';
import { runChild } from '../helpers/child.js';
import { cli, CLI } from '../helpers/cli-child.js';

const NOW = '2026-06-01T00:00:00Z';
// quarterly_app last rotated 2026-01-15: overdue on NOW.
const HISTORY: [string, string][] = [
  ['quarterly_app', '2026-01-15T03:00:00Z'],
  ['monthly_app', '2026-05-20T03:00:00Z'],
];

function place(workspace: string, path: string): string {
  const file = join(workspace, 'docs/evidence', path);
  mkdirSync(dirname(file), { recursive: true });
  return file;
}

/**
 * `credential-rotation <args>` under a 2 GB address-space limit (Node itself reserves about 1.5) and a deadline: a run that reads
 * /dev/zero to the end dies instead of taking the machine's memory, one that opens a FIFO is killed.
 */
function boundedCli(args: string[], timeout = 20_000) {
  return runChild('sh', ['-c', 'ulimit -v 2000000; exec "$@"', 'sh', process.execPath, CLI, ...args], {
    env: { PATH: process.env.PATH },
    timeout,
  });
}

describe('only regular files are read', () => {
  it('a *.json symlink to /dev/zero is named and not read: plan answers at once, in little memory', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, HISTORY);
    symlinkSync('/dev/zero', place(ws, '20260530-0300/db-rotation/quarterly_app.json'));
    const run = await boundedCli(['-C', ws, 'plan', '--now', NOW]);
    expect(run.signal).toBeNull();
    expect(run.stderr).toBe(
      'warning: evidence docs/evidence/20260530-0300/db-rotation/quarterly_app.json: ignored, not a regular file (a symbolic link); the evidence folder is read without following links\n',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^quarterly_app\s+overdue\s/m);
  });

  it('a FIFO named like a record does not hang plan or status', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, HISTORY);
    const fifo = place(ws, '20260530-0300/db-rotation/quarterly_app.json');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    for (const command of ['plan', 'status']) {
      const run = await boundedCli(['-C', ws, command, '--now', NOW]);
      expect(run.signal, `${command} was killed after 20 s`).toBeNull();
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(
        'warning: evidence docs/evidence/20260530-0300/db-rotation/quarterly_app.json: ignored, not a regular file (a FIFO)',
      );
      expect(run.stdout).toMatch(/^quarterly_app\s+overdue\s/m);
    }
  });

  it('a symlinked folder is not entered: a record it leads to does not count', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, HISTORY);
    // A real record of quarterly_app, elsewhere on the disk, linked in as a stamp folder.
    const elsewhere = mkdtempSync(join(tmpdir(), 'evidence-elsewhere-'));
    mkdirSync(join(elsewhere, 'db-rotation'));
    writeFileSync(
      join(elsewhere, 'db-rotation/quarterly_app.json'),
      JSON.stringify(evidenceRecord('quarterly_app', '2026-05-30T03:00:00Z')),
    );
    symlinkSync(elsewhere, join(ws, 'docs/evidence/20260530-0300'));
    const policy = loadPolicy(join(ws, '.github/rotation.yaml'), {}, { withoutSecrets: true });
    const history = readHistory(policy, ws, { now: new Date(NOW) });
    expect(history.filter((e) => e.record.credential === 'quarterly_app').map((e) => e.record.started_at)).toEqual([
      '2026-01-15T03:00:00.000Z',
    ]);
  });
});

describe('sizes are capped', () => {
  it('a record over the per-file limit (1 MiB) is named and ignored, however valid', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, HISTORY);
    const record = evidenceRecord('quarterly_app', '2026-05-30T03:00:00Z');
    writeFileSync(place(ws, '20260530-0300/db-rotation/quarterly_app.json'), JSON.stringify(record) + ' '.repeat(1024 * 1024));
    const run = await boundedCli(['-C', ws, 'status', '--now', NOW, '--fail-on-overdue']);
    expect(run.stderr).toContain(
      'warning: evidence docs/evidence/20260530-0300/db-rotation/quarterly_app.json: ignored, over the limit of 1048576 bytes for one record',
    );
    expect(run.stdout).toMatch(/^quarterly_app\s+overdue\s/m);
    expect(run.code).toBe(1);
  });

  it('past the limit for the whole folder, the oldest files are left unread and counted in a warning', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, [
      ['quarterly_app', '2026-01-15T03:00:00Z'],
      ['quarterly_app', '2026-02-15T03:00:00Z'],
      ['quarterly_app', '2026-03-15T03:00:00Z'],
      ['monthly_app', '2026-05-20T03:00:00Z'],
    ]);
    const size = JSON.stringify(evidenceRecord('quarterly_app', '2026-01-15T03:00:00Z'), null, 2).length + 1;
    const policy = loadPolicy(join(ws, '.github/rotation.yaml'), {}, { withoutSecrets: true });
    const warnings: string[] = [];
    // Room for two records: the newest two are read.
    const history = readHistory(policy, ws, {
      now: new Date(NOW),
      warn: (m) => warnings.push(m),
      limits: { fileBytes: 1024 * 1024, totalBytes: 2 * size + 10 },
    });
    expect(history.map((e) => `${e.record.credential} ${e.record.started_at.slice(0, 10)}`)).toEqual([
      'quarterly_app 2026-03-15',
      'monthly_app 2026-05-20',
    ]);
    expect(warnings).toEqual([
      `docs/evidence: 2 older file(s) not read: the files read so far reach the limit of ${2 * size + 10} bytes for the whole folder`,
    ]);
  });
});

/** A policy audit can load with nothing but ROTATION_ADMIN_URL set. */
const AUDIT_POLICY = `version: 1
systems:
  odoo-sor: { type: postgres, admin_url: "\${ROTATION_ADMIN_URL}" }
credentials:
  app: { system: odoo-sor, method: alter-role, cadence: quarterly, store: [ { file: { path: .secrets/a.env, key: P } } ] }
`;
/** An admin URL nobody answers: the audit records the failed connection all the same. */
const UNANSWERED = { ROTATION_ADMIN_URL: 'postgresql://admin:pw-not-used-1234@127.0.0.1:1/odoo' };

describe('an evidence_dir outside the workspace is refused for plan, status and audit', () => {
  /** A workspace whose docs/evidence is a symlink to a folder outside it, holding a record. */
  async function linkedOut() {
    const ws = await workspaceWithHistory(CADENCE_POLICY, []);
    const outside = mkdtempSync(join(tmpdir(), 'evidence-outside-'));
    mkdirSync(join(outside, '20260530-0300/db-rotation'), { recursive: true });
    writeFileSync(
      join(outside, '20260530-0300/db-rotation/quarterly_app.json'),
      JSON.stringify(evidenceRecord('quarterly_app', '2026-05-30T03:00:00Z')),
    );
    mkdirSync(join(ws, 'docs'), { recursive: true });
    symlinkSync(outside, join(ws, 'docs/evidence'));
    return { ws, outside };
  }

  it('plan and status exit 2 naming evidence_dir and where it leads', async () => {
    const { ws, outside } = await linkedOut();
    for (const command of ['plan', 'status']) {
      const run = await cli(['-C', ws, command, '--now', NOW]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`error: evidence_dir: "docs/evidence" resolves to ${outside}, outside the workspace`);
    }
    // The policy may opt in, as for rotations.
    writeFileSync(join(ws, '.github/rotation.yaml'), `allow_outside_workspace: true\n${CADENCE_POLICY}`);
    const allowed = await cli(['-C', ws, 'plan', '--now', NOW]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^quarterly_app\s+not due\s/m);
  });

  it('audit exits 2 and writes no record through the symlinked folder', async () => {
    const { ws, outside } = await linkedOut();
    writeFileSync(join(ws, '.github/rotation.yaml'), AUDIT_POLICY);
    const run = await cli(['-C', ws, 'audit'], UNANSWERED);
    expect(run.stderr).toContain(`error: evidence_dir: "docs/evidence" resolves to ${outside}, outside the workspace`);
    expect(run.code).toBe(2);
    expect(readdirSync(outside)).toEqual(['20260530-0300']);
  });

  it('a symlinked stamp or db-audit folder inside the evidence folder does not carry the record out', async () => {
    const ws = await workspaceWithHistory(AUDIT_POLICY, []);
    const outside = mkdtempSync(join(tmpdir(), 'evidence-outside-'));
    // Every minute the run may start in, linked out (db-audit below the stamp too).
    const start = Date.now();
    for (const offset of [0, 60_000, 120_000]) {
      const stamp = evidenceStamp(new Date(start + offset));
      mkdirSync(join(ws, 'docs/evidence', stamp), { recursive: true });
      symlinkSync(outside, join(ws, 'docs/evidence', stamp, 'db-audit'));
    }
    const run = await cli(['-C', ws, 'audit'], UNANSWERED);
    expect(run.stderr).toMatch(
      /db-audit: not a folder \(a symbolic link or a file\) inside the evidence folder: no record is written through it/,
    );
    expect(readdirSync(outside)).toEqual([]);
    expect(run.code).not.toBe(0);
    expect(existsSync(join(ws, 'docs/evidence'))).toBe(true);
  });

  it('the rotation evidence is not written through a symlinked db-rotation folder either', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, []);
    const outside = mkdtempSync(join(tmpdir(), 'evidence-outside-'));
    mkdirSync(join(ws, 'docs/evidence/20260530-0300'), { recursive: true });
    symlinkSync(outside, join(ws, 'docs/evidence/20260530-0300/db-rotation'));
    await expect(writeEvidence(evidenceRecord('quarterly_app', '2026-05-30T03:00:00Z'), 'docs/evidence', ws, (t) => t)).rejects.toThrow(
      /db-rotation: not a folder \(a symbolic link or a file\) inside the evidence folder/,
    );
    expect(readdirSync(outside)).toEqual([]);
  });
});
