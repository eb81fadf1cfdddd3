import type { AdapterFactory } from '../engine/adapters.js';
import type { Consumer } from './consumer.js';
import { githubWorkflow } from './github-workflow.js';

/** Every consumer kind, by the key the policy uses. */
export const CONSUMERS: Record<string, AdapterFactory<Consumer>> = {
  'github-workflow': githubWorkflow,
};
