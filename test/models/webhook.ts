import { createHmac, timingSafeEqual } from 'node:crypto';
import { http, HttpResponse } from 'msw';

/**
 * An msw model of a webhook receiver that does what the docs tell receivers to do: recompute
 * HMAC-SHA256 over the raw body with the shared key and compare it, in constant time, with the
 * `sha256=<hex>` header; 401 when it does not match. `respondWith` queues other answers (500,
 * 429, 400) for the next deliveries.
 */
export function createWebhookModel(options: { url?: string; key: string; header?: string }) {
  const url = options.url ?? 'https://hooks.example.com/rotation';
  const header = (options.header ?? 'X-Rotation-Signature').toLowerCase();
  const model = {
    url,
    /** Deliveries whose signature verified, parsed. */
    events: [] as Record<string, unknown>[],
    /** Every delivery: status answered and the raw body. */
    deliveries: [] as { status: number; body: string; signature: string | null }[],
    respondWith: [] as number[],
    handlers: [] as ReturnType<typeof http.post>[],
  };
  model.handlers = [
    http.post(url, async ({ request }) => {
      const raw = await request.text();
      const signature = request.headers.get(header);
      const queued = model.respondWith.shift();
      let status: number;
      if (!verify(raw, signature, options.key)) status = 401;
      else if (queued) status = queued;
      else {
        status = 204;
        model.events.push(JSON.parse(raw) as Record<string, unknown>);
      }
      model.deliveries.push({ status, body: raw, signature });
      if (status === 204) return new HttpResponse(null, { status });
      const message =
        status === 401 ? 'signature mismatch' : status === 429 ? 'slow down' : status >= 500 ? 'receiver crashed' : 'bad event';
      return HttpResponse.json({ error: message }, { status, headers: status === 429 ? { 'retry-after': '2' } : {} });
    }),
  ];
  return model;
}

function verify(raw: string, signature: string | null, key: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', key).update(raw).digest('hex')}`);
  const got = Buffer.from(signature ?? '');
  return got.length === expected.length && timingSafeEqual(got, expected);
}
