import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server received it. `rawHeaders` keeps repeats and letter case. */
export interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  /** Bytes of body received. */
  bodyBytes: number;
}

export interface EchoServer {
  /** `127.0.0.1:<port>`, as a proxy's upstream address. */
  address: string;
  port: number;
  requests: Recorded[];
  /** The last request received; fails the test when there was none. */
  last(): Recorded;
  close(): Promise<void>;
}

/**
 * An upstream application for proxy tests: a real HTTP server on loopback that records every request it receives
 * (method, URL, headers, body size) and answers 200 with `{"upstream":true,"url":…}`, or 101 and an echo to an
 * upgrade (unless `upgrades` is false). `answer` may replace the answer (e.g. to stand where Keygate's /auth would, to
 * see what a proxy sends there).
 */
export async function startEcho(
  answer?: (request: Recorded) => { status: number; headers?: Record<string, string | string[]> } | undefined,
  options: { upgrades?: boolean } = {},
): Promise<EchoServer> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => (bodyBytes += chunk.length));
    req.on('end', () => {
      const recorded: Recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes };
      requests.push(recorded);
      const custom = answer?.(recorded);
      res.writeHead(custom?.status ?? 200, { 'content-type': 'application/json', ...(custom?.headers ?? {}) });
      res.end(JSON.stringify({ upstream: true, url: recorded.url }));
    });
  });
  // A WebSocket-style upgrade: recorded, accepted with 101, then every byte is echoed back. Without a listener
  // (`upgrades: false`), Node answers an upgrade request as an ordinary one.
  if (options.upgrades !== false) server.on('upgrade', (req, socket) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes: 0 });
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade ?? ''}\r\nConnection: Upgrade\r\n\r\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    requests,
    last() {
      const request = requests.at(-1);
      if (!request) throw new Error('the upstream received no request');
      return request;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Every value of header `name` (any letter case) in a raw header list. */
export function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === name.toLowerCase()) values.push(rawHeaders[i + 1]!);
  return values;
}

/** A WebSocket-style upgrade through the proxy: 'echo:<data>' when upgraded and the data came back, else 'status:<n>'. */
export function upgrade(port: number, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers } });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to the upgrade of ${path} within 10 s`)));
    req.on('upgrade', (_res, socket) => {
      socket.once('data', (data: Buffer) => {
        socket.destroy();
        resolve(`echo:${data.toString()}`);
      });
      socket.write('ping');
    });
    req.on('response', (res) => {
      res.resume();
      resolve(`status:${res.statusCode}`);
    });
    req.on('error', reject);
    req.end();
  });
}
