import type { Trigger } from '../evidence/record.js';

/** Who and what started the run: the Actions run when there is one, else the local user. */
export function triggerFromEnv(env: NodeJS.ProcessEnv, fallbackEvent = 'cli'): Trigger {
  if (env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY) {
    const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
    return {
      event: env.GITHUB_EVENT_NAME ?? 'unknown',
      actor: env.GITHUB_ACTOR ?? 'unknown',
      repository: env.GITHUB_REPOSITORY,
      run_url: `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`,
    };
  }
  return { event: fallbackEvent, actor: env.USER ?? env.LOGNAME ?? 'unknown' };
}
