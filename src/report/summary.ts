import type { EvidenceRecord } from '../evidence/record.js';

const ICON = { ok: '✅', failed: '❌', skipped: '⏭️' } as const;

/** The job summary: one row per checklist step with its outcome and duration. */
export function summaryMarkdown(record: EvidenceRecord, evidencePath?: string): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = record.steps.map((s) => `| ${cell(s.title)} | ${ICON[s.outcome]} ${s.outcome} | ${s.duration_ms} ms | ${cell(s.detail)} |`);
  return [
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
}
