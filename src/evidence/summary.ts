import type { EvidenceRecord } from './record.js';

const ICON = { ok: '✅', failed: '❌', skipped: '⏭️' } as const;

/** The job summary: one row per checklist step with its outcome and duration. */
export function summaryMarkdown(record: EvidenceRecord, evidencePath: string | undefined, scrub: (text: string) => string): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = record.steps.map((s) => `| ${cell(s.title)} | ${ICON[s.outcome]} ${s.outcome} | ${s.duration_ms} ms | ${cell(s.detail)} |`);
  const markdown = [
    `### Credential rotation: \`${record.credential}\` ${record.status === 'rotated' ? '✅' : record.status === 'failed' ? '❌' : '⏭️'} ${record.status}`,
    '',
    cell(record.summary),
    '',
    '| Step | Outcome | Duration | Detail |',
    '|---|---|---|---|',
    ...rows,
    '',
    `Reason: ${record.reason}. ${evidencePath ? `Evidence: \`${evidencePath}\`.` : 'No evidence written.'}`,
    '',
  ].join('\n');
  // The job summary is a sink like the log: the run's scrubber cleans it as a whole.
  return scrub(markdown);
}
