import { mkdir, open } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Mustache from 'mustache';
import type { EvidenceRecord } from './record.js';
import { scrubDeep } from '../secret/scrubber.js';
import { RotationError } from '../errors/errors.js';
import { recordFolder } from './folder.js';

/** `20261126-1521`: the run's start, in UTC. */
export function evidenceStamp(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

/**
 * Writes `<dir>/<YYYYMMDD-HHMM>/db-rotation/<credential>.json` and `.md`. A second run in the same
 * minute gets `<credential>-2.json`: files are created exclusively, so no record is overwritten.
 * Returns the JSON file's path relative to the workspace.
 */
export async function writeEvidence(
  given: EvidenceRecord,
  evidenceDir: string,
  workspace: string,
  scrub: (text: string) => string,
): Promise<string> {
  // The record is committed to the repository: it passes the run's scrubber (src/secret/scrubber.ts)
  // here, at the boundary, whatever a step or a server put into it.
  const record = scrubDeep(given, scrub);
  const dir = recordFolder(resolve(workspace, evidenceDir), evidenceStamp(new Date(record.started_at)), 'db-rotation');
  return writeRecordFiles(dir, record.credential, record, scrub(renderMarkdown(record)), workspace);
}

/**
 * Writes `<dir>/<name>.json` and `.md`, or `<name>-2…` when a record of that name exists: files
 * are created exclusively, so no record is ever overwritten. Returns the JSON file's path
 * relative to the workspace. Shared by the rotation evidence and the audit records.
 */
export async function writeRecordFiles(dir: string, name: string, record: object, markdown: string, workspace: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (let n = 1; n < 1000; n++) {
    const base = join(dir, n === 1 ? name : `${name}-${n}`);
    let handle;
    try {
      handle = await open(`${base}.json`, 'wx', 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
    } finally {
      await handle.close();
    }
    const md = await open(`${base}.md`, 'wx', 0o644);
    try {
      await md.writeFile(markdown);
    } finally {
      await md.close();
    }
    return relative(workspace, `${base}.json`);
  }
  throw new RotationError(`too many records named ${name} in ${dir}`);
}

/**
 * Whether `file` is a name writeRecordFiles gives a record of `name`: `<name>.json`, or
 * `<name>-2.json`, `-3`, … for a second run in the same minute. Rotation and audit records alike.
 */
export function isRecordFileOf(file: string, name: string): boolean {
  const base = basename(file, '.json');
  if (!file.endsWith('.json') || !base.startsWith(name)) return false;
  const suffix = base.slice(name.length);
  return suffix === '' || /^-([2-9]|[1-9][0-9]+)$/.test(suffix);
}

export function renderMarkdown(record: EvidenceRecord): string {
  // Markdown tables break on '|' and newlines in free text.
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const view = {
    ...record,
    summary: cell(record.summary),
    steps: record.steps.map((s) => ({ ...s, detail: cell(s.detail) })),
  };
  return Mustache.render(template('rotation.md.mustache'), view, {}, { escape: (text: string) => String(text) });
}

/** Templates live in `evidence-templates/` at the package root, beside `dist/` and `src/`. */
export function template(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'evidence-templates', name);
    if (existsSync(candidate)) return readFileSync(candidate, 'utf8');
    dir = dirname(dir);
  }
  throw new RotationError(`evidence template ${name} not found beside the package`);
}
