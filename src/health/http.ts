import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import type { HealthProbe } from './probe.js';
import { optionsOf } from '../adapters/options.js';
import { PROBE_TRY_TIMEOUT_MS, runtimeRequest } from '../http/request.js';
import { untilDeadline } from '../runtime/deadline.js';
import { shorten } from '../secret/scrubber.js';

/**
 * An HTTP endpoint that must answer the expected status (and, optionally, contain a text, be
 * exactly a text such as Superset's `OK`, or hold a JSON subset such as Odoo's
 * {"status": "pass"}), retried until timeout_seconds (default 60).
 */
export const httpProbe: AdapterFactory<HealthProbe> = (spec, ctx) => {
  const { runtime } = ctx;
  const o = optionsOf(spec, runtime);
  const url = o.string('url');
  const expectStatus = o.number('expect_status', 200);
  const expectBody = o.optionalString('expect_body');
  // Whole-body match: `expect_body: OK` would also accept Superset's "NOT OK".
  const expectText = o.optionalString('expect_text');
  const expectJson = o.mapping('expect_json');
  const timeout = o.number('timeout_seconds', 60);
  const scrub = (text: string) => runtime.reporter.scrub(text);
  return {
    label: `http ${url}`,
    async probe() {
      const result = await untilDeadline(runtime, timeout, async () => {
        let response: Response;
        let body: string;
        try {
          response = await runtimeRequest(runtime, url, { timeoutMs: PROBE_TRY_TIMEOUT_MS });
          body = await response.text();
        } catch (error) {
          return { ok: false, why: `no answer (${(error as Error).message})` };
        }
        if (response.status !== expectStatus)
          return { ok: false, why: `HTTP ${response.status}, expected ${expectStatus}${snippet(body, scrub)}` };
        if (expectBody !== undefined && !body.includes(expectBody))
          return { ok: false, why: `body does not contain ${JSON.stringify(expectBody)}${snippet(body, scrub)}` };
        if (expectText !== undefined && body.trim() !== expectText)
          return { ok: false, why: `body is not exactly ${JSON.stringify(expectText)}${snippet(body, scrub)}` };
        if (expectJson !== undefined) {
          const mismatch = jsonMismatch(body, expectJson);
          if (mismatch) return { ok: false, why: mismatch };
        }
        const seen = expectJson
          ? ` with ${JSON.stringify(expectJson)}`
          : expectText !== undefined
            ? ` with body ${JSON.stringify(expectText)}`
            : '';
        return { ok: true, value: `HTTP ${response.status}${seen}` };
      });
      if (!result.ok) throw new RotationError(`${url}: ${result.why} (after ${result.tries} tries over ${timeout}s)`);
      return result.value;
    },
  };
};

/** Why the body is not a JSON object containing `expected`, or undefined when it is. */
function jsonMismatch(body: string, expected: Record<string, unknown>): string | undefined {
  let actual: unknown;
  try {
    actual = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  for (const [key, value] of Object.entries(expected)) {
    const got = (actual as Record<string, unknown> | null)?.[key];
    if (JSON.stringify(got) !== JSON.stringify(value)) return `JSON ${key} is ${JSON.stringify(got)}, expected ${JSON.stringify(value)}`;
  }
  return undefined;
}

/** The start of a body, for a failure message: scrubbed whole before it is cut (secret/scrubber.ts shorten). */
function snippet(body: string, scrub: (text: string) => string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  return text ? ` (body: ${shorten(text, 120, scrub)})` : ' (empty body)';
}
