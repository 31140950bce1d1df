/** Ceiling: bare node:http, no verification; the same Map get and JSON answer as every peer. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { announce, serverEnv } from '../lib/serve.js';

const { port, sessions } = serverEnv();
const exp = Math.floor(Date.now() / 1000) + 3600;
const server = createServer((req, res) => {
  const session = req.url === '/protected' ? sessions.get('user-0') : undefined;
  if (session === undefined) {
    res.writeHead(404).end();
    return;
  }
  const body = JSON.stringify({ ...session, exp });
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
});
server.listen(port, '127.0.0.1', () => announce((server.address() as AddressInfo).port, () => new Promise((r) => server.close(r))));
