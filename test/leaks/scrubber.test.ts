// The scrubber every sink shares (src/secret/scrubber.ts) and the policy secrets every run masks
// (src/secret/policy-secrets.ts), table by table.
import { describe, expect, it } from 'vitest';
import { Scrubber, shorten } from '../../src/secret/scrubber.js';
import { generatePassword } from '../../src/secret/generate.js';
import { Secret } from '../../src/secret/secret.js';
import { parsePolicy } from '../../src/registry/load-policy.js';

describe('Scrubber', () => {
  const known = 'Kn0wn-s3cret.value~x';
  const scrubber = new Scrubber();
  scrubber.add(new Secret(known));

  it.each([
    ['a known value', `login failed with ${known}`, 'login failed with ***'],
    ['its URL-encoded form', `postgresql://u:${encodeURIComponent('a b/c@d' + known)}@h`, 'postgresql://u:***@h'],
    [
      'a password in URL userinfo',
      'could not reach postgresql://odoo_app:hunter2hunter2@db:25060/odoo',
      'could not reach postgresql://odoo_app:***@db:25060/odoo',
    ],
    ['a lone user in userinfo (a token)', 'GET https://ghp_abc123abc123@github.com/x', 'GET https://***@github.com/x'],
    [
      'every query value, punctuation kept',
      'https://erp.test/web/health?token=abc123&db=odoo: HTTP 500 (see https://x.test/?a=1).',
      'https://erp.test/web/health?token=***&db=***: HTTP 500 (see https://x.test/?a=***).',
    ],
    [
      'of a Postgres URL only the password, sslpassword and unknown parameters (issue 16 §4)',
      'cannot connect: postgresql://odoo_app:hunter2hunter2@db:25060/odoo?sslmode=verify-full&sslrootcert=/etc/ssl/do-ca.crt&sslpassword=keypass1&token=abc123.',
      'cannot connect: postgresql://odoo_app:***@db:25060/odoo?sslmode=verify-full&sslrootcert=/etc/ssl/do-ca.crt&sslpassword=***&token=***.',
    ],
    [
      'a login name in a Postgres URL (not a token)',
      'postgresql+psycopg2://superset_ro_b@db:25060/odoo?sslmode=require',
      'postgresql+psycopg2://superset_ro_b@db:25060/odoo?sslmode=require',
    ],
    ['a bearer header', 'sent authorization: Bearer sbp_0123456789abcdef0123', 'sent authorization: Bearer ***'],
    ['a GitHub token header', '"authorization":"token ghs_abcdefghijklmnopqrstuvwxyz0123"', '"authorization":"***"'],
    [
      'secret-named JSON fields',
      '{"name":"X","password":"p@ss\\"w0rd","encrypted_value":"AbC=="}',
      '{"name":"X","password":"***","encrypted_value":"***"}',
    ],
    ['JSON escaped inside JSON', '{\\"api_key\\":\\"n8n_api_123\\"}', '{\\"api_key\\":\\"***\\"}'],
    ['tokens by their published prefix', 'keys dop_v1_0123456789abcdef0123456789 and sb_secret_AbCdEf012345', 'keys *** and ***'],
  ])('removes %s', (_what, text, expected) => {
    expect(scrubber.scrub(text)).toBe(expected);
  });

  it('cleans every string of a record, keeps its shape and leaves instances alone', () => {
    const at = new Date('2026-03-01T03:00:00Z');
    const record = {
      summary: `failed: ${known}`,
      steps: [{ detail: 'GET https://x.test/h?token=abc' }],
      n: 3,
      at,
      secret: new Secret(known),
    };
    const clean = scrubber.scrubDeep(record);
    expect(clean).toEqual({
      summary: 'failed: ***',
      steps: [{ detail: 'GET https://x.test/h?token=***' }],
      n: 3,
      at,
      secret: record.secret,
    });
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

describe('the scrubber removes a value in the encodings servers use (issue 16 §5)', () => {
  const password = generatePassword().reveal();
  const scrubber = new Scrubber();
  scrubber.add(new Secret(password));
  const bytes = Buffer.from(password);
  /** Every base64 or hex run left in `text`, decoded: none may hold the password. */
  const decodedRuns = (text: string) => [
    ...[...text.matchAll(/[A-Za-z0-9+/_-]{4,}={0,2}/g)].map(([run]) =>
      Buffer.from(run, run.includes('-') || run.includes('_') ? 'base64url' : 'base64').toString('latin1'),
    ),
    ...[...text.matchAll(/[0-9a-fA-F]{8,}/g)].map(([run]) => Buffer.from(run.length % 2 ? run.slice(1) : run, 'hex').toString('latin1')),
  ];

  it.each([
    ['base64', bytes.toString('base64')],
    ['base64 without padding', bytes.toString('base64').replace(/=+$/, '')],
    ['URL-safe base64', bytes.toString('base64url')],
    ['URL-safe base64 with padding', bytes.toString('base64url') + '='.repeat((4 - (bytes.toString('base64url').length % 4)) % 4)],
    ['hex', bytes.toString('hex')],
    ['HEX', bytes.toString('hex').toUpperCase()],
    ...['', 'u', 'ab', 'app', 'odoo', 'odoo_app_b'].map((user) => [
      `Basic base64 of ${user || '(no user)'}:password`,
      Buffer.from(`${user}:${password}`).toString('base64'),
    ]),
    ['hex inside longer hex', Buffer.from(`user:${password}`).toString('hex')],
  ])('%s, quoted in an error page', (_what, encoded) => {
    for (const text of [`refused credentials ${encoded} (see logs)`, `{"echo":"${encoded}"}`, `<pre>${encoded}</pre>`]) {
      const clean = scrubber.scrub(text);
      expect(clean).not.toContain(encoded);
      expect(clean).toContain('***');
      for (const decoded of decodedRuns(clean)) expect(decoded).not.toContain(password.slice(0, 8));
      expect(scrubber.holdsSecret(text)).toBe(true);
    }
  });

  it('keeps base64 and hex that do not encode a value', () => {
    const other = `sha ${Buffer.from('some other data entirely').toString('base64')} and ${Buffer.from('other bytes').toString('hex')}`;
    expect(scrubber.scrub(other)).toBe(other);
  });

  it('shorten scrubs the whole text first, then cuts', () => {
    const text = `${'x'.repeat(170)} invalid password ${password}`;
    const cut = shorten(text, 200, (t) => scrubber.scrub(t));
    expect(cut).toBe(`${'x'.repeat(170)} invalid password ***`);
    // The other order leaves the start of the password, which no scrubber recognises any more.
    expect(scrubber.scrub(text.slice(0, 200))).toContain(password.slice(0, 12));
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
    ADMIN_URL: 'postgresql://admin:pw@db/postgres',
    APP_PASSWORD: 'app-password',
    REPO: 'acme/ops',
    SECRET_NAME: 'APP_PASSWORD_NAME',
    HOOK_PATH: 'rotated',
    HOOK_KEY: 'hook-key',
    N8N_KEY: 'n8n-key',
    N8N_ID: 'cred1',
    N8N_OTHER: 'n8n-other',
    HEALTH_TOKEN: 'health-token',
    PROBE_USER: 'probe-user',
    PROBE_PASSWORD: 'probe-password',
  };

  it('in a Postgres URL only the password and the secret or unknown parameters, under admin_url too (issue 16 §4); a query value of a URL whose base is a variable', () => {
    const pgText = `${head('postgresql://${ADMIN_USER}:${ADMIN_PASSWORD}@${DB_HOST}:25060/odoo?sslmode=${DB_SSLMODE}&sslpassword=${KEY_PASSWORD}&x=${OTHER}')}    store:
      - file: { path: .secrets/a.env, key: A, format: "postgresql://\${APP_LOGIN}:{password}@\${DB_HOST}:25060/odoo?sslmode=\${DB_SSLMODE}" }
      - file: { path: .secrets/a.env, key: B, format: "{password} postgresql://\${LONE_USER}@\${DB_HOST}:25060/odoo" }
    health:
      - http: { url: "\${ODOO_URL}/web/health?token=\${QUERY_TOKEN}" }
`;
    const pgEnv = {
      ADMIN_USER: 'rotation_admin',
      ADMIN_PASSWORD: 'admin-pw-1234',
      DB_HOST: 'db.example.com',
      DB_SSLMODE: 'verify-full',
      KEY_PASSWORD: 'key-pw-5678',
      OTHER: 'other-9012',
      APP_PASSWORD: 'app-password',
      APP_LOGIN: 'app_login',
      LONE_USER: 'lone-user',
      ODOO_URL: 'https://erp.test',
      QUERY_TOKEN: 'query-token-3456',
    };
    const masked = (parsePolicy(pgText, 'rotation.yaml', pgEnv).secrets ?? []).map((s) => s.reveal()).sort();
    // A lone user part (no ':' written after it) may hold user:password, so it stays masked.
    expect(masked).toEqual(
      [pgEnv.ADMIN_PASSWORD, pgEnv.APP_PASSWORD, pgEnv.KEY_PASSWORD, pgEnv.LONE_USER, pgEnv.OTHER, pgEnv.QUERY_TOKEN].sort(),
    );
  });

  it('collects tokens, keys, passwords, map values and URL credentials; not names, ids or paths', () => {
    const policy = parsePolicy(text, 'rotation.yaml', env);
    const masked = (policy.secrets ?? []).map((s) => s.reveal()).sort();
    expect(masked).toEqual(
      [
        env.ADMIN_URL,
        env.APP_PASSWORD,
        env.HEALTH_TOKEN,
        env.HOOK_KEY,
        env.N8N_KEY,
        env.N8N_OTHER,
        env.PROBE_PASSWORD,
        env.PROBE_USER,
      ].sort(),
    );
  });
});
