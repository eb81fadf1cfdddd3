import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterContext } from '../../src/adapters/context.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import { liveRuntime } from '../../src/engine/live-runtime.js';
import type { CredentialPolicy, Policy, SystemPolicy, TargetSpec } from '../../src/policy/types.js';
import { MemoryReporter } from '../../src/report/reporter.js';
import { Secret } from '../../src/secret/secret.js';
import { createGitHubClient } from '../../src/github/client.js';

export const GITHUB_BASE_URL = 'https://api.github.com';
export const GITHUB_TEST_TOKEN = 'ghs_test_installation_token_0123456789';

export interface TestRuntime extends Runtime {
  reporter: MemoryReporter;
  /** Every wait the code under test asked for, in ms (the fake sleep returns at once). */
  sleeps: number[];
  /** Moves the fake clock forward. */
  advance(ms: number): void;
}

/**
 * The live Runtime (src/engine/live-runtime.ts) with a test's collaborators: in-memory reporter,
 * a fake clock that `sleep` advances (so timeouts are reached without waiting), a fresh temporary workspace, the global fetch (msw intercepts it)
 * and Octokit clients pointed at GITHUB_BASE_URL. Any field can be overridden.
 */
export function testRuntime(overrides: Partial<Runtime> & { startAt?: Date } = {}): TestRuntime {
  const { startAt, ...rest } = overrides;
  let clock = (startAt ?? new Date('2026-03-01T03:00:00Z')).getTime();
  const sleeps: number[] = [];
  const runtime = liveRuntime({
    env: {},
    reporter: new MemoryReporter(),
    workspace: mkdtempSync(join(tmpdir(), 'rotation-test-')),
    now: () => new Date(clock),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      clock += ms;
    },
    fetch: (input, init) => globalThis.fetch(input, init),
    github: async (token: Secret, run) => createGitHubClient(token, GITHUB_BASE_URL, run),
    githubToken: new Secret(GITHUB_TEST_TOKEN),
    ...rest,
  });
  return Object.assign(runtime, {
    reporter: runtime.reporter as MemoryReporter,
    sleeps,
    advance: (ms: number) => {
      clock += ms;
    },
  });
}

/** An AdapterContext around a minimal one-credential policy, for building adapters directly. */
export function testContext(runtime: Runtime, credential: Partial<CredentialPolicy> = {}): AdapterContext {
  const system: SystemPolicy = {
    id: 'odoo-sor',
    type: 'postgres',
    adminUrl: new Secret('postgresql://admin:admin@127.0.0.1:5432/postgres'),
    exposedSchemas: [],
  };
  const cred: CredentialPolicy = {
    id: 'odoo_app',
    system: system.id,
    method: 'alter-role',
    role: 'odoo_app',
    cadence: 'quarterly',
    breakGlass: false,
    schemas: ['public'],
    store: [],
    consumers: [],
    health: [],
    settings: {},
    ...credential,
  };
  const policy: Policy = {
    file: '.github/rotation.yaml',
    version: 1,
    evidenceDir: 'docs/evidence',
    systems: { [system.id]: system },
    credentials: { [cred.id]: cred },
  };
  return { policy, credential: cred, system, runtime };
}

/** A `- kind: {...}` policy entry, with the path messages name it by. */
export function targetSpec(kind: string, options: Record<string, unknown>, path = `credentials.odoo_app.store[0].${kind}`): TargetSpec {
  return { kind, options, path };
}
