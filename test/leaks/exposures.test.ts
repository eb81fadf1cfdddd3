// The leak matrix for `exposures` (issue 17): the bundled CLI run as a user runs it, on the way that
// works and with servers that echo what they were sent (the alert update, the alert list, a GitHub
// secret write, the Supabase key probe that carries the leaked key). Every sink the run leaves
// (stdout, stderr, the job summary, the evidence JSON and Markdown) is searched for every secret:
// the alerts' own secrets (connection strings and keys), old and new values, tokens, ciphertext.
import { afterEach, describe, expect, it } from 'vitest';
import { echoing, type Echo } from '../helpers/echo.js';
import { makeRole, usePostgres } from '../helpers/postgres.js';
import { connectionString, evidenceFiles, fileValue, ODOO, OPS, PROJECT, servedWorld, type ServedWorld } from '../helpers/exposure.js';
import { GITHUB_BASE_URL } from '../helpers/runtime.js';

const fx = usePostgres();
let roles = 0;
const open: ServedWorld[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
});

interface Row {
  name: string;
  args: string[];
  /** A call answered by a server echoing the request (method, base, path, status). */
  echo?: [string, string, RegExp, number];
  code: number;
}

const ROWS: Row[] = [
  { name: 'exposures --apply, everything works', args: ['--apply'], code: 0 },
  { name: 'exposures --json (dry run)', args: ['--json'], code: 0 },
  {
    name: 'GitHub answers the alert update 422, echoing body and Authorization',
    args: ['--apply'],
    echo: ['PATCH', GITHUB_BASE_URL, /\/secret-scanning\/alerts\/\d+$/, 422],
    code: 1,
  },
  {
    name: 'GitHub answers the alert list 403, echoing the request',
    args: ['--apply'],
    echo: ['GET', GITHUB_BASE_URL, /\/secret-scanning\/alerts$/, 403],
    code: 1,
  },
  {
    name: 'GitHub answers the secret write 403, echoing the sealed value',
    args: ['--apply'],
    echo: ['PUT', GITHUB_BASE_URL, /\/actions\/secrets\/[A-Z_0-9]+_PASSWORD$/, 403],
    code: 1,
  },
  {
    name: 'the Supabase gateway answers the leaked key 500, echoing its apikey header',
    args: ['--apply'],
    echo: ['GET', PROJECT, /^\/rest\/v1\/$/, 500],
    code: 1,
  },
];

describe('exposures leaks no secret into any sink', () => {
  it.each(ROWS)('$name', async (row) => {
    const role = `exp_leak_${++roles}`;
    const password = (await makeRole(fx(), role)).reveal();
    const w = await servedWorld(fx, { [role]: password });
    open.push(w);
    const key = w.env.SUPABASE_SECRET_KEY;
    const alertSecrets = [
      connectionString(role, password),
      key,
      connectionString('someone_else', 'str4nger-Passw0rd'),
      'sb_secret_strangerstrangerstranger0123456789',
    ];
    w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: alertSecrets[0] });
    w.gh.secretScanning.addAlert(OPS, { secret_type: 'supabase_secret_key', secret: alertSecrets[1] });
    w.gh.secretScanning.addAlert(ODOO, { secret_type: 'postgres_connection_string', secret: alertSecrets[2] });
    w.gh.secretScanning.addAlert(ODOO, { secret_type: 'supabase_secret_key', secret: alertSecrets[3] });
    const echo: Echo = { hits: 0, sealed: [] };
    if (row.echo) w.gates.push(echoing(row.echo[1], row.echo[0], row.echo[2], row.echo[3], echo));

    const run = await w.cli(row.args);

    expect(run.code, run.stdout + run.stderr).toBe(row.code);
    if (row.echo) expect(echo.hits, 'the echoing call was made').toBeGreaterThan(0);
    const secrets = new Set([...w.secrets, ...alertSecrets, 'str4nger-Passw0rd', ...echo.sealed]);
    for (const value of [
      fileValue(w, `.secrets/${role}.env`, 'DB_PASSWORD'),
      fileValue(w, '.secrets/supabase.env', 'SUPABASE_SECRET_KEY'),
      w.gh.secretValue({ repository: OPS, name: `${role.toUpperCase()}_PASSWORD` }),
    ])
      if (value) secrets.add(value);
    const sinks: Record<string, string> = { stdout: run.stdout, stderr: run.stderr, summary: run.summary, ...evidenceFiles(w) };
    for (const [sink, text] of Object.entries(sinks)) {
      for (const secret of secrets)
        expect(text.includes(secret), `${sink} holds a secret (${secret.slice(0, 3)}…, ${secret.length} chars)`).toBe(false);
      expect(text, `${sink}: no bearer token of any kind`).not.toMatch(/Bearer (?!\*\*\*)[A-Za-z0-9._~+/=-]{12,}/);
    }
    // The run did report the alerts (by number and URL), so the search above is over real output.
    expect(run.stdout + run.stderr).toMatch(/acme\/(ops|odoo)/);
  });
});
