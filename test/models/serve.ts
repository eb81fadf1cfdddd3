import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getResponse, type RequestHandler } from 'msw';

export interface ServeOptions {
  /**
   * The origin (and base path) the handlers are written for, e.g. 'https://api.github.com'.
   * Each request's URL is rewritten onto it, so a model made for the real API answers a child
   * process pointed at this server (GITHUB_API_URL=<url>). Default: the server's own URL.
   */
  rewriteTo?: string;
}

/**
 * Serves msw handlers over a real local HTTP server, for code msw cannot intercept in-process
 * (the bundled dist/index.js run as a child process). Node requests become Fetch Requests for
 * msw's `getResponse`; a handler's `HttpResponse.error()` resets the connection; a request no
 * handler answers gets 501.
 */
export async function serveHandlers(
  handlers: RequestHandler[] | (() => RequestHandler[]),
  options: ServeOptions = {},
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `model error: ${error instanceof Error ? error.message : String(error)}` }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    const base = (options.rewriteTo ?? url).replace(/\/+$/, '');
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === 'host' || name === 'connection' || name === 'transfer-encoding') continue;
      for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
    }
    const method = req.method ?? 'GET';
    const request = new Request(base + (req.url ?? '/'), {
      method,
      headers,
      body: method === 'GET' || method === 'HEAD' ? undefined : body,
    });
    const list = typeof handlers === 'function' ? handlers() : handlers;
    const response = await getResponse(list, request);
    if (!response) {
      res.writeHead(501, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `no model handler for ${method} ${req.url}` }));
      return;
    }
    if (response.type === 'error') {
      req.socket.destroy();
      return;
    }
    const out: Record<string, string | string[]> = {};
    response.headers.forEach((value, name) => {
      if (name === 'content-length' || name === 'content-encoding' || name === 'transfer-encoding') return;
      out[name] = value;
    });
    const payload = Buffer.from(await response.arrayBuffer());
    if (response.status !== 204 && response.status !== 304) out['content-length'] = String(payload.length);
    res.writeHead(response.status, out);
    res.end(response.status === 204 || response.status === 304 ? undefined : payload);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
