// The bench's baseline: the least code that does what one alter-role rotation of the bench's
// policy does, with the same libraries (yaml, pg, @octokit/rest, libsodium-wrappers) and nothing
// else: read the policy, check, generate, stage ALTER ROLE, write the stores, commit, verify, probe,
// prove the old password refused, write the evidence. `npm run bench` runs it beside
// dist/index.js, in the same environment (the runner's variables), and prints the ratio.
// No retries, no messages for people, no locks, no schema: the floor, not a product.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import pg from 'pg';
import { Octokit } from '@octokit/rest';
import sodium from 'libsodium-wrappers';

const env = process.env;
const workspace = env.GITHUB_WORKSPACE;
const id = env.INPUT_CREDENTIAL;
const fill = (text) => text.replace(/\$\{(\w+)\}/g, (_, name) => env[name]);
const policy = parse(readFileSync(join(workspace, '.github/rotation.yaml'), 'utf8'));
const credential = policy.credentials[id];
const adminUrl = fill(policy.systems[credential.system].admin_url);
const role = credential.role ?? id;
const current = fill(credential.current);
const url = new URL(adminUrl);
const as = (password) => ({ host: url.hostname, port: Number(url.port), database: url.pathname.slice(1), user: role, password });
const login = async (config) => {
  const c = new pg.Client(config);
  try {
    await c.connect();
    await c.query('SELECT 1');
    return 'ok';
  } catch (error) {
    return error.code;
  } finally {
    await c.end().catch(() => undefined);
  }
};
const github = new Octokit({ auth: env['INPUT_GITHUB-TOKEN'], baseUrl: env.GITHUB_API_URL });
const [owner, repo] = (env.GITHUB_REPOSITORY ?? 'acme/ops').split('/');
const targets = credential.store.map((entry) => Object.entries(entry)[0]);
const keyOf = ([, o]) =>
  o.environment
    ? github.rest.actions.getEnvironmentPublicKey({
        owner: o.repository.split('/')[0],
        repo: o.repository.split('/')[1],
        environment_name: o.environment,
      })
    : github.rest.actions.getRepoPublicKey({ owner: o.repository.split('/')[0], repo: o.repository.split('/')[1] });

// Preflight: the current password logs in, the admin connects, every GitHub scope's key is readable.
if ((await login(as(current))) !== 'ok') throw new Error('current password does not log in');
const admin = new pg.Client(adminUrl);
await admin.connect();
const keys = await Promise.all(targets.map((t) => (t[0] === 'github' ? keyOf(t).then((r) => r.data) : undefined)));
console.log('preflight ok');

// Generate, and stage the change (a SCRAM verifier, in an open transaction).
const password = randomBytes(24).toString('base64url');
const salt = randomBytes(16);
const salted = pbkdf2Sync(password, salt, 4096, 32, 'sha256');
const stored = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
const server = createHmac('sha256', salted).update('Server Key').digest();
const verifier = `SCRAM-SHA-256$4096:${salt.toString('base64')}$${stored.toString('base64')}:${server.toString('base64')}`;
await admin.query('BEGIN');
await admin.query(`ALTER ROLE ${admin.escapeIdentifier(role)} PASSWORD ${admin.escapeLiteral(verifier)}`);
console.log('generated and staged');

// Store: each target, in policy order.
await sodium.ready;
for (const [i, [kind, o]] of targets.entries()) {
  if (kind === 'file') {
    const path = join(workspace, o.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${o.key}=${password}\n`, { mode: 0o600 });
    continue;
  }
  const sealed = sodium.to_base64(
    sodium.crypto_box_seal(sodium.from_string(password), sodium.from_base64(keys[i].key, sodium.base64_variants.ORIGINAL)),
    sodium.base64_variants.ORIGINAL,
  );
  const [o2, r2] = o.repository.split('/');
  const body = { owner: o2, repo: r2, secret_name: o.secret, encrypted_value: sealed, key_id: keys[i].key_id };
  if (o.environment) await github.rest.actions.createOrUpdateEnvironmentSecret({ ...body, environment_name: o.environment });
  else await github.rest.actions.createOrUpdateRepoSecret(body);
}
console.log('stored');

// Apply, verify, health, revoke.
await admin.query('COMMIT');
await admin.end();
if ((await login(as(password))) !== 'ok') throw new Error('new password does not log in');
for (const probe of credential.health ?? []) {
  const [kind, o] = Object.entries(probe)[0];
  if (kind === 'http') {
    const response = await fetch(o.url);
    await response.text();
    if (response.status !== (o.expect_status ?? 200)) throw new Error('health');
    continue;
  }
  const u = new URL(o.url.replace('{password}', encodeURIComponent(password)));
  if (
    (await login({
      host: u.hostname,
      port: Number(u.port),
      database: u.pathname.slice(1),
      user: decodeURIComponent(u.username),
      password,
    })) !== 'ok'
  )
    throw new Error('health');
}
const refused = await login(as(current));
if (refused !== '28P01') throw new Error('old password not refused');
console.log('applied, verified, healthy, old refused');

// Evidence.
const stamp = new Date().toISOString();
const dir = join(workspace, policy.evidence_dir ?? 'docs/evidence', stamp.slice(0, 16).replace(/[-:T]/g, ''), 'db-rotation');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, `${id}.json`),
  JSON.stringify({ credential: id, status: 'rotated', finished_at: stamp, old_refused: refused }, null, 2),
);
writeFileSync(join(dir, `${id}.md`), `# ${id} rotated at ${stamp}\n`);
console.log(`rotated ${owner}/${repo} ${id}`);
