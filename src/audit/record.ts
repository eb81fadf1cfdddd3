import Mustache from 'mustache';
import type { Trigger } from '../evidence/record.js';
import { evidenceStamp, isRecordFileOf, template, writeRecordFiles } from '../evidence/write.js';
import type { Policy } from '../policy/types.js';
import { evidenceRoot, readEvidenceFiles, recordFolder } from '../evidence/folder.js';
import type { AuditCheck, AuditReport, SystemAudit, Verdict } from './types.js';

/** The audit record of one system, beside the rotation evidence. Never holds a secret. */
export interface AuditRecord {
  schema: 'credential-rotation/audit@1';
  system: string;
  type: string;
  target?: string;
  policy: string;
  trigger: Trigger;
  started_at: string;
  finished_at: string;
  verdict: Verdict;
  counts: { checks: number; passed: number; errors: number; warnings: number };
  checks: AuditCheck[];
}

export function auditRecord(report: AuditReport, system: SystemAudit, trigger: Trigger): AuditRecord {
  const failed = system.checks.filter((c) => c.verdict === 'fail');
  return {
    schema: 'credential-rotation/audit@1',
    system: system.system,
    type: system.type,
    ...(system.target ? { target: system.target } : {}),
    policy: report.policy,
    trigger,
    started_at: report.started_at,
    finished_at: report.finished_at,
    verdict: failed.length === 0 ? 'pass' : 'fail',
    counts: {
      checks: system.checks.length,
      passed: system.checks.length - failed.length,
      errors: failed.filter((c) => c.severity === 'error').length,
      warnings: failed.filter((c) => c.severity === 'warning').length,
    },
    checks: system.checks,
  };
}

/** Writes `<evidence_dir>/<YYYYMMDD-HHMM>/db-audit/<system>.json` and `.md`; returns the JSON paths. */
export async function writeAuditRecords(policy: Policy, report: AuditReport, trigger: Trigger, workspace: string): Promise<string[]> {
  const dir = recordFolder(evidenceRoot(policy, workspace), evidenceStamp(new Date(report.started_at)), 'db-audit');
  const paths: string[] = [];
  for (const system of report.systems) {
    const record = auditRecord(report, system, trigger);
    paths.push(await writeRecordFiles(dir, system.system, record, renderAuditMarkdown(record), workspace));
  }
  return paths;
}

export function renderAuditMarkdown(record: AuditRecord): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const checks = record.checks.map((c) => ({ ...c, detail: cell(c.detail) }));
  return Mustache.render(
    template('audit.md.mustache'),
    { ...record, checks, failed: checks.filter((c) => c.verdict === 'fail') },
    {},
    { escape: (t: string) => String(t) },
  );
}

export interface LastAudit {
  system: string;
  at: string;
  verdict: Verdict;
  /** Rule and subject of each failed check. */
  failed: string[];
  record: string;
}

/**
 * The latest audit record of each system. A record counts only when it is ours and sits where its
 * own start time and system say it belongs (`<stamp>/db-audit/<system>[-N].json`): a file dropped
 * anywhere else cannot stand in for an audit.
 */
export function lastAudits(policy: Policy, workspace: string, warn?: (message: string) => void): Map<string, LastAudit> {
  const latest = new Map<string, LastAudit>();
  // `<stamp>`, `<stamp>/db-audit` and the files in it; read as untrusted input (evidence/folder.ts).
  const include = (parts: string[], folder: boolean) =>
    folder ? parts.length === 1 || (parts.length === 2 && parts[1] === 'db-audit') : parts.length === 3;
  for (const { parts, path, text } of readEvidenceFiles(evidenceRoot(policy, workspace), workspace, { include, warn })) {
    const [stamp, , file] = parts;
    const record = readRecord(text);
    if (!record || evidenceStamp(new Date(record.started_at)) !== stamp || !isRecordFileOf(file, record.system)) continue;
    const previous = latest.get(record.system);
    if (previous && previous.at > record.started_at) continue;
    latest.set(record.system, {
      system: record.system,
      at: record.started_at,
      verdict: record.verdict,
      failed: record.checks.filter((c) => c.verdict === 'fail').map((c) => `${c.rule}:${c.subject}`),
      record: path,
    });
  }
  return latest;
}

function readRecord(text: string): AuditRecord | undefined {
  try {
    const record = JSON.parse(text) as AuditRecord;
    const valid =
      record.schema === 'credential-rotation/audit@1' &&
      typeof record.system === 'string' &&
      typeof record.started_at === 'string' &&
      !Number.isNaN(Date.parse(record.started_at)) &&
      (record.verdict === 'pass' || record.verdict === 'fail') &&
      Array.isArray(record.checks) &&
      record.verdict === (record.checks.some((c) => c.verdict === 'fail') ? 'fail' : 'pass');
    return valid ? record : undefined;
  } catch {
    return undefined;
  }
}
