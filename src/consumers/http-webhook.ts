import { createHmac } from 'node:crypto';
import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import { jsonCall } from '../http/json-call.js';
import { REQUEST_TIMEOUT_MS } from '../http/request.js';
import type { Consumer } from './consumer.js';
import { optionsOf } from '../adapters/options.js';

/**
 * Tells any service that a credential rotated: a JSON POST signed like GitHub's webhooks, with
 * `sha256=<hex HMAC-SHA256 of the raw body>` under the policy's `secret`. The event carries the
 * new value only when `include_value: true`; otherwise the receiver reads it from its store.
 * check() sends a signed `ping` event, so a wrong URL or key shows before anything changes.
 */
export const httpWebhook: AdapterFactory<Consumer> = (spec, ctx) => {
  const { runtime, credential } = ctx;
  const o = optionsOf(spec, runtime);
  const url = o.url('url');
  const key = o.secret('secret');
  const includeValue = o.flag('include_value');
  const header = o.optionalString('header') ?? 'X-Rotation-Signature';
  if (!/^[A-Za-z0-9-]+$/.test(header)) throw new RotationError(`${spec.path}.header: expected an HTTP header name`);
  const timeoutMs = o.number('timeout_seconds', REQUEST_TIMEOUT_MS / 1000) * 1000;
  const host = new URL(url).host;
  const reason = ctx.reason;

  const send = async (event: Record<string, unknown>, what: string, scrubbed: string[]) => {
    const body = JSON.stringify(event);
    const signature = `sha256=${createHmac('sha256', key.reveal()).update(body).digest('hex')}`;
    const response = await jsonCall(runtime, `webhook ${host}: ${what}`, url, {
      method: 'POST',
      body,
      headers: { [header.toLowerCase()]: signature, 'x-rotation-event': String(event.event) },
      timeoutMs,
      hints: {
        401: `the receiver refused the signature: it must check ${header} with the same key as ${spec.path}.secret`,
        403: `the receiver refused the signature: it must check ${header} with the same key as ${spec.path}.secret`,
        404: `nothing answers at ${spec.path}.url`,
      },
      scrub: (t) => scrubbed.reduce((out, s) => out.split(s).join('***'), t),
    });
    return response.status;
  };

  return {
    label: `http webhook ${host}`,

    async check(dryRun) {
      // A ping is a delivery the receiver acts on (logs, alerts): a dry run sends none.
      if (dryRun)
        return `the signed ping is not sent in a dry run (the receiver would record a delivery); the URL and key are proven by a real run's preflight, before anything changes`;
      await send({ event: 'ping', credential: credential.id, system: credential.system }, 'ping', []);
    },

    async refresh(value) {
      const event: Record<string, unknown> = {
        event: 'rotated',
        credential: credential.id,
        system: credential.system,
        reason: reason ?? null,
        rotated_at: runtime.now().toISOString(),
      };
      if (includeValue) event.value = value.reveal();
      const status = await send(event, 'rotated event', [value.reveal()]);
      return `webhook ${host} accepted the rotated event (HTTP ${status}${includeValue ? ', value included' : ', no value'})`;
    },

    async prove() {
      return {
        proof: 'sent-value-only',
        detail: `a webhook offers nothing to read back: only the receiver's 2xx to the signed rotated event is known`,
      };
    },
  };
};
