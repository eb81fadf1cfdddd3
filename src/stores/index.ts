import type { AdapterFactory } from '../engine/adapters.js';
import type { Store } from './store.js';
import { fileStore } from './file.js';
import { githubStore } from './github.js';

/** Every store kind, by the key the policy uses. */
export const STORES: Record<string, AdapterFactory<Store>> = {
  file: fileStore,
  github: githubStore,
};
