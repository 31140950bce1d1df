/** The trivial upstream of the proxy rows: any request gets the same small JSON answer (no work of its own). */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announce } from '../lib/serve.js';

const body = '{"upstream":true}';
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => announce((server.address() as AddressInfo).port, () => new Promise((r) => server.close(r))));
