import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { WebSocket } from 'ws';
import { Agent } from '../helpers/agent.js';
import { freePort } from '../helpers/net.js';
import { loginAs } from '../helpers/keygate.js';
import { TestRedis } from '../helpers/redis.js';
import { logoutWithToken, sharedSetup, type Instance, type SharedSetup } from '../helpers/shared-redis.js';
import { startWsEcho, type WsEchoServer } from '../helpers/ws-echo.js';
import type { TestKeygate } from '../helpers/keygate.js';
import { login, send, startProxy, type Login } from './helpers.js';

/** Opens a WebSocket through the proxy; resolves when open, rejects with the HTTP status when refused. */
function openSocket(base: URL, path: string, headers: Record<string, string>, protocols: string[] = []): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    url.protocol = 'ws:';
    const socket = new WebSocket(url, protocols, { headers, handshakeTimeout: 10_000 });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => reject(Object.assign(new Error(`refused with ${res.statusCode}: ${body}`), { status: res.statusCode, body, headers: res.headers })));
    });
    socket.once('error', reject);
  });
}

async function echoOnce(socket: WebSocket, text: string): Promise<string> {
  const reply = once(socket, 'message');
  socket.send(text);
  const [data] = await reply;
  return String(data);
}

/** Resolves with the close code and reason, and how long after `since` it came. */
async function closed(socket: WebSocket, since: number): Promise<{ code: number; reason: string; ms: number }> {
  if (socket.readyState === WebSocket.CLOSED) throw new Error('already closed');
  const [code, reason] = (await once(socket, 'close')) as [number, Buffer];
  return { code, reason: reason.toString(), ms: performance.now() - since };
}

const refusal = (error: unknown) => (error as { status?: number }).status;

