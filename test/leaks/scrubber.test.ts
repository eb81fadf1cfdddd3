// The scrubber every sink shares (src/secret/scrubber.ts) and the policy secrets every run masks
// (src/secret/policy-secrets.ts), table by table.
import { describe, expect, it } from 'vitest';
import { Scrubber } from '../../src/secret/scrubber.js';
import { Secret } from '../../src/secret/secret.js';
import { parsePolicy } from '../../src/registry/load-policy.js';

describe('Scrubber', () => {
  const known = 'Kn0wn-s3cret.value~x';
  const scrubber = new Scrubber();
  scrubber.add(new Secret(known));

  it.each([
    ['a known value', `login failed with ${known}`, 'login failed with ***'],
    ['its URL-encoded form', `postgresql://u:${encodeURIComponent('a b/c@d' + known)}@h`, 'postgresql://u:***@h'],
    ['a password in URL userinfo', 'could not reach postgresql://odoo_app:hunter2hunter2@db:25060/odoo', 'could not reach postgresql://odoo_app:***@db:25060/odoo'],
    ['a lone user in userinfo (a token)', 'GET https://ghp_abc123abc123@github.com/x', 'GET https://***@github.com/x'],
    ['every query value, punctuation kept', 'https://erp.test/web/health?token=abc123&db=odoo: HTTP 500 (see https://x.test/?a=1).', 'https://erp.test/web/health?token=***&db=***: HTTP 500 (see https://x.test/?a=***).'],
    [
      'of a Postgres URL only the password, sslpassword and unknown parameters (issue 16 §4)',
      'cannot connect: postgresql://odoo_app:hunter2hunter2@db:25060/odoo?sslmode=verify-full&sslrootcert=/etc/ssl/do-ca.crt&sslpassword=keypass1&token=abc123.',
      'cannot connect: postgresql://odoo_app:***@db:25060/odoo?sslmode=verify-full&sslrootcert=/etc/ssl/do-ca.crt&sslpassword=***&token=***.',
    ],
    ['a login name in a Postgres URL (not a token)', 'postgresql+psycopg2://superset_ro_b@db:25060/odoo?sslmode=require', 'postgresql+psycopg2://superset_ro_b@db:25060/odoo?sslmode=require'],
    ['a bearer header', 'sent authorization: Bearer sbp_0123456789abcdef0123', 'sent authorization: Bearer ***'],
    ['a GitHub token header', '"authorization":"token ghs_abcdefghijklmnopqrstuvwxyz0123"', '"authorization":"***"'],
    ['secret-named JSON fields', '{"name":"X","password":"p@ss\\"w0rd","encrypted_value":"AbC=="}', '{"name":"X","password":"***","encrypted_value":"***"}'],
    ['JSON escaped inside JSON', '{\\"api_key\\":\\"n8n_api_123\\"}', '{\\"api_key\\":\\"***\\"}'],
    ['tokens by their published prefix', 'keys dop_v1_0123456789abcdef0123456789 and sb_secret_AbCdEf012345', 'keys *** and ***'],
  ])('removes %s', (_what, text, expected) => {
    expect(scrubber.scrub(text)).toBe(expected);
  });

  it('cleans every string of a record, keeps its shape and leaves instances alone', () => {
    const at = new Date('2026-03-01T03:00:00Z');
    const record = { summary: `failed: ${known}`, steps: [{ detail: 'GET https://x.test/h?token=abc' }], n: 3, at, secret: new Secret(known) };
    const clean = scrubber.scrubDeep(record);
    expect(clean).toEqual({ summary: 'failed: ***', steps: [{ detail: 'GET https://x.test/h?token=***' }], n: 3, at, secret: record.secret });
    expect(clean.at).toBe(at);
    expect(record.summary).toContain(known);
  });

  it.each([
    'Preflight: check before change',
    'HTTP 403 (Resource not accessible by integration). Basic authentication is not enough',
    'https://github.com/acme/ops/actions/runs/4242',
    'written to docs/evidence/20260301-0300/db-rotation/odoo_app.json',
  ])('keeps ordinary text: %s', (text) => {
    expect(scrubber.scrub(text)).toBe(text);
  });
});

