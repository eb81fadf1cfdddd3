import type { AdapterFactory } from '../engine/adapters.js';
import type { Consumer } from './consumer.js';
import { digitalOceanApp } from './digitalocean-app.js';
import { supabaseFunctionSecrets } from './supabase-function-secrets.js';
import { githubWorkflow } from './github-workflow.js';
import { supersetDatabase } from './superset-database.js';
import { n8nCredential } from './n8n-credential.js';
import { httpWebhook } from './http-webhook.js';

/** Every consumer kind, by the key the policy uses. */
export const CONSUMERS: Record<string, AdapterFactory<Consumer>> = {
  'digitalocean-app': digitalOceanApp,
  'github-workflow': githubWorkflow,
  'supabase-function-secrets': supabaseFunctionSecrets,
  'superset-database': supersetDatabase,
  'n8n-credential': n8nCredential,
  http: httpWebhook,
};
