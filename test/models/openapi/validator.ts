import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * Checks the traffic of an msw model against the provider's own OpenAPI 3.0 description
 * (descriptions/ next to this file): every request must name an operation the description has,
 * with its path, query and header parameters, its security (credentials) and its request body as
 * the description says; every answer the model gives must have a status the operation declares
 * (or one the provider documents for every operation, see `generic`) and a body that validates
 * against the declared schema. Schemas are validated with ajv against the description itself
 * added as one schema document, so `$ref`s resolve inside it.
 *
 * Hand-written on ajv rather than a routing library: the extracts drop the `description`s that
 * full-document validators (openapi-backend, openapi-schema-validator) insist on, and the part
 * needed here (path templates, parameters, bodies, responses) is small.
 */

type Json = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Json;
}
export interface Operation {
  operationId: string;
  method: string;
  template: string;
  /** JSON pointer of the operation object, for schema refs. */
  pointer: string;
  parameters: (Parameter & { pointer: string })[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> };
  responses: Record<string, { content?: Record<string, { schema?: Json }> }>;
  security: Record<string, string[]>[];
}
export interface ProviderErrors {
  /** Statuses the provider documents for every operation, even where one omits them (with why, for the reader). */
  generic: Record<number, string>;
  /** Schema every generic error body must match: a JSON pointer into the description, or a schema. */
  errorSchema?: string | Json;
}
export interface CheckedRequest {
  operation?: Operation;
  params: Record<string, string>;
  problems: string[];
}

const DATE = '\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})?)?';
const DATE_QUERY = new RegExp(`^((>=|<=|>|<)?${DATE}|(${DATE}|\\*)\\.\\.(${DATE}|\\*))$`);
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const DESCRIPTIONS = join(import.meta.dirname, 'descriptions');

/** Every checker created in this test file, so an afterEach can assert none saw a violation. */
const active = new Set<OpenApiChecker>();

/** All violations recorded since the last call, across every model; clears them. */
export function takeViolations(): string[] {
  const all: string[] = [];
  for (const checker of active) all.push(...checker.take());
  return all;
}

export function loadDescription(file: string): Json {
  return JSON.parse(readFileSync(join(DESCRIPTIONS, file), 'utf8')) as Json;
}

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

export class OpenApiChecker {
  readonly operations: Operation[] = [];
  private readonly ajv: Ajv;
  private readonly id: string;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly securitySchemes: Record<string, Json>;
  private violations: string[] = [];

