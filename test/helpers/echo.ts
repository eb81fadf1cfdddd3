import { http, HttpResponse } from 'msw';

export interface Echo {
  hits: number;
  /** The sealed values GitHub was sent: ciphertext, never to be recorded either. */
  sealed: string[];
}

/**
 * A server that refuses one call (method + path) with `status`, echoing the request's method,
 * URL, headers and body in every field a client may quote (message, error, msg). Other calls
 * reach the models.
 */
export function echoing(base: string, method: string, path: RegExp, status: number, echo: Echo) {
  return http.all(`${base}/*`, async ({ request }) => {
    const url = new URL(request.url);
    if (request.method !== method || !path.test(url.pathname)) return undefined;
    echo.hits++;
    const body = await request.text();
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => (headers[name] = value));
    const sealed = /"encrypted_value":"([^"]+)"/.exec(body)?.[1];
    if (sealed) echo.sealed.push(sealed);
    // What was sent first, as a server's "invalid: <input>" does, so a client's cut of the message keeps it.
    const said = `${body} with headers ${JSON.stringify(headers)} refused at ${request.method} ${request.url}`;
    return HttpResponse.json({ message: said, error: said, msg: said, request: { headers, body } }, { status });
  });
}

