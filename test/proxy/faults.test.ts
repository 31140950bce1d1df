import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/net.js';
import { startEcho, type EchoServer } from '../helpers/echo.js';
import type { TestKeygate } from '../helpers/keygate.js';
import { login, send, startProxy, type Login } from './helpers.js';

/** A TCP server that does `behave` with each connection once it has read a request head: the faulty upstream. */
async function faultyUpstream(behave: (socket: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', (chunk) => {
      if (head.includes('\r\n\r\n')) return;
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) behave(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Bytes written on a raw socket, and everything that came back until the server closed it (or `ms` passed). */
function rawExchange(port: number, bytes: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => { socket.destroy(); resolve(text); }, ms);
    socket.on('data', (chunk) => (text += chunk.toString('latin1')));
    socket.on('close', () => { clearTimeout(timer); resolve(text); });
    socket.on('error', reject);
    socket.write(bytes);
  });
}

describe('reverse-proxy mode: an upstream that fails, and hostile framing', () => {
  const stops: Array<() => Promise<void>> = [];
  let alice: Login;
  let auth: Record<string, string>;

  /** Keygate in front of `upstream`, stopped after the suite; logs in once (every instance shares nothing else). */
  async function proxyTo(upstream: string, env: Record<string, string> = {}): Promise<TestKeygate> {
    const kg = await startProxy(upstream, [], env);
    stops.push(() => kg.cleanup());
    alice = await login(kg, 'alice@example.com', 'alice');
    auth = { authorization: `Bearer ${alice.token}`, accept: 'application/json' };
    return kg;
  }

  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  it('PX-06 the upstream refuses the connection (port closed): 502 bad_gateway, quickly', async () => {
    const kg = await proxyTo(`http://127.0.0.1:${await freePort()}`);
    const started = Date.now();
    const answer = await send(kg.base, '/orders', auth);
    assert.equal(answer.status, 502, answer.body);
    assert.equal(JSON.parse(answer.body).error, 'bad_gateway');
    assert.ok(Date.now() - started < 3000);
  });

  it('PX-07 the upstream accepts and never answers: 504 gateway_timeout after UPSTREAM_TIMEOUT_MS, no hang', async () => {
    const hang = await faultyUpstream(() => {});
    stops.push(hang.close);
    const kg = await proxyTo(`http://127.0.0.1:${hang.port}`, { UPSTREAM_TIMEOUT_MS: '500' });
    const started = Date.now();
    const answer = await send(kg.base, '/orders', auth);
    const elapsed = Date.now() - started;
    assert.equal(answer.status, 504, answer.body);
    assert.equal(JSON.parse(answer.body).error, 'gateway_timeout');
    assert.ok(elapsed >= 450 && elapsed < 3000, `answered after ${elapsed} ms`);
  });

  it('PX-08 the upstream answers garbage (not HTTP): 502, and Keygate keeps serving', async () => {
    const garbage = await faultyUpstream((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n\u0000\u0001garbage\r\n\r\n'));
    stops.push(garbage.close);
    const kg = await proxyTo(`http://127.0.0.1:${garbage.port}`);
    const answer = await send(kg.base, '/orders', auth);
    assert.equal(answer.status, 502, answer.body);
    assert.equal(JSON.parse(answer.body).error, 'bad_gateway');
    assert.equal((await send(kg.base, '/healthz')).status, 200);
  });

  it('PX-09 the upstream closes mid-body: the client\'s connection is cut (never a hang, never a complete-looking answer)', async () => {
    const cut = await faultyUpstream((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n');
      socket.write('x'.repeat(1000));
      setTimeout(() => socket.destroy(), 50);
    });
    stops.push(cut.close);
    const kg = await proxyTo(`http://127.0.0.1:${cut.port}`);
    const started = Date.now();
    await assert.rejects(send(kg.base, '/file', auth), (error: Error & { code?: string }) => {
      assert.match(String(error.code ?? error.message), /ECONNRESET|aborted|socket hang up/i);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
    assert.equal((await send(kg.base, '/healthz')).status, 200);
  });

  it('PX-10 request smuggling: Content-Length and Transfer-Encoding together answer 400, and nothing reaches the upstream', async () => {
    const echo: EchoServer = await startEcho();
    stops.push(() => echo.close());
    const kg = await proxyTo(`http://${echo.address}`);
    const before = echo.requests.length;
    const smuggled = 'GET /admin HTTP/1.1\r\nHost: x\r\n\r\n';
    const body = `0\r\n\r\n${smuggled}`;
    const text = await rawExchange(Number(kg.base.port),
      `POST /orders HTTP/1.1\r\nHost: ${kg.base.host}\r\nAuthorization: Bearer ${alice.token}\r\n`
      + `Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.equal((text.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'one answer, no second (smuggled) request');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(echo.requests.length, before);
    // A duplicated Content-Length and an obfuscated Transfer-Encoding are refused the same way.
    const twice = await rawExchange(Number(kg.base.port),
      `POST /orders HTTP/1.1\r\nHost: ${kg.base.host}\r\nContent-Length: 3\r\nContent-Length: 40\r\n\r\nabc`);
    assert.match(twice, /^HTTP\/1\.1 400 /);
    const obfuscated = await rawExchange(Number(kg.base.port),
      `POST /orders HTTP/1.1\r\nHost: ${kg.base.host}\r\nContent-Length: 5\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`);
    assert.match(obfuscated, /^HTTP\/1\.1 400 /);
    assert.equal(echo.requests.length, before);
  });
});
