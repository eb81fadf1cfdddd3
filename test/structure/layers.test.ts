import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * THE FLOORS OF src/ — the one table of which folder may import which.
 *
 * A folder (a "room") may import the rooms on the floors below its own, never a room on its own
 * floor or above. Type-only imports and lazy `import()` count like any other. A new folder gets a
 * line here; a room that needs something from its own floor or above is in the wrong place (move
 * the shared piece down), not a reason to edit the table.
 */
export const FLOORS: readonly (readonly string[])[] = [
  ['errors'], //                                          RotationError: imports nothing
  ['secret'], //                                          Secret, scrubber, generate
  ['report'], //                                          the Reporter (terminal, Actions log)
  ['runtime'], //                                         the Runtime a run passes down, deadlines, polling
  ['http', 'postgres'], //                                protocol helpers: HTTP errors and retries; connect, lock, SCRAM, TLS
  ['policy'], //                                          the policy file: types, reading, schema, checks that need no adapter
  ['evidence', 'github', 'digitalocean', 'supabase', 'superset'], // records; provider clients
  ['adapters'], //                                        what every adapter is built from: context, options, formats, a system's CA
  ['methods', 'stores', 'consumers', 'health'], //        the adapters, one file each; never each other
  ['registry'], //                                        the composition root: every adapter listed once, with its policy checks; policy loading
  ['audit'], //                                           the audit's rules
  ['provision'], //                                       least-privilege roles, checked with the audit's rules
  ['engine'], //                                          the checklist
  ['exposure'], //                                        responding to a leaked secret: rotations through the engine
  ['cli', 'post', 'demo'], //                             entry points' helpers
  ['(root)'], //                                          main.ts, action.ts, post.ts, cli.ts
];

const root = join(import.meta.dirname, '../..');
const src = join(root, 'src');

/** The room of a file under src/: its top folder, or (root) for src/*.ts. */
function roomOf(file: string): string {
  const parts = relative(src, file).split(sep);
  return parts.length > 1 ? parts[0] : '(root)';
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

export interface Edge {
  from: string;
  to: string;
  fromRoom: string;
  toRoom: string;
}

/** Every relative import (static, type-only, re-export, lazy import()) from one file to another under src/. */
function edgesOf(file: string): Edge[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .filter((i) => i.fileName.startsWith('.'))
    .map((i) => resolve(dirname(file), i.fileName).replace(/\.js$/, '.ts'))
    .filter((target) => target.startsWith(src + sep))
    .map((target) => ({ from: relative(src, file), to: relative(src, target), fromRoom: roomOf(file), toRoom: roomOf(target) }));
}

/** The imports the table forbids, as "file -> file (room, floor N -> room, floor M)" lines. */
export function upwardImports(edges: Edge[], floors: readonly (readonly string[])[] = FLOORS): string[] {
  const floor = new Map(floors.flatMap((rooms, i) => rooms.map((room) => [room, i] as const)));
  return edges
    .filter((e) => e.fromRoom !== e.toRoom && (floor.get(e.toRoom) ?? Infinity) >= (floor.get(e.fromRoom) ?? -1))
    .map((e) => `${e.from} -> ${e.to} (${e.fromRoom}, floor ${floor.get(e.fromRoom)} -> ${e.toRoom}, floor ${floor.get(e.toRoom)})`);
}

describe('the floors of src/', () => {
  const files = sourceFiles(src);
  const edges = files.flatMap(edgesOf);

  it('every folder of src/ has a room on exactly one floor', () => {
    const rooms = FLOORS.flat();
    expect(new Set(rooms).size, 'a room listed twice').toBe(rooms.length);
    expect([...new Set(files.map(roomOf))].filter((room) => !rooms.includes(room))).toEqual([]);
  });

  it('no file imports a room on its own floor or above', () => {
    expect(upwardImports(edges)).toEqual([]);
  });

  it('only the entry points (action, post, cli, demo) and the exposure response, which runs rotations, import engine/', () => {
    const importers = new Set(edges.filter((e) => e.toRoom === 'engine' && e.fromRoom !== 'engine').map((e) => e.fromRoom));
    expect([...importers].filter((room) => !['(root)', 'cli', 'post', 'demo', 'exposure'].includes(room))).toEqual([]);
  });

  it('the check finds an upward import and a sibling import (it can fail)', () => {
    const edge = (from: string, to: string): Edge => ({ from: `${from}/a.ts`, to: `${to}/b.ts`, fromRoom: from, toRoom: to });
    expect(upwardImports([edge('postgres', 'methods'), edge('consumers', 'stores'), edge('methods', 'postgres')])).toEqual([
      'postgres/a.ts -> methods/b.ts (postgres, floor 4 -> methods, floor 8)',
      'consumers/a.ts -> stores/b.ts (consumers, floor 8 -> stores, floor 8)',
    ]);
  });
});
