import { Ajv } from 'ajv';
import schema from '../../schema/evidence.schema.json' with { type: 'json' };

/** ajv's options for the evidence schema; scripts/build.mjs compiles the same schema with them. */
export const AJV_OPTIONS = { allErrors: true, strict: false } as const;

/**
 * The evidence schema's validator. Run from source (tests), it is compiled here; the bundle
 * replaces this module with the same validator compiled at build time (ajv standalone code), so
 * a run that reads the evidence history neither loads ajv's compiler nor compiles the schema.
 */
export const validate = new Ajv(AJV_OPTIONS).compile(schema);
