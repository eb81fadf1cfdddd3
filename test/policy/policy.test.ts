import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { PolicyError } from '../../src/policy/errors.js';
import { nextDue, parseCadence } from '../../src/policy/cadence.js';

const SPEC = readFileSync(new URL('../fixtures/spec-policy.yaml', import.meta.url), 'utf8');
const ENV = { ROTATION_ADMIN_URL: 'postgresql://rotation_admin:adminpw@db:25060/odoo', ODOO_DB_PASSWORD: 'old-password-value' };

function problems(text: string, env: Record<string, string> = ENV): string {
  try {
    parsePolicy(text, 'rotation.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as Error).message;
  }
  throw new Error('expected the policy to be refused');
}

describe('the policy file', () => {
  it('accepts SPEC 2.1 exactly as written, with variables interpolated and defaults applied', () => {
    const policy = parsePolicy(SPEC, 'rotation.yaml', ENV);
    const cred = policy.credentials.odoo_app;
    expect(policy.evidenceDir).toBe('docs/evidence');
    expect(cred.role).toBe('odoo_app');
    expect(cred.current?.reveal()).toBe('old-password-value');
    expect(cred.store.map((s) => s.kind)).toEqual(['github', 'github', 'file']);
    expect(cred.store[1].options).toMatchObject({ repository: 'acme/ops', environment: 'production', secret: 'ODOO_DB_PASSWORD' });
    expect(cred.consumers[0]).toMatchObject({ kind: 'github-workflow', options: { workflow: 'deploy-odoo.yml', ref: 'main' } });
    expect(cred.health[0].options).toMatchObject({ url: 'https://erp.example.com/web/health', expect_status: 200 });
    const sys = policy.systems['odoo-sor'];
    expect('adminUrl' in sys && sys.adminUrl.reveal()).toBe(ENV.ROTATION_ADMIN_URL);
  });

  it('reads the intent keys that provision and audit use (SPEC 2.1)', () => {
    const text = SPEC.replace(
      '    admin_url: ${ROTATION_ADMIN_URL}',
      '    admin_url: ${ROTATION_ADMIN_URL}\n    exposed_schemas: [public, api]',
    ).replace(
      '    cadence: quarterly',
      '    cadence: quarterly\n    access: readwrite\n    break_glass: false\n    schemas: [public, reporting]',
    );
    const policy = parsePolicy(text, 'rotation.yaml', ENV);
    const sys = policy.systems['odoo-sor'];
    expect('exposedSchemas' in sys && sys.exposedSchemas).toEqual(['public', 'api']);
    expect(policy.credentials.odoo_app).toMatchObject({ access: 'readwrite', breakGlass: false, schemas: ['public', 'reporting'] });
    // Defaults: no intent stated, the public schema, not break-glass.
    const plain = parsePolicy(SPEC, 'rotation.yaml', ENV).credentials.odoo_app;
    expect(plain).toMatchObject({ access: undefined, breakGlass: false, schemas: ['public'] });
    expect(problems(SPEC.replace('    cadence: quarterly', '    cadence: quarterly\n    access: admin'))).toContain(
      'credentials.odoo_app.access: expected readwrite | readonly',
    );
  });

  it('keeps secrets out of a JSON dump of the parsed policy', () => {
    const dump = JSON.stringify(parsePolicy(SPEC, 'rotation.yaml', ENV));
    expect(dump).not.toContain('old-password-value');
    expect(dump).not.toContain('adminpw');
  });

  it('names a missing variable and where it is used, and every missing one at once', () => {
    const message = problems(SPEC, {});
    expect(message).toContain('rotation.yaml');
    expect(message).toContain('systems.odoo-sor.admin_url: environment variable ROTATION_ADMIN_URL is not set');
    expect(message).toContain('credentials.odoo_app.current: environment variable ODOO_DB_PASSWORD is not set');
  });

  it('names the file, key path and what was expected for a bad cadence', () => {
    expect(problems(SPEC.replace('cadence: quarterly', 'cadence: weekly'))).toContain(
      'rotation.yaml: credentials.odoo_app.cadence: expected monthly | quarterly | annually | <N>d, got "weekly"',
    );
  });

  it('refuses unknown keys, wrong types and unknown systems', () => {
    expect(problems(SPEC.replace('role: odoo_app', 'rol: odoo_app'))).toContain('credentials.odoo_app.rol: unknown key');
    expect(problems(SPEC.replace('expect_status: 200', 'expect_status: "ok"'))).toContain(
      'credentials.odoo_app.health[0].http.expect_status: expected a integer',
    );
    expect(problems(SPEC.replace('system: odoo-sor', 'system: odoo-db'))).toContain(
      "credentials.odoo_app.system: expected one of the systems (odoo-sor), got 'odoo-db'",
    );
  });

  it('refuses duplicate store targets and secret names GitHub refuses', () => {
    const dup = SPEC.replace(
      '      - file: { path: .secrets/odoo.env',
      '      - github: { repository: ACME/ops, secret: odoo_db_password }\n      - file: { path: .secrets/odoo.env',
    );
    expect(problems(dup)).toContain(
      'credentials.odoo_app.store[2].github: duplicate store target (same as credentials.odoo_app.store[0].github)',
    );
    expect(problems(SPEC.replace('secret: ODOO_DB_PASSWORD }', 'secret: GITHUB_PASSWORD }'))).toContain(
      'credentials.odoo_app.store[0].github.secret: expected a GitHub secret name',
    );
    expect(problems(SPEC.replace('secret: ODOO_DB_PASSWORD }', 'secret: 9LIVES }'))).toContain('store[0].github.secret');
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('version: 1\nsystems: {\n')).toMatch(/rotation\.yaml: line \d+, column \d+/);
  });

  it('never quotes a credential written into the file by mistake', () => {
    const message = problems(SPEC.replace('admin_url: ${ROTATION_ADMIN_URL}', 'admin_url: "mysql://root:hunter2secret@db/x"'));
    expect(message).toContain('systems.odoo-sor.admin_url: expected a postgresql:// connection URL');
    expect(message).not.toContain('hunter2secret');
  });
});

describe('cadences', () => {
  it('counts calendar months and days', () => {
    const last = new Date('2026-01-31T03:00:00Z');
    expect(nextDue(last, parseCadence('monthly')).toISOString()).toBe('2026-02-28T03:00:00.000Z');
    expect(nextDue(last, parseCadence('quarterly')).toISOString()).toBe('2026-04-30T03:00:00.000Z');
    expect(nextDue(last, parseCadence('annually')).toISOString()).toBe('2027-01-31T03:00:00.000Z');
    expect(nextDue(last, parseCadence('45d')).toISOString()).toBe('2026-03-17T03:00:00.000Z');
    expect(() => parseCadence('0d')).toThrow(/expected monthly/);
  });
});
