// The schemas scripts/build.mjs compiles into the bundle (ajv standalone code), each with the ajv
// options of the module it replaces; test/policy/precompiled-schemas.test.ts keeps them equal.
export const SCHEMA_VALIDATORS = {
  policy: {
    file: 'schema/rotation.schema.json',
    module: 'src/policy/schema-validator.ts',
    options: { allErrors: true, strict: false, verbose: true, useDefaults: true },
  },
  evidence: {
    file: 'schema/evidence.schema.json',
    module: 'src/evidence/schema-validator.ts',
    options: { allErrors: true, strict: false },
  },
};
