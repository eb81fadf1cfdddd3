// Issue 9 §1 and issue 16 §5: servers that echo the request (body and headers) in their error answers, for every
// HTTP adapter of the example platform. Each row fails one call of a real rotation that way and
// searches every sink the engine writes (log lines, evidence JSON and Markdown, the job summary,
// the returned result, a thrown message) for every secret the run knew.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { ECHO_FORMS, echoing, leakForms, type Echo } from '../helpers/echo.js';
import { Ajv } from 'ajv';
import { summaryMarkdown } from '../../src/evidence/summary.js';
import evidenceSchema from '../../schema/evidence.schema.json' with { type: 'json' };
import { APP } from '../helpers/digitalocean.js';
import { GITHUB_BASE_URL } from '../helpers/runtime.js';
import { DO_API, PROJECT, rotate, SB_API, server, TEXT, URLS, values, world, type Id, type World } from '../helpers/platform.js';

const HEALTH_TOKEN = 'health-probe-token-7f3a9c1e5b';
const WEBHOOK_SECRET = 'webhook-hmac-key-2d8e6b4a0c';
const HOOK_URL = 'https://hooks.test/rotated';

/** The example policy with a token in Odoo's health URL and a signed webhook consumer on odoo_app. */
const POLICY = TEXT.replace('"${ODOO_URL}/web/health"', '"${ODOO_URL}/web/health?token=${HEALTH_TOKEN}"')
  .replace(
    '      - github-workflow: { repository: "${OPS_REPOSITORY}", workflow: deploy-odoo.yml, ref: main, timeout_minutes: 20 }\n',
    `      - github-workflow: { repository: "\${OPS_REPOSITORY}", workflow: deploy-odoo.yml, ref: main, timeout_minutes: 20 }\n      - http: { url: ${HOOK_URL}, secret: "\${WEBHOOK_SECRET}" }\n`,
  )
  // The transitional App Platform consumer the example carries commented out.
  .replace(/ {4}# consumers:\n {4}# {3}- (digitalocean-app: .*)\n/, '    consumers:\n      - $1\n');

interface Row {
  adapter: string;
  credential: Id;
  base: string;
  method: string;
  path: RegExp;
  status: number;
  /** The adapter names the status only, never the answer's text. */
  quotesNothing?: true;
}

const GH_REPO = `${GITHUB_BASE_URL}/repos`;
const ROWS: Row[] = [
  {
    adapter: 'store github (repository secret)',
    credential: 'odoo_app',
    base: GH_REPO,
    method: 'PUT',
    path: /\/actions\/secrets\/ODOO_DB_PASSWORD$/,
    status: 403,
  },
  {
    adapter: 'store github (environment secret)',
    credential: 'odoo_app',
    base: GH_REPO,
    method: 'PUT',
    path: /\/environments\/production\/secrets\//,
    status: 422,
  },
  { adapter: 'consumer github-workflow', credential: 'odoo_app', base: GH_REPO, method: 'POST', path: /\/dispatches$/, status: 422 },
  {
    adapter: 'consumer http-webhook',
    credential: 'odoo_app',
    base: 'https://hooks.test',
    method: 'POST',
    path: /^\/rotated$/,
    status: 400,
  },
  {
    adapter: 'health http (token in the query)',
    credential: 'odoo_app',
    base: URLS.ODOO_URL,
    method: 'GET',
    path: /^\/web\/health$/,
    status: 500,
  },
  {
    adapter: 'consumer superset-database',
    credential: 'superset_ro',
    base: URLS.SUPERSET_URL,
    method: 'PUT',
    path: /^\/api\/v1\/database\/1$/,
    status: 400,
  },
  {
    adapter: 'consumer supabase-function-secrets',
    credential: 'service_role',
    base: SB_API,
    method: 'POST',
    path: /\/secrets$/,
    status: 400,
  },
  {
    adapter: 'consumer n8n-credential',
    credential: 'service_role',
    base: URLS.N8N_URL,
    method: 'PATCH',
    path: /^\/api\/v1\/credentials\//,
    status: 400,
  },
  {
    adapter: 'consumer n8n-credential (read)',
    credential: 'service_role',
    base: URLS.N8N_URL,
    method: 'GET',
    path: /^\/api\/v1\/credentials\/[^/]+$/,
    status: 400,
  },
  {
    adapter: 'consumer n8n-credential (test)',
    credential: 'service_role',
    base: URLS.N8N_URL,
    method: 'POST',
    path: /^\/api\/v1\/credentials\/[^/]+\/test$/,
    status: 400,
  },
  {
    adapter: 'health supabase-api',
    credential: 'service_role',
    base: PROJECT,
    method: 'GET',
    path: /^\/rest\/v1\/$/,
    status: 401,
    quotesNothing: true,
  },
  {
    adapter: 'method supabase-secret-key (create)',
    credential: 'service_role',
    base: SB_API,
    method: 'POST',
    path: /\/api-keys$/,
    status: 400,
  },
  {
    adapter: 'method supabase-secret-key (delete the old key)',
    credential: 'service_role',
    base: SB_API,
    method: 'DELETE',
    path: /\/api-keys\//,
    status: 400,
  },
  {
    adapter: 'method supabase-publishable-key (create)',
    credential: 'anon',
    base: SB_API,
    method: 'POST',
    path: /\/api-keys$/,
    status: 422,
  },
  { adapter: 'method digitalocean-reset', credential: 'doadmin', base: DO_API, method: 'POST', path: /\/reset_auth$/, status: 422 },
  {
    adapter: 'consumer digitalocean-app',
    credential: 'doadmin',
    base: DO_API,
    method: 'POST',
    path: new RegExp(`/v2/apps/${APP}/deployments$`),
    status: 422,
  },
];

const validRecord = new Ajv({ allErrors: true, strict: false }).compile(evidenceSchema);

/** Every file under docs/evidence (JSON and Markdown). */
function evidenceFiles(w: World): string[] {
  const dir = join(w.runtime.workspace, 'docs/evidence');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

// Issue 16 §5: each row again with the echo placed across every cut a client makes, and in base64
// and hex; every sink is searched for each secret, a cut piece of it, and its encodings.
const CASES = ROWS.flatMap((row) => ECHO_FORMS.map((form) => ({ ...row, form })));

describe('a server that echoes the request in its error answer leaks nothing into any sink', () => {
  it.each(CASES)('$adapter answering $status, echo $form', async ({ form, ...row }) => {
    const w = world();
    w.env.HEALTH_TOKEN = HEALTH_TOKEN;
    w.env.WEBHOOK_SECRET = WEBHOOK_SECRET;
    w.secrets.add(HEALTH_TOKEN).add(WEBHOOK_SECRET);
    // The run masks what it knows; the test also searches for all of it, independently.
    const mask = w.runtime.reporter.mask.bind(w.runtime.reporter);
    w.runtime.reporter.mask = (secret) => {
      w.secrets.add(secret.reveal());
      mask(secret);
    };
    const echo: Echo = { hits: 0, sealed: [] };
    // A healthy webhook receiver for the rows that fail elsewhere.
    server.use(
      echoing(row.base, row.method, row.path, row.status, echo, form),
      http.post(HOOK_URL, () => new HttpResponse(null, { status: 204 })),
    );

    let thrown = '';
    let result: Awaited<ReturnType<typeof rotate>> | undefined;
    try {
      result = await rotate(w, row.credential, 'manual', POLICY);
    } catch (error) {
      thrown = `${(error as Error).message}\n${(error as Error).stack ?? ''}`;
    }
    expect(echo.hits, `the echoing call was made: ${thrown || result?.summary}`).toBeGreaterThan(0);
    expect(result?.status).toBe('failed');
    for (const value of values(w, row.credential)) if (value) w.secrets.add(value);

    const files = evidenceFiles(w);
    // A call refused in preflight changes nothing and leaves no evidence; any later one leaves both files.
    expect(files.length, 'evidence JSON and Markdown, or none').toBe(
      result?.record.steps.find((s) => s.step === 'preflight')?.outcome === 'failed' ? 0 : 2,
    );
    // The failed run's record is still a valid one (the schema is checked on what the engine writes).
    for (const file of files.filter((f) => f.startsWith('{')))
      expect(validRecord(JSON.parse(file)), JSON.stringify(validRecord.errors)).toBe(true);
    const sinks = {
      log: w.runtime.reporter.lines.join('\n'),
      evidence: files.join('\n'),
      summary: result ? summaryMarkdown(result.record, result.evidencePath, (t) => w.runtime.reporter.scrub(t)) : '',
      result: JSON.stringify(result),
      thrown,
    };
    // The echo reached a sink (scrubbed), so the row tests the scrubber, not a dropped message.
    if (!row.quotesNothing) expect(Object.values(sinks).join('\n')).toContain(form === 'plain' ? 'with headers' : `echo ${form}:`);
    for (const [sink, text] of Object.entries(sinks)) {
      for (const secret of [...w.secrets, ...echo.sealed]) {
        for (const [i, leak] of leakForms(secret).entries()) {
          expect(text.includes(leak), `${sink} holds a secret (${secret.slice(0, 3)}…, ${secret.length} chars; form ${i})`).toBe(false);
        }
      }
      expect(text, `${sink}: no bearer token of any kind`).not.toMatch(/Bearer (?!\*\*\*)[A-Za-z0-9._~+/=-]{12,}/);
    }
  });
});