describe('reverse-proxy mode: WebSockets', () => {
  let echo: WsEchoServer;
  let kg: TestKeygate & { cleanup(): Promise<void> };
  let alice: Login;

  before(async () => {
    echo = await startWsEcho();
    kg = await startProxy(`http://${echo.address}`, [{ path: '/public/*', methods: ['GET'], public: true }]);
    alice = await login(kg, 'alice@example.com', 'alice');
  });
  after(async () => {
    await kg?.cleanup();
    await echo?.close();
  });

  it('WS-01 a WebSocket with a bearer token is checked at the handshake, then echoed through; the upstream sees the identity headers', async () => {
    const socket = await openSocket(kg.base, '/live/feed?room=1', { authorization: `Bearer ${alice.token}`, 'x-auth-request-user': 'admin', 'x-keygate-assertion': 'forged' }, ['echo']);
    try {
      assert.equal(socket.protocol, 'echo', 'the subprotocol the upstream chose');
      assert.equal(await echoOnce(socket, 'hello'), 'hello');
      const big = 'x'.repeat(200_000);
      assert.equal(await echoOnce(socket, big), big);
      const seen = echo.handshakes.at(-1)!;
      assert.equal(seen.url, '/live/feed?room=1');
      assert.equal(seen.headers['x-auth-request-user'], jose.decodeJwt(alice.token).sub);
      assert.equal(seen.headers['x-auth-request-email'], 'alice@example.com');
      assert.notEqual(seen.headers['x-keygate-assertion'], 'forged');
      assert.ok(String(seen.headers['x-keygate-assertion']).split('.').length === 3);
      assert.equal(seen.headers.authorization, `Bearer ${alice.token}`);
    } finally {
      socket.close();
    }
  });

  it('WS-02 a handshake without credentials is refused with 401 and no upgrade; nothing reaches the upstream', async () => {
    const before = echo.handshakes.length;
    const error = await openSocket(kg.base, '/live/feed', {}).then(() => undefined, (e: unknown) => e);
    assert.equal(refusal(error), 401);
    assert.equal((error as { headers: Record<string, string> }).headers['www-authenticate'], 'Bearer');
    const forged = await openSocket(kg.base, '/live/feed', { cookie: 'keygate_session=forged.value' }).then(() => undefined, (e: unknown) => e);
    assert.equal(refusal(forged), 401);
    assert.equal(echo.handshakes.length, before);
    // A public route needs none.
    const open = await openSocket(kg.base, '/public/ticker', {});
    open.close();
  });

  it('WS-03 a handshake with a revoked token (logged out) is refused with 401 invalid_token', async () => {
    const bob = await login(kg, 'bob@example.com', 'bob');
    assert.equal((await logoutWithToken(kg.base, bob.token)).status, 200);
    const before = echo.handshakes.length;
    const error = await openSocket(kg.base, '/live/feed', { authorization: `Bearer ${bob.token}` }).then(() => undefined, (e: unknown) => e);
    assert.equal(refusal(error), 401);
    assert.match((error as { headers: Record<string, string> }).headers['www-authenticate']!, /invalid_token/);
    assert.equal(echo.handshakes.length, before);
  });

  it('WS-04 an open WebSocket is closed within a second of its login\'s logout (bearer and cookie), on both sides', async () => {
    const delays: number[] = [];
    for (let round = 0; round < 6; round++) {
      const user = await login(kg, 'alice@example.com', 'alice');
      const byCookie = round % 2 === 1;
      const session = `keygate_session=${user.agent.cookie(kg.base.host, 'keygate_session')}`;
      const socket = await openSocket(kg.base, '/live/feed', byCookie ? { cookie: session } : { authorization: `Bearer ${user.token}` });
      assert.equal(await echoOnce(socket, 'before'), 'before');
      const upstreamCloses = echo.closes.length;
      const started = performance.now();
      const close = closed(socket, started);
      const out = await logoutWithToken(kg.base, user.token);
      assert.equal(out.status, 200);
      const { code, reason, ms } = await close;
      assert.equal(code, 4401);
      assert.equal(reason, 'login ended');
      assert.ok(ms < 1000, `closed ${ms.toFixed(0)} ms after the logout`);
      delays.push(ms);
      for (let i = 0; i < 50 && echo.closes.length === upstreamCloses; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(echo.closes.length, upstreamCloses + 1, 'the upstream side is closed too');
    }
    console.log(`WebSocket closed after logout: ${delays.map((d) => d.toFixed(0)).join(', ')} ms (max ${Math.max(...delays).toFixed(0)} ms)`);
  });

  it('WS-05 the upstream is down at the handshake: 502 on the socket; it never answers: 504; no upgrade either way', async () => {
    const down = await startProxy(`http://127.0.0.1:${await freePort()}`);
    try {
      const user = await login(down, 'alice@example.com', 'alice');
      const error = await openSocket(down.base, '/live', { authorization: `Bearer ${user.token}` }).then(() => undefined, (e: unknown) => e);
      assert.equal(refusal(error), 502);
      assert.equal(JSON.parse((error as { body: string }).body).error, 'bad_gateway');
    } finally {
      await down.cleanup();
    }
    // An upstream that accepts the connection and never answers the handshake: 504 after UPSTREAM_TIMEOUT_MS.
    // It reads (so that it sees Keygate hang up) and never writes.
    const silent = createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const slow = await startProxy(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`, [], { UPSTREAM_TIMEOUT_MS: '500' });
    try {
      const user = await login(slow, 'alice@example.com', 'alice');
      const started = performance.now();
      const error = await openSocket(slow.base, '/live', { authorization: `Bearer ${user.token}` }).then(() => undefined, (e: unknown) => e);
      assert.equal(refusal(error), 504);
      assert.ok(performance.now() - started < 3000);
    } finally {
      await slow.cleanup();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('flow control: a client that does not read makes Keygate stop reading the upstream, instead of holding its messages', async () => {
    const socket = await openSocket(kg.base, '/live', { authorization: `Bearer ${alice.token}` });
    try {
      // The client stops reading, then sends 40 MB that the upstream echoes back towards it.
      socket.pause();
      const message = Buffer.alloc(1024 * 1024, 0x62);
      for (let i = 0; i < 40; i++) socket.send(message);
      let held = 0;
      for (let i = 0; i < 200 && held < 20 * 1024 * 1024; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        held = echo.buffered();
      }
      // Keygate keeps about 1 MiB (plus the kernel's socket buffers); the rest waits at the upstream.
      assert.ok(held >= 20 * 1024 * 1024, `the upstream holds ${(held / 2 ** 20).toFixed(1)} MB`);
      console.log(`flow control: the upstream holds ${(held / 2 ** 20).toFixed(1)} MB of 40 MB while the client does not read`);
      socket.resume();
      let received = 0;
      await new Promise<void>((resolve) => socket.on('message', (data: Buffer) => { received += data.length; if (received >= 40 * message.length) resolve(); }));
      assert.equal(received, 40 * message.length);
    } finally {
      socket.close();
    }
  });

  it('stopping Keygate closes its open WebSockets at once (a public one included) instead of waiting for them', { timeout: 15_000 }, async () => {
    const other = await startProxy(`http://${echo.address}`, [{ path: '/public/*', methods: ['GET'], public: true }]);
    const user = await login(other, 'alice@example.com', 'alice');
    const sockets = [await openSocket(other.base, '/public/ticker', {}), await openSocket(other.base, '/live', { authorization: `Bearer ${user.token}` })];
    const started = performance.now();
    const ends = sockets.map((socket) => once(socket, 'close'));
    await other.cleanup();
    await Promise.all(ends);
    assert.ok(performance.now() - started < 3000, `stopped after ${(performance.now() - started).toFixed(0)} ms`);
  });

  it('WS-07 a non-WebSocket upgrade (h2c) through the proxy is refused with 400', async () => {
    const answer = await send(kg.base, '/live', { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA', authorization: `Bearer ${alice.token}` });
    assert.equal(answer.status, 400);
  });
});

describe('reverse-proxy mode: WebSockets and a logout on another instance (shared Redis)', () => {
  let redis: TestRedis;
  let setup: SharedSetup;
  let echo: WsEchoServer;
  let a: Instance;
  let b: Instance;

  before(async () => {
    redis = await TestRedis.start();
    echo = await startWsEcho();
    setup = await sharedSetup(2);
    a = await setup.startInstance(0, redis.url, { UPSTREAM: `http://${echo.address}` });
    b = await setup.startInstance(1, redis.url, { UPSTREAM: `http://${echo.address}` });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await setup?.idp.close();
    await echo?.close();
    await redis?.stop();
  });

  it('WS-06 a WebSocket open on instance B is closed within a second of a logout on instance A', async () => {
    const delays: number[] = [];
    for (let round = 0; round < 3; round++) {
      const { token } = await loginAs(new Agent(), a.base, 'alice@example.com', 'alice');
      const socket = await openSocket(b.base, '/live', { authorization: `Bearer ${token}` });
      assert.equal(await echoOnce(socket, 'hi'), 'hi');
      const started = performance.now();
      const close = closed(socket, started);
      assert.equal((await logoutWithToken(a.base, token)).status, 200);
      const { code, ms } = await close;
      assert.equal(code, 4401);
      assert.ok(ms < 1000, `closed ${ms.toFixed(0)} ms after the logout on the other instance`);
      delays.push(ms);
    }
    console.log(`WebSocket on B closed after a logout on A: ${delays.map((d) => d.toFixed(0)).join(', ')} ms`);
  });
});
