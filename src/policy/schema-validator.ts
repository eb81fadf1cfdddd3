import { Ajv } from 'ajv';
import schema from '../../schema/rotation.schema.json' with { type: 'json' };

/** ajv's options for the policy schema; scripts/build.mjs compiles the same schema with them. */
export const AJV_OPTIONS = { allErrors: true, strict: false, verbose: true, useDefaults: true } as const;

/**
 * The policy schema's validator. Run from source (tests), it is compiled here; the bundle
 * replaces this module with the same validator compiled at build time (ajv standalone code), so
 * a run neither loads ajv's compiler nor compiles the schema.
 */
export const validate = new Ajv(AJV_OPTIONS).compile(schema);
