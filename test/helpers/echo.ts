import { http, HttpResponse } from 'msw';

export interface Echo {
  hits: number;
  /** The sealed values GitHub was sent: ciphertext, never to be recorded either. */
  sealed: string[];
}

/**
 * How the server quotes what it was sent:
 *  - plain: the body, the headers and the URL, in that order;
 *  - cut: the longest credential-like string of the request placed so that each cut a client may
 *    make (120, 200, 300 characters) falls 20 characters into it (STARTS), then the plain echo;
 *  - base64: that string as Basic base64(user:value) and alone in URL-safe and standard base64;
 *  - hex: that string in lower- and upper-case hex.
 */
export type EchoForm = 'plain' | 'cut' | 'base64' | 'hex';
export const ECHO_FORMS: EchoForm[] = ['plain', 'cut', 'base64', 'hex'];

/**
 * Where the credential-like string starts in the `cut` form's message, so that each cut keeps 20
 * of its characters: 180 and 280 for an HTTP error's 200 and an older 300; 88 for a health page's
 * 120, which counts from the raw body (`{"message":"` is 12 characters more).
 */
const STARTS = [88, 180, 280];

/**
 * A server that refuses one call (method + path) with `status`, echoing the request in every field
 * a client may quote (message, error, msg), in the form given. Other calls reach the models.
 */
export function echoing(base: string, method: string, path: RegExp, status: number, echo: Echo, form: EchoForm = 'plain') {
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
    const plain = `${body} with headers ${JSON.stringify(headers)} refused at ${request.method} ${request.url}`;
    // The sealed value is ciphertext GitHub alone opens: the run cannot know it, and the plain echo
    // below (a JSON field named encrypted_value) is where a server quotes it.
    const candidates = credentialLike(body, headers, url).filter((c) => c !== sealed);
    const said = form === 'plain' ? plain : quoted(form, candidates[0] ?? '', plain);
    return HttpResponse.json({ message: said, error: said, msg: said, request: { headers, body } }, { status });
  });
}

function quoted(form: Exclude<EchoForm, 'plain'>, value: string, plain: string): string {
  const bytes = Buffer.from(value);
  let out = `echo ${form}:`;
  switch (form) {
    case 'cut':
      for (const start of STARTS) if (out.length < start) out += `${'.'.repeat(start - out.length - 1)} ${value}`;
      return `${out} ${plain}`;
    case 'base64':
      return `${out} ${Buffer.from(`api:${value}`).toString('base64')} ${bytes.toString('base64url')} ${bytes.toString('base64')}`;
    case 'hex':
      return `${out} ${bytes.toString('hex')} ${bytes.toString('hex').toUpperCase()}`;
  }
}

/** Headers that carry no credential. */
const PLAIN_HEADERS = new Set(['accept', 'accept-encoding', 'content-type', 'content-length', 'user-agent', 'host', 'connection']);

/** The request's strings that look like credentials (16+ characters of a token's alphabet), longest first. */
function credentialLike(body: string, headers: Record<string, string>, url: URL): string[] {
  const texts = [
    body,
    url.search,
    ...Object.entries(headers)
      .filter(([name]) => !PLAIN_HEADERS.has(name))
      .map(([, v]) => v),
  ];
  const runs = texts.flatMap((t) => t.match(/[A-Za-z0-9._~+/-]{16,}={0,2}/g) ?? []);
  return [...new Set(runs)].sort((a, b) => b.length - a.length);
}

/**
 * What a sink must not hold of a secret: the value, its characters 8 to 20 (past most published
 * prefixes: what a cut 20 characters into it leaves), and its base64 and hex as the echo writes them.
 */
export function leakForms(secret: string): string[] {
  if (secret.length < 16) return [secret];
  const bytes = Buffer.from(secret);
  const forms = [
    secret,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    Buffer.from(`api:${secret}`).toString('base64'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
  ];
  return secret.includes('://') ? forms : [...forms, secret.slice(8, 20)];
}
