import type { Octokit } from '@octokit/rest';
import type { AdapterFactory } from '../adapters/context.js';
import type { Runtime } from '../runtime/runtime.js';
import { RotationError } from '../errors/errors.js';
import { githubCall } from '../github/errors.js';
import { statusOf, type StatusHints } from '../http/http-error.js';
import { sealSecret, type PublicKey } from '../github/seal.js';
import type { Secret } from '../secret/secret.js';
import { optionsOf, type Options } from '../adapters/options.js';
import type { Store } from './store.js';

type Scope =
  | { kind: 'repository'; owner: string; repo: string }
  | { kind: 'environment'; owner: string; repo: string; environment: string }
  | { kind: 'organization'; org: string; visibility: 'all' | 'private' | 'selected'; selected: string[] };

const TOKEN_HINT =
  'pass a GitHub App installation token (actions/create-github-app-token) or a fine-grained PAT with "Secrets: write" as github-token; the workflow GITHUB_TOKEN cannot write secrets';
/** GitHub's limit for one secret value. */
const MAX_VALUE_BYTES = 48 * 1024;

/**
 * Per-run memo of public keys and repository ids, keyed on the Runtime: several targets in the
 * same scope share one read (one public-key read per secret scope per run), and nothing outlives
 * the run. A failed read is forgotten so a later call may try again.
 */
const memos = new WeakMap<Runtime, Map<string, Promise<unknown>>>();

function memo<T>(runtime: Runtime, key: string, load: () => Promise<T>): Promise<T> {
  let cache = memos.get(runtime);
  if (!cache) memos.set(runtime, (cache = new Map()));
  const hit = cache.get(key) as Promise<T> | undefined;
  if (hit) return hit;
  const promise = load();
  cache.set(key, promise);
  promise.catch(() => cache.delete(key));
  return promise;
}

