import net from 'node:net';

/**
 * A stand-in for a pooler that caches credentials (Supabase's Supavisor): a TCP proxy to a real
 * Postgres that, after `changed()`, answers every new login with what Supavisor sends while its
 * cache is stale (an ErrorResponse FATAL 28P01 "password authentication failed") for
 * `refuseMs` on the given clock (the run's, so a fake clock's waits count), or forever.
 * Accepted connections are piped to the server untouched: the login there is real.
 */
export interface PoolerStandIn {
  port: number;
  /** A password change happened: refuse new logins for `refuseMs` (Infinity: never accept again). */
  changed(): void;
  /** Logins refused so far. */
  refused: number;
  stop(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

export async function startPoolerStandIn(
  target: { host: string; port: number },
  options: { refuseMs: number; now: () => number },
): Promise<PoolerStandIn> {
  let refuseUntil = -Infinity;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const standIn: PoolerStandIn = {
    port: 0,
    refused: 0,
    changed() {
      refuseUntil = options.refuseMs === Infinity ? Infinity : options.now() + options.refuseMs;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = net.createServer((client) => {
    track(client);
    if (options.now() < refuseUntil) return refuse(client, () => standIn.refused++);
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  standIn.port = (server.address() as net.AddressInfo).port;
  return standIn;
}

/** Reads the startup packet (declining TLS and GSS), then answers FATAL 28P01 and closes. */
function refuse(client: net.Socket, counted: () => void): void {
  let buffer = Buffer.alloc(0);
  client.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    while (buffer.length >= 8) {
      const length = buffer.readInt32BE(0);
      if (buffer.length < length) return;
      const code = buffer.readInt32BE(4);
      buffer = buffer.subarray(length);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        client.write('N');
        continue;
      }
      const user = /user\0([^\0]*)\0/.exec(chunk.toString('latin1'))?.[1] ?? '';
      counted();
      client.end(errorResponse('28P01', `password authentication failed for user "${user}"`));
      return;
    }
  });
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}
