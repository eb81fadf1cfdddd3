import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REGISTRY, type RegistryEntry } from '../../src/registry/registry.js';

/**
 * The composition root (src/registry/registry.ts) lists each adapter once; the policy schema names
 * the same kinds and methods, and the engine builds nothing itself.
 */
const root = join(import.meta.dirname, '../..');
const schema = JSON.parse(readFileSync(join(root, 'schema/rotation.schema.json'), 'utf8'));
const at = (pointer: string): unknown =>
  pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], schema);
const defs = schema.definitions;
const sorted = (names: Iterable<string>) => [...names].sort();

describe('the adapter registry and the policy schema agree', () => {
  it('the schema offers exactly the registered methods, and says so in its message', () => {
    const method = defs.credential.properties.method;
    expect(sorted(method.enum)).toEqual(sorted(Object.keys(REGISTRY.methods)));
    expect(sorted(method['x-expected'].split(' | '))).toEqual(sorted(Object.keys(REGISTRY.methods)));
  });

  it.each([
    ['stores', 'storeTarget'],
    ['consumers', 'consumer'],
    ['health', 'health'],
  ] as const)('the schema offers exactly the registered %s', (kind, def) => {
    expect(sorted(Object.keys(defs[def].properties))).toEqual(sorted(Object.keys(REGISTRY[kind])));
    const listed = /^exactly one of (.*)$/.exec(defs[def]['x-expected'])?.[1];
    if (listed) expect(sorted(listed.split(', '))).toEqual(sorted(Object.keys(REGISTRY[kind])));
  });

  it('each entry points at its options in the schema, works on system types the schema knows, and loads a factory', async () => {
    const systemTypes: string[] = defs.system.properties.type.enum;
    for (const [kind, entries] of Object.entries(REGISTRY) as [string, Record<string, RegistryEntry<unknown>>][]) {
      for (const [name, entry] of Object.entries(entries)) {
        expect(at(entry.schema), `${kind} ${name}: ${entry.schema}`).toBeTypeOf('object');
        if (entry.systems !== 'any') for (const type of entry.systems) expect(systemTypes, `${kind} ${name}`).toContain(type);
        expect(await entry.load(), `${kind} ${name}`).toBeTypeOf('function');
      }
    }
    for (const [name, entry] of Object.entries(REGISTRY.methods)) expect(entry.systems, name).not.toBe('any');
  });
});

describe('the engine receives its adapters', () => {
  it('no engine file imports a concrete adapter or the registry (only the contracts and registry/load-adapters.ts)', () => {
    const dir = join(root, 'src/engine');
    const offending: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const [, spec] of text.matchAll(/from '([^']+)'/g)) {
        const adapterFile = /^\.\.\/(methods|stores|consumers|health)\/(?!method|store|consumer|probe)[^/]+\.js$/.test(spec);
        if (adapterFile || spec === '../registry/registry.js') offending.push(`${file}: ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });
});

describe("the README's options table agrees with the registry and the schema", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
  const header = readme.indexOf('| Kind | Keys |');
  // One table: the rows from its header to the first line that is not a row.
  const end = readme.findIndex((line, i) => i > header && !line.startsWith('|'));
  const rows = readme.slice(header + 2, end);
  /** The table's row of a kind's adapter (`**store** \`github\``), as its keys column. */
  const rowOf = (kind: string, name: string) =>
    rows.find((row) => new RegExp(`^\\| \\*\\*${kind}\\*\\* [^|]*\`${name}\``).test(row))?.split('|')[2];
  const optionsOf = (def: string, name: string): string[] => Object.keys(defs[def].properties[name].properties ?? {});

  it('has one table, with a row for every registered method', () => {
    expect(header).toBeGreaterThan(-1);
    for (const method of Object.keys(REGISTRY.methods)) expect(rowOf('method', method), method).toBeDefined();
  });

  it.each([
    ['stores', 'storeTarget', 'store'],
    ['consumers', 'consumer', 'consumer'],
    ['health', 'health', 'health'],
  ] as const)('names every registered %s and every option the schema gives it', (kind, def, label) => {
    for (const name of Object.keys(REGISTRY[kind])) {
      const row = rowOf(label, name);
      expect(row, `README row for ${label} ${name}`).toBeDefined();
      const missing = optionsOf(def, name).filter((option) => !row!.includes(`\`${option}\``));
      expect(missing, `${label} ${name}: options the README does not name`).toEqual([]);
    }
  });
});