/** A GitHub Actions secret: repository, environment or organization. */
export const githubStore: AdapterFactory<Store> = (spec, ctx) => {
  const { runtime } = ctx;
  const options = optionsOf(spec, runtime);
  const name = options.string('secret').toUpperCase();
  const scope = parseScope(options);
  const where = describeScope(scope);
  const scopeKey = scopeKeyOf(scope);

  const label =
    scope.kind === 'organization'
      ? `github org ${scope.org} ${name}`
      : scope.kind === 'environment'
        ? `github ${scope.owner}/${scope.repo} environment ${scope.environment} ${name}`
        : `github ${scope.owner}/${scope.repo} ${name}`;

  let octokit: Promise<Octokit> | undefined;
  const client = (): Promise<Octokit> => {
    if (!runtime.githubToken) {
      throw new RotationError(`${spec.path}: no GitHub token to write ${label}`, { hint: TOKEN_HINT, code: 'NO_GITHUB_TOKEN' });
    }
    return (octokit ??= runtime.github(runtime.githubToken, runtime));
  };
  const hints = permissionHints(scope, where);

  const publicKey = (): Promise<PublicKey> =>
    memo(runtime, `key ${scopeKey}`, async () => {
      const gh = await client();
      const what = `GitHub: read the Actions secrets public key of ${where}`;
      const response = await githubCall(
        runtime,
        what,
        () =>
          scope.kind === 'organization'
            ? gh.rest.actions.getOrgPublicKey({ org: scope.org })
            : scope.kind === 'environment'
              ? gh.rest.actions.getEnvironmentPublicKey({
                  owner: scope.owner,
                  repo: scope.repo,
                  environment_name: scope.environment,
                })
              : gh.rest.actions.getRepoPublicKey({ owner: scope.owner, repo: scope.repo }),
        hints,
      );
      const { key_id, key } = response.data;
      if (typeof key_id !== 'string' || typeof key !== 'string') throw new RotationError(`${what}: the response has no key_id/key`);
      return { key_id, key };
    });

  /** Ids of the repositories a 'selected' organization secret is visible to (names in the policy). */
  const selectedIds = (): Promise<number[] | undefined> => {
    if (scope.kind !== 'organization' || scope.visibility !== 'selected') return Promise.resolve(undefined);
    return Promise.all(
      scope.selected.map((repo) =>
        memo(runtime, `repo-id ${scope.org}/${repo}`, async () => {
          const gh = await client();
          const response = await githubCall(
            runtime,
            `GitHub: look up repository ${scope.org}/${repo} (selected_repositories of ${label})`,
            () => gh.rest.repos.get({ owner: scope.org, repo }),
            {
              404: `repository '${repo}' named in ${spec.path}.selected_repositories does not exist in organization ${scope.org}, or the token cannot see it`,
              401: hints[401],
            },
          );
          return response.data.id;
        }),
      ),
    );
  };

  return {
    label,

    async check() {
      client();
      // Reading the public key proves the token reaches the scope and may read its secrets. GitHub
      // serves this GET with read access only, and offers no dry-run PUT, so a token with
      // `secrets: read` but not write passes here; the write itself then fails with 403 and is
      // reported with the same permission hint (the stores are written before the new password is
      // committed, so that failure changes nothing that stays changed).
      await publicKey();
      await selectedIds();
    },

    async write(value: Secret) {
      const gh = await client();
      if (Buffer.byteLength(value.reveal(), 'utf8') > MAX_VALUE_BYTES) {
        throw new RotationError(`${spec.path}: the value for ${label} is larger than GitHub's 48 KB limit for a secret`);
      }
      const key = await publicKey();
      const ids = await selectedIds();
      const encrypted_value = await sealSecret(value, key);
      const sealed = { secret_name: name, encrypted_value, key_id: key.key_id };
      await githubCall(
        runtime,
        `GitHub: write secret ${name} in ${where}`,
        () =>
          scope.kind === 'organization'
            ? gh.rest.actions.createOrUpdateOrgSecret({
                org: scope.org,
                visibility: scope.visibility,
                ...(ids ? { selected_repository_ids: ids } : {}),
                ...sealed,
              })
            : scope.kind === 'environment'
              ? gh.rest.actions.createOrUpdateEnvironmentSecret({
                  owner: scope.owner,
                  repo: scope.repo,
                  environment_name: scope.environment,
                  ...sealed,
                })
              : gh.rest.actions.createOrUpdateRepoSecret({ owner: scope.owner, repo: scope.repo, ...sealed }),
        {
          ...hints,
          422: `GitHub refused secret ${name}: a name has only letters, digits and '_', does not start with a digit or GITHUB_, and the value is at most 48 KB`,
        },
      );
    },

    async lastWritten() {
      const gh = await client();
      const target = { secret_name: name };
      try {
        const response = await githubCall(
          runtime,
          `GitHub: read secret ${name} in ${where}`,
          () =>
            scope.kind === 'organization'
              ? gh.rest.actions.getOrgSecret({ org: scope.org, ...target })
              : scope.kind === 'environment'
                ? gh.rest.actions.getEnvironmentSecret({
                    owner: scope.owner,
                    repo: scope.repo,
                    environment_name: scope.environment,
                    ...target,
                  })
                : gh.rest.actions.getRepoSecret({ owner: scope.owner, repo: scope.repo, ...target }),
          hints,
        );
        return new Date(response.data.updated_at);
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
  };
};

/**
 * Where the secret lives. The schema has checked the shape (repository as owner/name, or
 * organization with an optional visibility, never both); what it cannot say is checked here.
 */
function parseScope(options: Options): Scope {
  const org = options.optionalString('organization');
  if (org !== undefined) {
    const visibility = options.choice('visibility', ['all', 'private', 'selected'], 'private');
    const selected = options.strings('selected_repositories');
    if (visibility === 'selected' && (selected === undefined || selected.length === 0)) {
      throw new RotationError(`${options.path('selected_repositories')}: required (repository names) when visibility is 'selected'`);
    }
    if (visibility !== 'selected' && selected !== undefined)
      throw new RotationError(`${options.path('selected_repositories')}: only allowed with visibility 'selected'`);
    const names = (selected ?? []).map((repo) => (repo.includes('/') ? repo.slice(repo.indexOf('/') + 1) : repo));
    return { kind: 'organization', org, visibility, selected: names };
  }
  const [owner, repo] = options.string('repository').split('/');
  const environment = options.optionalString('environment');
  return environment === undefined ? { kind: 'repository', owner, repo } : { kind: 'environment', owner, repo, environment };
}

function describeScope(scope: Scope): string {
  if (scope.kind === 'organization') return `organization ${scope.org}`;
  if (scope.kind === 'environment') return `environment '${scope.environment}' of ${scope.owner}/${scope.repo}`;
  return `repository ${scope.owner}/${scope.repo}`;
}

function scopeKeyOf(scope: Scope): string {
  if (scope.kind === 'organization') return `org ${scope.org.toLowerCase()}`;
  const repo = `${scope.owner}/${scope.repo}`.toLowerCase();
  return scope.kind === 'environment' ? `env ${repo} ${scope.environment}` : `repo ${repo}`;
}

function permissionHints(scope: Scope, where: string): StatusHints {
  const unauthorized = `GitHub rejected the token (bad credentials, expired or revoked): ${TOKEN_HINT}`;
  if (scope.kind === 'organization') {
    return {
      401: unauthorized,
      403: `the token may not manage secrets of ${where}: it needs the organization permission "organization_secrets: write" (a GitHub App installed on ${scope.org}, or a fine-grained PAT owned by ${scope.org})`,
      404: `${where} was not found, or the token cannot see it (install the GitHub App on ${scope.org})`,
    };
  }
  const repo = `${scope.owner}/${scope.repo}`;
  if (scope.kind === 'environment') {
    return {
      401: unauthorized,
      403: `the token may not manage secrets of ${where}: it needs the repository permissions "secrets: write" and "environments: write" on ${repo}`,
      404: `${where} was not found: create the environment in ${repo}'s settings, or check that the token can see ${repo}`,
    };
  }
  return {
    401: unauthorized,
    403: `the token may not manage Actions secrets of ${repo}: it needs the repository permission "secrets: write" (${TOKEN_HINT})`,
    404: `${where} was not found, or the token cannot see it (install the GitHub App on it, or add it to the PAT's repositories)`,
  };
}
