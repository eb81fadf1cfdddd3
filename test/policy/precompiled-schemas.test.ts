import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the build, without types
import { SCHEMA_VALIDATORS } from '../../scripts/schema-validators.mjs';
import { AJV_OPTIONS as POLICY_OPTIONS } from '../../src/policy/schema-validator.js';
import { AJV_OPTIONS as EVIDENCE_OPTIONS } from '../../src/evidence/schema-validator.js';

/**
 * The bundle validates policies and evidence records with validators compiled at build time; they
 * must be compiled with the options the source modules (which tests run) use, or a run from
 * dist/ would accept or default what the tests never saw.
 */
describe('the validators compiled into the bundle', () => {
  it('use the ajv options of the modules they replace', () => {
    expect(SCHEMA_VALIDATORS.policy.options).toEqual(POLICY_OPTIONS);
    expect(SCHEMA_VALIDATORS.evidence.options).toEqual(EVIDENCE_OPTIONS);
    expect(SCHEMA_VALIDATORS.policy.module).toBe('src/policy/schema-validator.ts');
    expect(SCHEMA_VALIDATORS.evidence.module).toBe('src/evidence/schema-validator.ts');
  });
});
