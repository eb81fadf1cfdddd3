// Builds bench/bench.ts with esbuild (the sources are TypeScript) and runs it.
import { build } from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

mkdirSync('bench-results', { recursive: true });
const outfile = resolve('bench-results/bench.mjs');
await build({
  entryPoints: ['bench/bench.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  logLevel: 'warning',
});
// The HTTP models read their providers' descriptions beside their own file (import.meta.dirname),
// which in the bundle is bench-results/: put them there.
cpSync('test/models/openapi/descriptions', 'bench-results/descriptions', { recursive: true });
await import(pathToFileURL(outfile).href);
