import { appendFileSync } from 'node:fs';
import type { ExposureReport } from '../exposure/run.js';
import { formatTable } from './plan.js';

/** The report as a table: one line per alert, named by repository and number, never by value. */
export function exposuresTable(report: ExposureReport, apply: boolean): string {
  const rows = report.rows.map((r) => [`${r.repository}#${r.number}`, r.secret_type, r.credential ?? '-', r.action, r.outcome, r.detail]);
  const table =
    rows.length > 0
      ? formatTable(['alert', 'secret type', 'credential', 'action', 'outcome', 'detail'], rows)
      : 'no open secret-scanning alert of the types asked for';
  const tail = apply ? `${report.rotations} rotation(s)` : 'dry run: nothing was changed (rerun with --apply to rotate and resolve)';
  return `${table}\n${tail}`;
}

/** The records this run wrote, one path a line as `record: <path>` (the workflow commits them). */
export function recordLines(report: ExposureReport): string {
  return report.records
    .map(
      (p) => `record: ${p}
`,
    )
    .join('');
}

/** The job summary on a runner: the same table in Markdown. */
export function writeExposuresSummary(report: ExposureReport, apply: boolean, env: NodeJS.ProcessEnv): void {
  if (!env.GITHUB_STEP_SUMMARY) return;
  const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `### Exposure response${apply ? '' : ' (dry run)'}`,
    '',
    ...report.problems.map((p) => `- **${p.kind === 'disabled' ? 'warning' : 'error'}**: ${cell(p.message)}`),
    '| Alert | Secret type | Credential | Action | Outcome | Detail |',
    '|---|---|---|---|---|---|',
    ...report.rows.map(
      (r) =>
        `| [${r.repository}#${r.number}](${r.url}) | \`${r.secret_type}\` | ${r.credential ?? '-'} | ${r.action} | ${r.outcome} | ${cell(r.detail)} |`,
    ),
    '',
  ];
  appendFileSync(env.GITHUB_STEP_SUMMARY, `${lines.join('\n')}\n`);
}
