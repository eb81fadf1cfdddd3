// Issue 16 §2: rotate and provision never send the user round in a loop (what the rotation's
// preflight refuses, provision repairs, or both name the same SQL for a superuser); a WARNING
// from PostgreSQL is a failure, never "applied"; names PostgreSQL would cut are refused at load.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { describeError } from '../../src/errors/errors.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { provisionCredential, runInTransaction } from '../../src/provision/run.js';
import { testRuntime } from '../helpers/runtime.js';
import { alterRoleYaml, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { alternatingYaml, makeAlternating } from '../helpers/alternating.js';
import { cli } from '../helpers/cli-child.js';
import { rotationRequest } from '../helpers/request.js';

const fx = usePostgres();
const env = (current: string) => ({ ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: current });
const STORE = `    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
      - file: { path: .secrets/app.env, key: DB_USER, format: "{user}" }
`;
const alternating = (group: string) => alternatingYaml(group, 'CURRENT', `    access: readwrite\n${STORE}`);
const alterRole = (role: string) => alterRoleYaml(role, 'CURRENT', `    access: readonly\n${STORE}`);
const rotate = (text: string, id: string, current: string) =>
  rotateCredential(parsePolicy(text, 'rotation.yaml', env(current)), rotationRequest(id), testRuntime({ now: () => new Date() }));

async function su(sql: string): Promise<void> {
  const c = await fx().server.client('odoo');
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

describe('what the rotation refuses in preflight, provision --apply repairs (no loop)', () => {
  const cases: [string, (group: string) => string][] = [
    ['a login made NOLOGIN', (g) => `ALTER ROLE ${g}_b NOLOGIN`],
    ['a login that does not run as the group', (g) => `ALTER ROLE ${g}_b RESET role`],
    ['a login that is not a member', (g) => `REVOKE ${g} FROM ${g}_b`],
    ['a missing login', (g) => `DROP ROLE ${g}_b`],
  ];
  for (const [what, breakIt] of cases) {
    it(`alternating-roles, ${what}: rotate refuses naming provision; after provision --apply it rotates`, async () => {
      const group = `fix_${what.split(' ').at(-1)!.toLowerCase().replace(/\W/g, '')}_${Math.random().toString(36).slice(2, 6)}`;
      const { a } = await makeAlternating(fx(), group);
      await su(breakIt(group));
      const text = alternating(group);
      const refused = await rotate(text, group, a.reveal());
      expect(refused.status).toBe('failed');
      expect(refused.summary).toContain(`credential-rotation provision ${group} --apply`);

      const repaired = await provisionCredential(parsePolicy(text, 'rotation.yaml', env('unused')), group, {
        runtime: testRuntime(),
        apply: true,
      });
      expect(repaired.converged, repaired.remaining.join('\n')).toBe(true);
      const rotated = await rotate(text, group, a.reveal());
      expect(rotated.status, rotated.summary).toBe('rotated');
    });
  }

  it('alter-role, a role made NOLOGIN: rotate refuses naming provision; provision --apply makes it a login again', async () => {
    const password = await makeRole(fx(), 'fix_nologin');
    await su('ALTER ROLE fix_nologin NOLOGIN');
    const text = alterRole('fix_nologin');
    const refused = await rotate(text, 'fix_nologin', password.reveal());
    expect(refused.summary).toContain('credential-rotation provision fix_nologin --apply');
    const repaired = await provisionCredential(parsePolicy(text, 'rotation.yaml', env('unused')), 'fix_nologin', {
      runtime: testRuntime(),
      apply: true,
    });
    expect(repaired.script).toContain('ALTER ROLE "fix_nologin" LOGIN;');
    expect(repaired.converged, repaired.remaining.join('\n')).toBe(true);
    expect((await rotate(text, 'fix_nologin', password.reveal())).status).toBe('rotated');
  });

  it('what only a superuser can repair, rotate and provision both name with the same SQL (provision does not claim it done)', async () => {
    const { a } = await makeAlternating(fx(), 'fix_noadmin');
    await su('REVOKE fix_noadmin_b FROM rotation_admin');
    const text = alternating('fix_noadmin');
    const fix = 'GRANT fix_noadmin_b TO rotation_admin WITH ADMIN OPTION';
    expect((await rotate(text, 'fix_noadmin', a.reveal())).summary).toContain(fix);
    const result = await provisionCredential(parsePolicy(text, 'rotation.yaml', env('unused')), 'fix_noadmin', {
      runtime: testRuntime(),
      apply: true,
    });
    expect(result.converged).toBe(false);
    expect(result.script).not.toContain('nothing to do');
    expect(result.remaining.join('\n').replaceAll('"', '')).toContain(fix);
  });
});

describe('a group role that can log in: left to a person, and rotate and provision name the same statement', () => {
  it('provision says "not done" with ALTER ROLE … NOLOGIN (consumers may still use it); once run, both are satisfied', async () => {
    const { a } = await makeAlternating(fx(), 'fix_grouplogin');
    await su('ALTER ROLE fix_grouplogin LOGIN');
    const text = alternating('fix_grouplogin');
    expect((await rotate(text, 'fix_grouplogin', a.reveal())).summary).toContain('ALTER ROLE fix_grouplogin NOLOGIN');
    const result = await provisionCredential(parsePolicy(text, 'rotation.yaml', env('unused')), 'fix_grouplogin', {
      runtime: testRuntime(),
      apply: true,
    });
    expect(result.converged).toBe(false);
    expect(result.remaining.join('\n')).toContain('ALTER ROLE "fix_grouplogin" NOLOGIN;');
    const c = await fx().server.client('odoo');
    expect((await c.query("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'fix_grouplogin'")).rows).toEqual([{ rolcanlogin: true }]); // not changed behind anyone's back
    await c.end();
    await su('ALTER ROLE fix_grouplogin NOLOGIN');
    expect(
      (
        await provisionCredential(parsePolicy(text, 'rotation.yaml', env('unused')), 'fix_grouplogin', {
          runtime: testRuntime(),
          apply: false,
        })
      ).script,
    ).toContain('nothing to do');
    expect((await rotate(text, 'fix_grouplogin', a.reveal())).status).toBe('rotated');
  });
});

describe('a WARNING from PostgreSQL is a failure, never "applied"', () => {
  it('a GRANT PostgreSQL ignores rolls the whole transaction back, naming the warning', async () => {
    const db = new pg.Client({ connectionString: fx().platform.adminUrl });
    await db.connect();
    try {
      // rotation_admin does not own the database odoo and holds CONNECT without GRANT OPTION.
      const plan = {
        credential: 'x',
        access: 'readonly' as const,
        database: 'odoo',
        admin: 'rotation_admin',
        unresolved: [],
        notes: [],
        elsewhere: [],
        statements: [
          { sql: 'CREATE ROLE warn_marker NOLOGIN', why: 'a change that must not stay' },
          { sql: 'GRANT CONNECT ON DATABASE odoo TO warn_marker', why: 'ignored by PostgreSQL' },
        ],
      };
      const error = await runInTransaction(db, plan).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(describeError(error)).toContain('WARNING: no privileges were granted for "odoo"');
      expect(describeError(error)).toContain('rolled back');
      expect(describeError(error)).not.toContain(decodeURIComponent(new URL(fx().platform.adminUrl).password));
      expect((await db.query("SELECT 1 FROM pg_roles WHERE rolname = 'warn_marker'")).rowCount).toBe(0);
    } finally {
      await db.end();
    }
  });

  it('with CONNECT revoked from PUBLIC, provision names the GRANT CONNECT the database owner must run; the CLI exits 1 and never says "nothing to do"', async () => {
    await su('REVOKE CONNECT ON DATABASE odoo FROM PUBLIC; GRANT CONNECT ON DATABASE odoo TO rotation_admin');
    try {
      const text = alterRole('warn_ro');
      const result = await provisionCredential(parsePolicy(text, 'rotation.yaml', env('unused')), 'warn_ro', {
        runtime: testRuntime(),
        apply: true,
      });
      expect(result.applied).toBe(true);
      expect(result.converged).toBe(false);
      expect(result.remaining.join('\n')).toContain(
        'as its owner (postgres) or a superuser: GRANT CONNECT ON DATABASE "odoo" TO "warn_ro";',
      );
      expect((await login(fx(), 'warn_ro', 'no password yet')).ok).toBe(false);

      const ws = mkdtempSync(join(tmpdir(), 'provision-warn-'));
      mkdirSync(join(ws, '.github'));
      writeFileSync(join(ws, '.github/rotation.yaml'), text);
      const again = await cli(['-C', ws, 'provision', 'warn_ro', '--apply'], env('unused'));
      expect(again.code).toBe(1);
      expect(again.stdout).not.toContain('nothing to do');
      expect(again.stdout).not.toContain('-- applied');
      expect(again.stderr).toContain('GRANT CONNECT ON DATABASE "odoo" TO "warn_ro"');
      const adminPassword = decodeURIComponent(new URL(fx().platform.adminUrl).password);
      expect(again.stdout + again.stderr).not.toContain(adminPassword);
    } finally {
      await su('GRANT CONNECT ON DATABASE odoo TO PUBLIC');
    }
  });
});

describe('role names PostgreSQL would cut to 63 bytes are refused at policy load', () => {
  const long = `r${'x'.repeat(61)}`; // 62 bytes: its logins would be 64

  it('on the server, the two 64-byte logins would be one role (proven by trying)', async () => {
    await su(`CREATE ROLE ${long}_a`);
    const second = await su(`CREATE ROLE ${long}_b`).then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    );
    expect(second).toBe('42710'); // duplicate_object: both are cut to the same 63 bytes
  });

  it('alternating-roles with a 62-byte role, or alter-role with a 64-byte one, is refused naming the key and the limit', () => {
    const refusal = (text: string) => {
      try {
        parsePolicy(text, 'rotation.yaml', env('x'));
        return 'accepted';
      } catch (error) {
        return describeError(error);
      }
    };
    const alt = refusal(alternating(long));
    expect(alt).toContain(`credentials.${long}.role:`);
    expect(alt).toContain('63 bytes');
    expect(alt).toContain('both logins would become the same role');
    expect(refusal(alterRole(`${long}yy`))).toContain('is 64 bytes');
    expect(refusal(alternating(long.slice(0, 61)))).toBe('accepted');
    expect(refusal(alterRole(`${long}y`))).toBe('accepted');
  });
});
