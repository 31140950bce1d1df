import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.js';
import { startDevIdp, type RunningDevIdp } from '../../src/dev-idp/index.js';
import { startKeygate, type RunningKeygate } from '../../src/server.js';
import { Agent } from '../helpers/agent.js';
import { loginAs, textOf } from '../helpers/keygate.js';
import { freePort } from '../helpers/net.js';

const USERS = [{ email: 'alice@example.com', password: 'alice', name: 'Alice Example' }];
const SECRET = 'test-client-secret-that-is-long-enough-0123456789';

/** A TCP server that accepts connections and never answers: a hung provider. */
async function startBlackHole(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Keygate in provider mode against `issuer`, with an optional fetch that injects faults into provider calls. */
async function startAgainst(issuer: string, port: number, fetchImpl?: typeof fetch, env: Record<string, string> = {}): Promise<RunningKeygate & { base: URL }> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: String(port),
    ISSUER_URL: issuer,
    CLIENT_ID: 'keygate-test',
    CLIENT_SECRET: SECRET,
    SECRET_KEY: 'k'.repeat(40),
    PROVIDER_TIMEOUT_MS: '1000',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const running = await startKeygate(config, { logger: false, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  return { ...running, base: new URL(`http://127.0.0.1:${port}`) };
}

async function page(base: URL, path: string, agent = new Agent()) {
  const started = Date.now();
  const response = await agent.request(new URL(path, base), { headers: { accept: 'text/html' } });
  return { status: response.status, text: textOf(await response.text()), ms: Date.now() - started };
}

describe('a provider that is down, hangs or answers garbage gives a clear 502/503/504, never a 500 or a hang', () => {
  it('down (connection refused): /login 502, /readyz 503, /protected 503', async () => {
    const kg = await startAgainst(`http://127.0.0.1:${await freePort()}`, await freePort());
    try {
      const login = await page(kg.base, '/login');
      assert.equal(login.status, 502);
      assert.match(login.text, /provider_unreachable/);
      const ready = await fetch(new URL('/readyz', kg.base));
      assert.equal(ready.status, 503);
      assert.equal(((await ready.json()) as { checks: { provider: string } }).checks.provider, 'unreachable');
      const api = await fetch(new URL('/protected', kg.base), { headers: { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' } });
      assert.equal(api.status, 503);
      assert.equal(((await api.json()) as { error: string }).error, 'temporarily_unavailable');
    } finally {
      await kg.close();
    }
  });

  it('down: every bearer door answers the same 503 temporarily_unavailable (/protected, POST and GET /logout, back-channel logout)', async () => {
    const kg = await startAgainst(`http://127.0.0.1:${await freePort()}`, await freePort());
    const bearer = { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', accept: 'application/json' };
    try {
      const answers = [
        await fetch(new URL('/protected', kg.base), { headers: bearer }),
        await fetch(new URL('/logout', kg.base), { method: 'POST', headers: bearer }),
        await fetch(new URL('/logout', kg.base), { headers: bearer }),
        await fetch(new URL('/backchannel-logout', kg.base), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'logout_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
        }),
      ];
      for (const response of answers) {
        assert.equal(response.status, 503, response.url);
        assert.equal(((await response.json()) as { error: string }).error, 'temporarily_unavailable', response.url);
        assert.equal(response.headers.get('retry-after'), '1');
      }
    } finally {
      await kg.close();
    }
  });

  it('hung (accepts, never answers): 504 within the timeout', async () => {
    const hole = await startBlackHole();
    const kg = await startAgainst(hole.url, await freePort());
    try {
      const login = await page(kg.base, '/login');
      assert.equal(login.status, 504);
      assert.match(login.text, /provider_timeout/);
      assert.ok(login.ms < 5000, `answered in ${login.ms} ms`);
    } finally {
      await kg.close();
      await hole.close();
    }
  });

  it('garbage discovery (not JSON, 500, wrong issuer): 502', async () => {
    const idpPort = await freePort();
    const answers = [
      () => new Response('<html>oops</html>', { status: 200, headers: { 'content-type': 'text/html' } }),
      () => new Response('{"error":"boom"}', { status: 500, headers: { 'content-type': 'application/json' } }),
      () => Response.json({ issuer: 'https://other.example', authorization_endpoint: 'https://other.example/auth', jwks_uri: 'https://other.example/jwks' }),
    ];
    for (const answer of answers) {
      const kg = await startAgainst(`http://127.0.0.1:${idpPort}`, await freePort(), async () => answer());
      try {
        const login = await page(kg.base, '/login');
        assert.equal(login.status, 502, login.text);
        assert.match(login.text, /provider_/);
      } finally {
        await kg.close();
      }
    }
  });
});

describe('faults of the token and userinfo endpoints during a real login', () => {
  let idp: RunningDevIdp;
  let port: number;
  let fault: 'none' | 'token-hang' | 'token-garbage' | 'token-500' | 'token-type' | 'userinfo-sub' = 'none';
  let kg: RunningKeygate & { base: URL };

  before(async () => {
    port = await freePort();
    idp = await startDevIdp({
      clients: [{ clientId: 'keygate-test', clientSecret: SECRET, redirectUris: [`http://127.0.0.1:${port}/callback`], postLogoutRedirectUris: [`http://127.0.0.1:${port}/`] }],
      users: USERS,
      cookieKeys: ['idp-cookie-key-0123456789'],
    });
    const faulty: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.pathname.endsWith('/token')) {
        if (fault === 'token-hang') {
          return new Promise<Response>((_resolve, reject) => {
            init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
          });
        }
        if (fault === 'token-garbage') return new Response('not json at all', { status: 200, headers: { 'content-type': 'application/json' } });
        if (fault === 'token-500') return new Response('Internal Server Error', { status: 500 });
        if (fault === 'token-type') {
          const real = await fetch(input, init);
          const body = (await real.json()) as Record<string, unknown>;
          return Response.json({ ...body, token_type: 'MAC' });
        }
      }
      if (url.pathname.endsWith('/me') && fault === 'userinfo-sub') {
        return Response.json({ sub: 'someone-else', email: 'mallory@example.com' });
      }
      return fetch(input, init);
    };
    kg = await startAgainst(idp.issuer, port, faulty);
  });
  after(async () => {
    await kg.close();
    await idp.close();
  });

  for (const [name, status, code] of [
    ['token-hang', 504, 'provider_timeout'],
    ['token-garbage', 502, 'provider_bad_response'],
    ['token-500', 502, 'provider_'],
    ['token-type', 502, 'provider_bad_response'],
    ['userinfo-sub', 502, 'provider_'],
  ] as const) {
    it(`${name}: ${status} ${code}, no session`, async () => {
      fault = name;
      try {
        const started = Date.now();
        await assert.rejects(loginAs(new Agent(), kg.base, 'alice@example.com', 'alice'), (error: Error) => {
          assert.match(error.message, new RegExp(`with ${status}: .*${code}`));
          return true;
        });
        assert.ok(Date.now() - started < 8000);
        assert.equal((await kg.store.stats()).sessions, 0);
      } finally {
        fault = 'none';
      }
    });
  }

  it('and recovers: the same login works once the provider behaves', async () => {
    const { token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice');
    const response = await fetch(new URL('/protected', kg.base), { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
  });
});
