// What every bench section runs against: a GitHub stand-in on loopback and the bench's policy.
import { http, delay } from 'msw';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalPostgres } from '../src/demo/local-postgres.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { MemoryReporter } from '../src/report/reporter.js';
import { createGitHubClient } from '../src/github/client.js';
import { Secret } from '../src/secret/secret.js';
import { createGitHubModel } from '../test/models/github.js';
import { serveHandlers } from '../test/models/serve.js';

export const TOKEN = 'ghs_bench_token_0000000000000000';

/** A GitHub stand-in on loopback, optionally answering each request after `latencyMs`. */
export async function githubStandIn(latencyMs = 0, repos = ['acme/ops']) {
  const model = createGitHubModel({ token: TOKEN, repos: repos.map((full_name) => ({ full_name, environments: ['production'] })) });
  const slow = http.all('*', async () => {
    if (latencyMs) await delay(latencyMs);
  });
  const api = await serveHandlers([slow, ...model.handlers], { rewriteTo: model.baseUrl });
  return { model, api };
}

export function runtimeFor(apiUrl: string, workspace = mkdtempSync(join(tmpdir(), 'bench-'))): Runtime {
  return {
    env: {},
    reporter: new MemoryReporter(),
    workspace,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    fetch: globalThis.fetch,
    github: async (t, run) => createGitHubClient(t, apiUrl, run),
    githubToken: new Secret(TOKEN),
  };
}

export function policyText(pg: LocalPostgres, roles: string[], targetsPerCredential: number, repos = ['acme/ops']): string {
  const creds = roles.map((role) => {
    const targets = Array.from({ length: targetsPerCredential }, (_, i) => {
      const repo = repos[i % repos.length];
      return i % 2 === 0
        ? `      - github: { repository: ${repo}, secret: ${role.toUpperCase()}_${i} }`
        : `      - github: { repository: ${repo}, environment: production, secret: ${role.toUpperCase()}_${i} }`;
    });
    return `  ${role}:
    system: sor
    method: alter-role
    cadence: quarterly
    current: \${CURRENT_${role}}
    store:
      - file: { path: .secrets/${role}.env, key: PASSWORD }
${targets.join('\n')}
    health:
      - postgres-login: { url: "postgresql://${role}:{password}@127.0.0.1:${pg.port}/odoo" }`;
  });
  return `version: 1\nsystems:\n  sor: { type: postgres, admin_url: "\${ADMIN_URL}" }\ncredentials:\n${creds.join('\n')}\n`;
}
