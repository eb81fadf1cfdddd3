import { describe, expect, it } from 'vitest';
import { policyEnvironment } from '../../src/cli/runtime.js';

describe("the CLI's policy variables", () => {
  it('takes a name from the environment first, then ROTATION_SECRETS_JSON, then ROTATION_VARS_JSON', () => {
    const env = policyEnvironment({
      A: 'from-env',
      ROTATION_SECRETS_JSON: JSON.stringify({ A: 'from-secrets', B: 'from-secrets', github_token: 'ghs_x' }),
      ROTATION_VARS_JSON: JSON.stringify({ B: 'from-vars', C: 'from-vars', N: 3 }),
    });
    expect([env.A, env.B, env.C, env.N]).toEqual(['from-env', 'from-secrets', 'from-vars', undefined]);
  });

  it('names the variable that is not a JSON object, without quoting its content', () => {
    expect(() => policyEnvironment({ ROTATION_SECRETS_JSON: '{"A": "s3cr3t-value"' })).toThrow(/^ROTATION_SECRETS_JSON is not JSON/);
    expect(() => policyEnvironment({ ROTATION_SECRETS_JSON: '{"A": "s3cr3t-value"' })).not.toThrow(/s3cr3t/);
    expect(() => policyEnvironment({ ROTATION_VARS_JSON: '["a"]' })).toThrow('ROTATION_VARS_JSON is not a JSON object of names and values');
  });
});
