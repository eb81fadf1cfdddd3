import type { ErrorObject } from 'ajv';
import { keyPath } from './interpolate.js';
import { validate } from './schema-validator.js';

// The policy schema's verdicts as lines a person can act on: what to report, and how to say it.

/**
 * The schema's errors, less those about a `${VAR}` string still to be interpolated, and the
 * if/oneOf verdicts that failed only because of one: such a string is judged once it is filled.
 */
export function schemaErrors(data: unknown): ErrorObject[] {
  if (validate(data)) return [];
  const all = validate.errors ?? [];
  const placeholder = (e: ErrorObject) => typeof e.data === 'string' && /\$\{[A-Za-z_]/.test(e.data);
  const deferred = all.filter(placeholder).map((e) => e.instancePath);
  const composite = (e: ErrorObject) =>
    ['if', 'oneOf', 'anyOf', 'not'].includes(e.keyword) && deferred.some((p) => p.startsWith(`${e.instancePath}/`));
  return all.filter((e) => !placeholder(e) && !composite(e));
}

/** Turns ajv's errors into "key path: expected …" lines a person can act on. */
export function describeSchemaErrors(errors: ErrorObject[], quoteValues = true): string[] {
  const lines = new Set<string>();
  // oneOf/anyOf/if report their branches' errors too; keep the most specific ones.
  const specific = errors.filter((e) => !['oneOf', 'anyOf', 'if', 'not'].includes(e.keyword));
  for (const e of specific.length > 0 ? specific : errors) {
    const path = keyPath(
      e.instancePath
        .split('/')
        .slice(1)
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')),
    );
    const expected = (e.parentSchema as { 'x-expected'?: string } | undefined)?.['x-expected'];
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        lines.add(`${path === '(top level)' ? key : `${path}.${key}`}: unknown key${expected ? ` (expected ${expected})` : ''}`);
        break;
      }
      case 'required':
        lines.add(`${path}: missing required key '${(e.params as { missingProperty: string }).missingProperty}'`);
        break;
      case 'propertyNames':
        break; // reported by the nested pattern error
      default:
        lines.add(
          `${path}: expected ${expected ?? describeKeyword(e)}${quoteValues ? `, got ${describeGot(e.data)}` : ' (after interpolation)'}`,
        );
    }
  }
  return [...lines];
}

function describeKeyword(e: ErrorObject): string {
  const s = e.schema as unknown;
  switch (e.keyword) {
    case 'type':
      return `a ${String(s)}`;
    case 'enum':
      return (s as unknown[]).join(' | ');
    case 'const':
      return JSON.stringify(s);
    case 'minItems':
      return `at least ${String(s)} item(s)`;
    case 'minProperties':
      return `at least ${String(s)} entr${s === 1 ? 'y' : 'ies'}`;
    case 'maxProperties':
      return `at most ${String(s)} entr${s === 1 ? 'y' : 'ies'}`;
    default:
      return e.message ?? e.keyword;
  }
}

/** Quotes what was found, unless it could be a credential written into the file by mistake. */
function describeGot(data: unknown): string {
  if (typeof data !== 'string')
    return Array.isArray(data) ? 'a list' : data && typeof data === 'object' ? 'a mapping' : JSON.stringify(data);
  if (data.length > 60 || data.includes('://') || data.includes('@')) return 'a value not shown here';
  return JSON.stringify(data);
}