describe('the values a policy brings into secret-bearing places are masked by every run', () => {
  /** One alter-role credential on a postgres system reached through `adminUrl`. */
  const head = (adminUrl: string) => `version: 1
systems:
  db: { type: postgres, admin_url: "${adminUrl}" }
credentials:
  app:
    system: db
    method: alter-role
    cadence: quarterly
    current: "\${APP_PASSWORD}"
`;
  const text = `${head('${ADMIN_URL}')}    store:
      - github: { repository: "\${REPO}", secret: "\${SECRET_NAME}" }
    consumers:
      - http: { url: "https://hooks.test/\${HOOK_PATH}", secret: "\${HOOK_KEY}" }
      - n8n-credential: { url: "https://n8n.test", api_key: "\${N8N_KEY}", credential_id: "\${N8N_ID}", data: { serviceRole: "{password}", other: "\${N8N_OTHER}" } }
    health:
      - http: { url: "https://erp.test/health?token=\${HEALTH_TOKEN}" }
      - http: { url: "https://\${PROBE_USER}:\${PROBE_PASSWORD}@erp.test/health" }
`;
  const env = {
    ADMIN_URL: 'postgresql://admin:pw@db/postgres', APP_PASSWORD: 'app-password', REPO: 'acme/ops', SECRET_NAME: 'APP_PASSWORD_NAME',
    HOOK_PATH: 'rotated', HOOK_KEY: 'hook-key', N8N_KEY: 'n8n-key', N8N_ID: 'cred1', N8N_OTHER: 'n8n-other', HEALTH_TOKEN: 'health-token',
    PROBE_USER: 'probe-user', PROBE_PASSWORD: 'probe-password',
  };

  it('in a Postgres URL only the password and the secret or unknown parameters, under admin_url too (issue 16 §4)', () => {
    const pgText = `${head('postgresql://${ADMIN_USER}:${ADMIN_PASSWORD}@${DB_HOST}:25060/odoo?sslmode=${DB_SSLMODE}&sslpassword=${KEY_PASSWORD}&x=${OTHER}')}    store:
      - file: { path: .secrets/a.env, key: A, format: "postgresql://\${APP_LOGIN}:{password}@\${DB_HOST}:25060/odoo?sslmode=\${DB_SSLMODE}" }
      - file: { path: .secrets/a.env, key: B, format: "{password} postgresql://\${LONE_USER}@\${DB_HOST}:25060/odoo" }
`;
    const pgEnv = {
      ADMIN_USER: 'rotation_admin', ADMIN_PASSWORD: 'admin-pw-1234', DB_HOST: 'db.example.com', DB_SSLMODE: 'verify-full', KEY_PASSWORD: 'key-pw-5678',
      OTHER: 'other-9012', APP_PASSWORD: 'app-password', APP_LOGIN: 'app_login', LONE_USER: 'lone-user',
    };
    const masked = (parsePolicy(pgText, 'rotation.yaml', pgEnv).secrets ?? []).map((s) => s.reveal()).sort();
    // A lone user part (no ':' written after it) may hold user:password, so it stays masked.
    expect(masked).toEqual([pgEnv.ADMIN_PASSWORD, pgEnv.APP_PASSWORD, pgEnv.KEY_PASSWORD, pgEnv.LONE_USER, pgEnv.OTHER].sort());
  });

  it('collects tokens, keys, passwords, map values and URL credentials; not names, ids or paths', () => {
    const policy = parsePolicy(text, 'rotation.yaml', env);
    const masked = (policy.secrets ?? []).map((s) => s.reveal()).sort();
    expect(masked).toEqual([env.ADMIN_URL, env.APP_PASSWORD, env.HEALTH_TOKEN, env.HOOK_KEY, env.N8N_KEY, env.N8N_OTHER, env.PROBE_PASSWORD, env.PROBE_USER].sort());
  });
});
