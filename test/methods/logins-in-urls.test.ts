// Issue 16 §4: `{user}` is percent-encoded where it stands inside a URL, so an unusual role name
// still makes a URL that logs in as it; and a login name is not a secret, so the evidence names it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { connectionConfig, tryLogin } from '../../src/postgres/connect.js';
import { Secret } from '../../src/secret/secret.js';
import { testRuntime } from '../helpers/runtime.js';
import { leakHaystack, login, makeRole, PLATFORM_SYSTEM, usePostgres } from '../helpers/postgres.js';
import { alternatingYaml, makeAlternating } from '../helpers/alternating.js';
import { rotationRequest as request } from '../helpers/request.js';

const fx = usePostgres();
const stored = (workspace: string, key: string) =>
  readFileSync(join(workspace, '.secrets/app.env'), 'utf8').match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1];

describe('{user} inside a URL', () => {
  it('a role named app:x%y: the stored URL and the health check log in as it', async () => {
    const role = 'app:x%y';
    const old = await makeRole(fx(), role);
    const url = `postgresql://{user}:{password}@127.0.0.1:${fx().server.port}/odoo`;
    const text = `${PLATFORM_SYSTEM}  odd_app:
    system: odoo-sor
    method: alter-role
    role: "${role}"
    cadence: quarterly
    current: \${CURRENT}
    store:
      - file: { path: .secrets/app.env, key: DB_USER, format: "{user}" }
      - file: { path: .secrets/app.env, key: DATABASE_URL, format: "${url}" }
    health:
      - postgres-login: { url: "${url}" }
`;
    const runtime = testRuntime({ now: () => new Date() });
    const policy = parsePolicy(text, 'rotation.yaml', { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: old.reveal() });
    const result = await rotateCredential(policy, request('odd_app'), runtime);
    expect(result.status, result.summary).toBe('rotated');

    // The login name as it is where it stands alone; percent-encoded inside the URL.
    expect(stored(runtime.workspace, 'DB_USER')).toBe(role);
    const databaseUrl = stored(runtime.workspace, 'DATABASE_URL')!;
    expect(databaseUrl).toMatch(/^postgresql:\/\/app%3Ax%25y:/);
    expect(await tryLogin(connectionConfig(new Secret(databaseUrl)))).toEqual({ ok: true });
    expect(result.record.health[0].detail).toContain(`${role} logged in`);
    expect(await login(fx(), role, old)).toMatchObject({ ok: false, code: '28P01' });
  });
});

describe('login names are not secrets', () => {
  it('a store holding the login name does not mask it: the evidence says which login was revoked', async () => {
    const group = 'alt_named';
    const { a } = await makeAlternating(fx(), group);
    const text = alternatingYaml(
      group,
      'CURRENT',
      `    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
      - file: { path: .secrets/app.env, key: DB_USER, format: "{user}" }
`,
    );
    const runtime = testRuntime({ now: () => new Date() });
    // The file holds the login in use, as it does in production.
    mkdirSync(join(runtime.workspace, '.secrets'));
    writeFileSync(join(runtime.workspace, '.secrets/app.env'), `DB_PASSWORD=${a.reveal()}\nDB_USER=${group}_a\n`);
    const policy = parsePolicy(text, 'rotation.yaml', { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: a.reveal() });
    const result = await rotateCredential(policy, request(group), runtime);
    expect(result.status, result.summary).toBe('rotated');

    expect(result.record.old_credential.detail).toContain(`${group}_a has a fresh password stored nowhere`);
    expect(result.record.notes.join('\n')).toContain(`${group}_a is in use`);
    const json = readFileSync(join(runtime.workspace, result.evidencePath!), 'utf8');
    expect(json).toContain(`${group}_a has a fresh password stored nowhere`);
    // The passwords stay masked.
    const haystack = leakHaystack(runtime.reporter.lines, json, JSON.stringify(result));
    for (const secret of [a.reveal(), stored(runtime.workspace, 'DB_PASSWORD')!]) expect(haystack).not.toContain(secret);
  });
});