  constructor(
    readonly name: string,
    readonly description: Json,
    readonly errors: ProviderErrors,
  ) {
    this.id = `openapi:${name}`;
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    // DigitalOcean's description uses a format ajv-formats does not know.
    this.ajv.addFormat('uint32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff });
    this.ajv.addSchema(description, this.id);
    const components = (description.components ?? {}) as Json;
    this.securitySchemes = (components.securitySchemes ?? {}) as Record<string, Json>;
    const globalSecurity = (description.security ?? []) as Record<string, string[]>[];
    const paths = description.paths as Record<string, Json>;
    for (const [template, item] of Object.entries(paths)) {
      const shared = (item.parameters ?? []) as Json[];
      for (const method of METHODS) {
        const op = item[method] as Json | undefined;
        if (!op) continue;
        const pointer = `#/paths/${escape(template)}/${method}`;
        const parameters = [
          ...shared.map((p, i) => this.parameter(p, `#/paths/${escape(template)}/parameters/${i}`)),
          ...((op.parameters ?? []) as Json[]).map((p, i) => this.parameter(p, `${pointer}/parameters/${i}`)),
        ];
        this.operations.push({
          operationId: String(op.operationId),
          method: method.toUpperCase(),
          template,
          pointer,
          parameters,
          requestBody: op.requestBody as Operation['requestBody'],
          responses: (op.responses ?? {}) as Operation['responses'],
          security: (op.security ?? globalSecurity) as Record<string, string[]>[],
        });
      }
    }
    // Literal segments before parameters: `/api-keys/legacy` wins over `/api-keys/{id}`.
    this.operations.sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
    active.add(this);
  }

  /** Violations recorded so far (and forgets them): a test that provokes one on purpose takes it. */
  take(): string[] {
    const v = this.violations;
    this.violations = [];
    return v;
  }

  record(problem: string): void {
    this.violations.push(`${this.name}: ${problem}`);
  }

  /** Resolves a parameter `$ref` to the component, keeping the pointer of its schema. */
  private parameter(p: Json, pointer: string): Parameter & { pointer: string } {
    if (typeof p.$ref === 'string') {
      const ref = p.$ref;
      const name = ref.replace('#/components/parameters/', '');
      const resolved = ((this.description.components as Json).parameters as Record<string, Json>)[name];
      return { ...(resolved as unknown as Parameter), pointer: ref };
    }
    return { ...(p as unknown as Parameter), pointer };
  }

  private validator(pointer: string): ValidateFunction {
    let fn = this.compiled.get(pointer);
    if (!fn) {
      fn = this.ajv.compile({ $ref: `${this.id}${pointer}` });
      this.compiled.set(pointer, fn);
    }
    return fn;
  }

  private invalid(pointer: string, value: unknown): string | undefined {
    const fn = this.validator(pointer);
    if (fn(value)) return undefined;
    return this.ajv.errorsText(fn.errors, { dataVar: 'value' });
  }

  /** The operation of a method and path (the path without the API's base path). */
  match(method: string, path: string): { operation: Operation; params: Record<string, string> } | undefined {
    for (const operation of this.operations) {
      if (operation.method !== method) continue;
      const names: string[] = [];
      const pattern = operation.template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      const m = new RegExp(`^${pattern}$`).exec(path);
      if (!m) continue;
      return { operation, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
    }
    return undefined;
  }

  /** A value as sent (a string) checked against a parameter schema: as is, then as the number or boolean it spells. */
  private paramProblem(_operation: Operation, p: Parameter & { pointer: string }, raw: string): string | undefined {
    // GitHub marks search-syntax dates with x-date-query: `>=2026-01-01T00:00:00Z`, `a..b`, or a date.
    if ((p as unknown as Json)['x-date-query'] === true)
      return DATE_QUERY.test(raw) ? undefined : `${p.in} parameter ${p.name}: not GitHub's date query syntax`;
    if (!p.schema) return undefined;
    const pointer = `${p.pointer}/schema`;
    const asIs = this.invalid(pointer, raw);
    if (!asIs) return undefined;
    const coerced =
      raw === 'true' ? true : raw === 'false' ? false : raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : undefined;
    if (coerced !== undefined && !this.invalid(pointer, coerced)) return undefined;
    return `${p.in} parameter ${p.name}: ${asIs}`;
  }

  private securityProblem(operation: Operation, headers: Headers): string | undefined {
    if (operation.security.length === 0) return undefined;
    const satisfied = operation.security.some((requirement) =>
      Object.keys(requirement).every((name) => {
        const scheme = this.securitySchemes[name];
        if (!scheme) return true;
        if (scheme.type === 'http' && String(scheme.scheme).toLowerCase() === 'bearer')
          return /^Bearer \S+$/i.test(headers.get('authorization') ?? '');
        if (scheme.type === 'apiKey' && scheme.in === 'header') return Boolean(headers.get(String(scheme.name)));
        return true;
      }),
    );
    return satisfied
      ? undefined
      : `no credentials the operation's security (${operation.security.map((r) => Object.keys(r).join('+')).join(' | ')}) accepts`;
  }

  /** Checks a request; problems are recorded as violations and returned. */
  async checkRequest(request: Request, path: string, query: URLSearchParams): Promise<CheckedRequest> {
    const method = request.method.toUpperCase();
    const found = this.match(method, path);
    const where = `${method} ${path}`;
    if (!found) {
      const problem = `${where}: no such operation in the description`;
      this.record(problem);
      return { params: {}, problems: [problem] };
    }
    const { operation, params } = found;
    const problems: string[] = [];
    for (const p of operation.parameters) {
      if (p.in === 'path') {
        const problem = this.paramProblem(operation, p, params[p.name] ?? '');
        if (problem) problems.push(problem);
      } else if (p.in === 'query') {
        const values = query.getAll(p.name);
        if (values.length === 0 && p.required) problems.push(`query parameter ${p.name} is required`);
        for (const v of values) {
          const problem = this.paramProblem(operation, p, v);
          if (problem) problems.push(problem);
        }
      } else if (p.in === 'header') {
        const v = request.headers.get(p.name);
        if (v === null && p.required) problems.push(`header ${p.name} is required`);
        else if (v !== null) {
          const problem = this.paramProblem(operation, p, v);
          if (problem) problems.push(problem);
        }
      }
    }
    const declared = new Set(operation.parameters.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of new Set(query.keys()))
      if (!declared.has(name)) problems.push(`query parameter ${name} is not a parameter of the operation`);
    const security = this.securityProblem(operation, request.headers);
    if (security) problems.push(security);
    problems.push(...(await this.bodyProblems(operation, request)));
    for (const problem of problems) this.record(`${operation.operationId} (${where}): ${problem}`);
    return { operation, params, problems };
  }

  private async bodyProblems(operation: Operation, request: Request): Promise<string[]> {
    const text = request.body ? await request.clone().text() : '';
    const spec = operation.requestBody;
    if (!spec) return text === '' ? [] : ['sends a request body the operation does not take'];
    if (text === '') return spec.required ? ['the request body is required'] : [];
    const type = (request.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const media = spec.content?.[type];
    if (!media)
      return [`content-type ${JSON.stringify(type)} is not one the operation takes (${Object.keys(spec.content ?? {}).join(', ')})`];
    if (!media.schema) return [];
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return ['the request body is not JSON'];
    }
    const problem = this.invalid(`${operation.pointer}/requestBody/content/${escape(type)}/schema`, body);
    return problem ? [`request body: ${problem}`] : [];
  }

  /**
   * An answer body for an operation and status: `partial` (what the model knows) with every
   * property the declared schema requires and the model left out filled with a valid placeholder
   * (first enum value, a URL for format uri, the epoch for date-time, null where nullable), so a
   * model writes only the fields a test looks at and still answers the whole declared shape.
   */
  complete<T>(operationId: string, status: number, partial: T): T {
    const operation = this.operations.find((o) => o.operationId === operationId);
    if (!operation) throw new Error(`${this.name}: no operation ${operationId}`);
    const schema = operation.responses[String(status)]?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`${this.name}: ${operationId} declares no JSON body for ${status}`);
    return this.fill(schema, partial) as T;
  }

  private resolve(schema: Json): Json {
    let s = schema;
    while (typeof s.$ref === 'string') {
      s = s.$ref
        .slice(2)
        .split('/')
        .reduce<Json>((node, key) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')] as Json, this.description);
    }
    return s;
  }

  private fill(raw: Json, value: unknown): unknown {
    const schema = this.resolve(raw);
    if (Array.isArray(schema.allOf)) return (schema.allOf as Json[]).reduce<unknown>((v, part) => this.fill(part, v), value);
    const choices = (schema.oneOf ?? schema.anyOf) as Json[] | undefined;
    if (choices && value === undefined) return this.fill(choices[0], value);
    if (value !== undefined) {
      if (value === null || typeof value !== 'object' || Array.isArray(value) || !schema.properties) {
        if (Array.isArray(value) && schema.items) return value.map((v) => this.fill(schema.items as Json, v));
        return value;
      }
      const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      const properties = schema.properties as Record<string, Json>;
      for (const name of Object.keys(properties))
        if (name in out || ((schema.required ?? []) as string[]).includes(name)) out[name] = this.fill(properties[name], out[name]);
      return out;
    }
    if (schema.nullable) return null;
    if (Array.isArray(schema.enum)) return schema.enum[0];
    switch (schema.type) {
      case 'object':
        return this.fill(schema, {});
      case 'array':
        return [];
      case 'integer':
      case 'number':
        return typeof schema.minimum === 'number' ? schema.minimum : 0;
      case 'boolean':
        return false;
      case 'string':
        if (schema.format === 'date-time') return '1970-01-01T00:00:00Z';
        if (schema.format === 'uri') return 'https://example.invalid/';
        if (schema.format === 'email') return 'nobody@example.invalid';
        return '';
      default:
        return null;
    }
  }

  /** Checks an answer of the model against the operation; problems are recorded and returned. */
  async checkResponse(operation: Operation, response: Response): Promise<string[]> {
    if (response.type === 'error') return [];
    const status = response.status;
    const key =
      String(status) in operation.responses
        ? String(status)
        : `${String(status)[0]}XX` in operation.responses
          ? `${String(status)[0]}XX`
          : undefined;
    const where = `${operation.operationId} answered ${status}`;
    const problems: string[] = [];
    const text = await response.clone().text();
    const json = (): unknown => {
      try {
        return text === '' ? undefined : JSON.parse(text);
      } catch {
        problems.push(`${where}: the body is not JSON`);
        return undefined;
      }
    };
    if (key) {
      const media = operation.responses[key].content;
      if (!media) {
        if (status === 204 && text !== '') problems.push(`${where}: a 204 carries no body`);
      } else {
        const type = (response.headers.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
        if (!media[type])
          problems.push(`${where}: content-type ${JSON.stringify(type)} is not declared (${Object.keys(media).join(', ')})`);
        else if (media[type].schema) {
          const problem = this.invalid(`${operation.pointer}/responses/${key}/content/${escape(type)}/schema`, json());
          if (problem) problems.push(`${where}: response body: ${problem}`);
        }
      }
    } else if ('default' in operation.responses && status >= 400) {
      const media = operation.responses.default.content?.['application/json'];
      if (media?.schema) {
        const problem = this.invalid(`${operation.pointer}/responses/default/content/application~1json/schema`, json());
        if (problem) problems.push(`${where}: response body: ${problem}`);
      }
    } else if (status in this.errors.generic) {
      const schema = this.errors.errorSchema;
      if (schema) {
        const body = json();
        const problem =
          typeof schema === 'string'
            ? this.invalid(schema, body)
            : this.ajv.validate(schema, body)
              ? undefined
              : this.ajv.errorsText(this.ajv.errors, { dataVar: 'value' });
        if (problem) problems.push(`${where}: error body: ${problem}`);
      }
    } else {
      problems.push(`${where}, a status the description does not declare for it (${Object.keys(operation.responses).join(', ')})`);
    }
    for (const problem of problems) this.record(problem);
    return problems;
  }
}

/**
 * Runs one model request through the checker: a request the description refuses is recorded and
 * answered by `refuse` (the provider's own 4xx, never the route), anything else goes to `route`,
 * whose answer is checked against the operation before the client sees it.
 */
export async function guarded(
  checker: OpenApiChecker,
  request: Request,
  path: string,
  route: (checked: CheckedRequest & { operation: Operation }) => Promise<Response>,
  refuse: (status: 404 | 422, message: string) => Response,
): Promise<Response> {
  const checked = await checker.checkRequest(request, path, new URL(request.url).searchParams);
  if (!checked.operation) return refuse(404, `no operation ${request.method.toUpperCase()} ${path}`);
  const response =
    checked.problems.length > 0
      ? refuse(422, checked.problems.join('; '))
      : await route(checked as CheckedRequest & { operation: Operation });
  await checker.checkResponse(checked.operation, response);
  return response;
}
