import { appendFileSync } from 'node:fs';
import type { AuditReport } from '../audit/types.js';
import { formatTable } from './plan.js';

const HEADERS = ['system', 'rule', 'subject', 'verdict', 'detail'];

function rows(report: AuditReport): string[][] {
  return report.systems.flatMap((s) =>
    s.checks.map((c) => [s.system, c.rule, c.subject, c.verdict === 'pass' ? 'pass' : `FAIL (${c.severity})`, c.detail]),
  );
}

/** The terminal view: one row per check, then each failed check's findings with their fixes. */
export function auditTable(report: AuditReport): string {
  const lines = [formatTable(HEADERS, rows(report))];
  for (const system of report.systems) {
    for (const c of system.checks.filter((x) => x.verdict === 'fail')) {
      lines.push('', `${system.system} / ${c.rule} / ${c.subject}: ${c.title}`);
      for (const f of c.findings) {
        lines.push(`  ${f.severity}: ${f.what}`);
        for (const fix of f.fixes) lines.push(`    fix: ${fix}`);
      }
    }
  }
  lines.push('', auditVerdictLine(report));
  return lines.join('\n');
}

export function auditVerdictLine(report: AuditReport): string {
  const checks = report.systems.flatMap((s) => s.checks);
  const failed = checks.filter((c) => c.verdict === 'fail');
  const errors = failed.filter((c) => c.severity === 'error').length;
  return failed.length === 0
    ? `audit passed: ${checks.length} check(s) on ${report.systems.length} system(s)`
    : `audit failed: ${errors} check(s) with errors, ${failed.length - errors} with warnings, of ${checks.length}`;
}

/** The job summary: the same table in Markdown, with the findings and fixes of each failure. */
export function auditMarkdown(report: AuditReport, recordPaths: string[]): string {
  const esc = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const failures = report.systems.flatMap((s) =>
    s.checks
      .filter((c) => c.verdict === 'fail')
      .flatMap((c) => [
        `- **${esc(s.system)} / ${c.rule} / \`${esc(c.subject)}\`**`,
        ...c.findings.flatMap((f) => [`  - ${f.severity}: ${esc(f.what)}`, ...f.fixes.map((fix) => `    - fix: \`${fix}\``)]),
      ]),
  );
  return [
    '### Access audit',
    '',
    auditVerdictLine(report),
    '',
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map(() => ' --- ').join('|')}|`,
    ...rows(report).map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
    ...(failures.length > 0 ? ['#### Findings and fixes', '', ...failures, ''] : []),
    recordPaths.length > 0 ? `Records: ${recordPaths.map((p) => `\`${p}\``).join(', ')}` : 'No record written.',
    '',
  ].join('\n');
}

export function writeAuditSummary(report: AuditReport, recordPaths: string[], env: NodeJS.ProcessEnv): void {
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${auditMarkdown(report, recordPaths)}\n`);
}
