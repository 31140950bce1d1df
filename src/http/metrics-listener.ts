import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { MetricsEndpoint } from './metrics.js';

export interface MetricsListener {
  /** e.g. http://127.0.0.1:9464 */
  url: string;
  close(): Promise<void>;
}

const json = (status: number, error: string, description: string) => JSON.stringify({ error, error_description: description, status });

/**
 * `GET /metrics` (and `HEAD`) on a listener of its own (`METRICS_ADDRESS`), kept off the public port: a plain
 * `node:http` server that answers nothing else (404, 405), reads no body and keeps no connection idle for long.
 */
export async function listenForMetrics(endpoint: MetricsEndpoint, address: { host: string; port: number }, log: (error: unknown) => void): Promise<MetricsListener> {
  const server = createServer({ maxHeaderSize: 8 * 1024, requestTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(json(404, 'not_found', 'Only /metrics is served here.'));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json; charset=utf-8', allow: 'GET, HEAD' }).end(json(405, 'method_not_allowed', 'GET /metrics only.'));
      return;
    }
    endpoint.render().then(
      (body) => res.writeHead(200, { 'content-type': endpoint.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (error: unknown) => {
        log(error);
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(json(500, 'server_error', 'The metrics could not be collected.'));
      },
    );
  });
  server.listen(address.port, address.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
  const { port } = server.address() as AddressInfo;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return {
    url: `http://${host}:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
