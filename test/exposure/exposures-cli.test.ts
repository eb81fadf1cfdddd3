// `credential-rotation exposures` as a user runs it: the bundled dist/cli.js as a child process,
// against GitHub and Supabase served over loopback and a real PostgreSQL 16. Exit codes 0/1/2,
// --json rows, the table, the job summary and the record lines the workflow commits.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeRole, usePostgres } from '../helpers/postgres.js';
import { connectionString, exposurePolicyYaml, fileValue, OPS, servedWorld, works, type ServedWorld } from '../helpers/exposure.js';
import type { ExposureRow } from '../../src/exposure/run.js';

const fx = usePostgres();
let roles = 0;
const open: ServedWorld[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
});

async function world(o: Parameters<typeof servedWorld>[2] = {}): Promise<{ w: ServedWorld; role: string; password: string }> {
  const role = `cli_leak_${++roles}`;
  const password = (await makeRole(fx(), role)).reveal();
  const w = await servedWorld(fx, { [role]: password }, o);
  open.push(w);
  return { w, role, password };
}

describe('exposures (dist/cli.js)', () => {
  it('--json prints only the rows, one per alert, and changes nothing; --apply then rotates, resolves, prints the records and writes the job summary (exit 0)', async () => {
    const { w, role, password } = await world();
    const a = w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: connectionString(role, password) });
    const b = w.gh.secretScanning.addAlert(OPS, {
      secret_type: 'postgres_connection_string',
      secret: connectionString('someone_else', 'n0t-0urs-at-all'),
    });

    const dry = await w.cli(['--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const rows = JSON.parse(dry.stdout) as ExposureRow[];
    expect(rows).toEqual([
      {
        repository: OPS,
        number: b,
        url: `https://github.com/${OPS}/security/secret-scanning/${b}`,
        secret_type: 'postgres_connection_string',
        credential: null,
        action: 'none',
        outcome: 'left open',
        detail: 'not matched: user someone_else is not a managed role or login',
      },
      {
        repository: OPS,
        number: a,
        url: `https://github.com/${OPS}/security/secret-scanning/${a}`,
        secret_type: 'postgres_connection_string',
        credential: role,
        action: 'rotate',
        outcome: 'would rotate',
        detail: `${role}'s current value (current), live`,
      },
    ]);
    expect(await works(fx, role, password)).toBe('works');
    expect(w.gh.count({ method: 'PATCH' })).toBe(0);
    expect(existsSync(join(w.workspace, 'docs/evidence'))).toBe(false);

    const run = await w.cli(['--apply']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`${OPS}#${a} +postgres_connection_string +${role} +rotate +resolved`));
    expect(run.stdout).toMatch(new RegExp(`${OPS}#${b} +postgres_connection_string +- +none +left open`));
    expect(run.stdout).toContain('1 rotation(s)');
    const records = [...run.stdout.matchAll(/^record: (.*)$/gm)].map((m) => m[1]);
    expect(records).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`db-exposure/${role}\\.json$`)),
        expect.stringMatching(new RegExp(`db-rotation/${role}\\.md$`)),
      ]),
    );
    for (const r of records) expect(existsSync(join(w.workspace, r)), r).toBe(true);
    expect(run.summary).toContain('### Exposure response');
    expect(run.summary).toContain(`| [${OPS}#${a}](https://github.com/${OPS}/security/secret-scanning/${a}) |`);
    expect(await works(fx, role, password)).toBe('refused');
    expect(await works(fx, role, fileValue(w, `.secrets/${role}.env`, 'DB_PASSWORD')!)).toBe('works');
    expect(w.gh.secretScanning.alert(OPS, a)).toMatchObject({
      state: 'resolved',
      resolution: 'revoked',
      resolution_comment: expect.stringContaining('Run: https://github.com/acme/ops/actions/runs/4242'),
    });
  });

  it('exit 1 when an alert update fails; the other alerts are still handled', async () => {
    const { w, role, password } = await world();
    const a = w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: connectionString(role, password) });
    const b = w.gh.secretScanning.addAlert(OPS, { secret_type: 'supabase_secret_key', secret: w.env.SUPABASE_SECRET_KEY });
    w.gh.failNext({ method: 'PATCH', path: `/repos/${OPS}/secret-scanning/alerts/${a}` }, { status: 422, message: 'Validation Failed' });
    const run = await w.cli(['--apply']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`${OPS}#${a} .* failed +the alert could not be updated: .*HTTP 422`));
    expect(w.gh.secretScanning.alert(OPS, b)!.state).toBe('resolved');
  });

  it('exit 1 and no rotation when the token cannot read the alerts (GITHUB_TOKEN: no "Secret scanning alerts")', async () => {
    const { w, role, password } = await world({ permissions: { secret_scanning_alerts: 'none' } });
    w.gh.secretScanning.addAlert(OPS, { secret_type: 'postgres_connection_string', secret: connectionString(role, password) });
    const run = await w.cli(['--apply']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /error: GitHub: list secret-scanning alerts of acme\/ops \(page 1\): HTTP 403 \(Resource not accessible by integration\)\. the token needs the permission "Secret scanning alerts: read and write".* on acme\/ops/,
    );
    expect(run.stderr).toContain('no rotation started');
    expect(await works(fx, role, password)).toBe('works');
  });

  it.each([
    [
      'a policy without exposure:',
      (url: string) => exposurePolicyYaml([], undefined, url).replace(/exposure:\n.*\n$/s, ''),
      {},
      /has no exposure: key/,
    ],
    [
      'exposure: without repositories or organizations',
      (url: string) => exposurePolicyYaml([], '  secret_types: [postgres_connection_string]\n', url),
      {},
      /exposure.*(repositories|organizations)/,
    ],
    [
      'a repository that is not owner/name',
      (url: string) => exposurePolicyYaml([], '  repositories: [just-a-name]\n', url),
      {},
      /exposure\.repositories\[0\]: expected owner\/name/,
    ],
  ])('exit 2 for %s, before anything is read', async (_what, policy, _o, message) => {
    const { w } = await world({ policy });
    const run = await w.cli(['--apply']);
    expect(run.code, run.stdout).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(w.gh.requests).toEqual([]);
  });

  it('exit 2 without GITHUB_TOKEN', async () => {
    const { w } = await world();
    const { cli } = await import('../helpers/cli-child.js');
    const bare = await cli(['exposures'], { ...w.env }, w.workspace);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/GITHUB_TOKEN is not set/);
  });
});
