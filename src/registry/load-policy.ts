import { readPolicy, readPolicyFile, type LoadOptions } from '../policy/load.js';
import type { AdapterRules } from '../policy/cross-checks.js';
import type { Policy } from '../policy/types.js';
import { credentialProblems, methodSystems, targetIdentity } from './registry.js';
import { defaultSecretTypes } from './exposed-as.js';

// The policy as every command reads it: the policy folder's reading and checks, with the rules
// only the registry knows: what each method and store kind checks of its own part of the policy.
const rules: AdapterRules = { methodSystems, defaultSecretTypes, credentialProblems, targetIdentity };

/** Reads, interpolates and validates a policy file. Every problem is reported at once. */
export function loadPolicy(file: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Policy {
  return readPolicyFile(file, env, options, rules);
}

/** The same for a policy's text (tests, the demo). */
export function parsePolicy(text: string, file: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Policy {
  return readPolicy(text, file, env, options, rules);
}
