import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import Mustache from 'mustache';
import type { RunStatus, Trigger } from '../evidence/record.js';
import { evidenceStamp, template, writeRecordFiles } from '../evidence/write.js';
import { recordFolder } from '../evidence/folder.js';
import type { RevocationProof } from '../methods/method.js';
import { scrubDeep } from '../secret/scrubber.js';

/**
 * The evidence of one credential's exposure response, beside the rotation evidence:
 * `<evidence_dir>/<YYYYMMDD-HHMM>/db-exposure/<credential>.json` and `.md`. It names each alert by
 * repository, number and URL, says why its leaked value is dead (the rotation, or the login tried
 * and refused) and what became of the alert. It never holds the value, a hash of it or a part.
 * Its JSON Schema: schema/exposure.schema.json.
 */
export interface ExposureRecord {
  schema: 'credential-rotation/exposure@1';
  credential: string;
  system: string;
  method: string;
  trigger: Trigger;
  started_at: string;
  finished_at: string;
  /** `rotate`: the leaked value was live, the credential was rotated; `resolve`: it was already refused. */
  action: 'rotate' | 'resolve';
  rotation?: { status: RunStatus; record?: string; summary: string };
  alerts: AlertRecord[];
  /** `handled`: every alert's value proven refused and the alert resolved. */
  status: 'handled' | 'failed';
  summary: string;
}

export interface AlertRecord {
  repository: string;
  number: number;
  url: string;
  secret_type: string;
  /** Whether the leaked value was the one in use (`current`) or an older one of the role. */
  value: 'current' | 'old';
  proof: Pick<RevocationProof, 'tried' | 'rejected' | 'detail'>;
  /** `pending` only between the record's first write and the alert's update. */
  resolution: 'resolved' | 'left open' | 'pending';
  resolution_detail?: string;
}

/** Writes the record (a new file, never overwriting another run's); returns its path from the workspace. */
export async function writeExposureRecord(
  record: ExposureRecord,
  evidenceDir: string,
  workspace: string,
  scrub: (text: string) => string,
): Promise<string> {
  const clean = scrubDeep(record, scrub);
  // Only into real folders below evidence_dir: a symlinked stamp or db-exposure folder is refused.
  const dir = recordFolder(resolve(workspace, evidenceDir), evidenceStamp(new Date(clean.started_at)), 'db-exposure');
  return writeRecordFiles(dir, clean.credential, clean, scrub(renderExposureMarkdown(clean)), workspace);
}

/** Rewrites this run's own record once the alerts are updated (the path its comment names stays the same). */
export async function updateExposureRecord(
  path: string,
  record: ExposureRecord,
  workspace: string,
  scrub: (text: string) => string,
): Promise<void> {
  const clean = scrubDeep(record, scrub);
  const json = resolve(workspace, path);
  await writeFile(json, `${JSON.stringify(clean, null, 2)}\n`);
  await writeFile(json.replace(/\.json$/, '.md'), scrub(renderExposureMarkdown(clean)));
}

export function renderExposureMarkdown(record: ExposureRecord): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const alerts = record.alerts.map((a) => ({
    ...a,
    proof: { ...a.proof, detail: cell(a.proof.detail) },
    resolution_detail: a.resolution_detail && cell(a.resolution_detail),
  }));
  return Mustache.render(
    template('exposure.md.mustache'),
    { ...record, summary: cell(record.summary), alerts },
    {},
    { escape: (t: string) => String(t) },
  );
}
