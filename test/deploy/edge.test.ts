/**
 * Keygate at the edge, for real: nginx and Caddy run the files in deploy/ in front of a recording upstream, and ask a
 * real Keygate (development provider, ROUTES file) about every request; logins go through the real provider.
 * The EP cases are in docs/security.md.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { Agent } from '../helpers/agent.js';
import { headerValues, startEcho, upgrade, type EchoServer, type Recorded } from '../helpers/echo.js';
import { loginThroughProxy, startCaddy, startNginx, type RunningProxy } from '../helpers/edge-proxy.js';
import { loginAs, startDevKeygate, type TestKeygate } from '../helpers/keygate.js';

const ROUTES = [
  { path: '/public/*', methods: ['GET', 'HEAD'], public: true },
  { path: '/admin/*', users: ['bob@example.com'] },
];
const LOGOUTS = 20;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** What the upstream received for this request (nothing when the proxy refused it). */
  ups: Recorded[];
}

describe('nginx and Caddy with the files in deploy/, in front of a real Keygate', () => {
  let dir: string;
  let kg: TestKeygate;
  let kgRunning = false;
  let upstream: EchoServer;
  const proxies: Partial<Record<'nginx' | 'caddy', RunningProxy>> = {};
  let jwks: ReturnType<typeof jose.createRemoteJWKSet>;
  let alice: { token: string; sub: string };
  let bob: { token: string; sub: string };

  async function login(email: string, password: string) {
    const { token } = await loginAs(new Agent(), kg.base, email, password);
    return { token, sub: String(jose.decodeJwt(token).sub) };
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keygate-deploy-'));
    writeFileSync(join(dir, 'routes.json'), JSON.stringify(ROUTES));
    // The proxies' ports are not known yet: every port of 127.0.0.1 may be a returnTo.
    // nginx and Caddy reach Keygate from loopback: their X-Forwarded-Host and -Proto are believed.
    kg = await startDevKeygate({ ROUTES: join(dir, 'routes.json'), ALLOWED_REDIRECT_HOSTS: '127.0.0.1', TRUST_PROXY: '127.0.0.1' });
    kgRunning = true;
    upstream = await startEcho();
    const targets = { keygate: kg.base.host, upstream: upstream.address };
    proxies.nginx = await startNginx(targets);
    proxies.caddy = await startCaddy(targets);
    jwks = jose.createRemoteJWKSet(new URL('/.well-known/jwks.json', kg.base));
    alice = await login('alice@example.com', 'alice');
    bob = await login('bob@example.com', 'bob');
  });
  after(async () => {
    await Promise.all(Object.values(proxies).map((p) => p.stop()));
    if (kgRunning) await kg?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One request through a proxy, the path and headers exactly as given (no client-side normalisation). */
  function send(proxy: RunningProxy, path: string, headers: OutgoingHttpHeaders = {}, method = 'GET'): Promise<Answer> {
    const before = upstream.requests.length;
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: proxy.port, path, method, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ups: upstream.requests.slice(before) }));
      });
      req.setTimeout(10_000, () => req.destroy(new Error(`${proxy.name} did not answer ${method} ${path} within 10 s`)));
      req.on('error', reject);
      req.end();
    });
  }
  const one = (request: Recorded, name: string) => {
    const values = headerValues(request.rawHeaders, name);
    assert.ok(values.length <= 1, `${name} reached the upstream ${values.length} times: ${JSON.stringify(values)}`);
    return values[0] ?? '';
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  /** The identity the upstream received, its assertion verified as an upstream would (jose and Keygate's JWKS). */
  async function identityAt(proxy: RunningProxy, request: Recorded) {
    const assertion = one(request, 'x-keygate-assertion');
    const { payload, protectedHeader } = await jose.jwtVerify(assertion, jwks, { issuer: kg.base.origin, audience: proxy.origin, algorithms: ['ES256'] });
    assert.ok(payload.exp! - payload.iat! <= 60);
    assert.equal(protectedHeader.alg, 'ES256');
    return { user: one(request, 'x-auth-request-user'), email: one(request, 'x-auth-request-email'), sub: payload.sub, claimedEmail: payload.email };
  }

  for (const name of ['nginx', 'caddy'] as const) {
    const proxy = () => proxies[name]!;

    it(`${name}: the token of a live login passes, and the upstream gets the identity with an assertion it verifies`, async () => {
      const r = await send(proxy(), '/orders/7?x=1', bearer(alice.token), 'POST');
      assert.equal(r.status, 200, `${r.body}\n${proxy().output()}`);
      assert.equal(r.ups.length, 1);
      assert.equal(r.ups[0]!.method, 'POST');
      assert.equal(r.ups[0]!.url, '/orders/7?x=1');
      assert.deepEqual(await identityAt(proxy(), r.ups[0]!), { user: alice.sub, email: 'alice@example.com', sub: alice.sub, claimedEmail: 'alice@example.com' });
    });

    it(`${name}: no credentials, a bad token: Keygate's 401 (RFC 6750 JSON and challenge), nothing reaches the upstream`, async () => {
      for (const headers of [{ accept: 'application/json' }, bearer(`${alice.token.slice(0, -4)}AAAA`), bearer('not-a-jwt')]) {
        const r = await send(proxy(), '/orders/7', headers);
        assert.equal(r.status, 401, r.body);
        assert.match(String(r.headers['www-authenticate']), /^Bearer(?: |$)/);
        assert.equal(typeof (JSON.parse(r.body) as { error?: unknown }).error, 'string');
        assert.equal(r.ups.length, 0);
      }
    });

    it(`${name}: public and policy routes of the ROUTES file`, async () => {
      const open = await send(proxy(), '/public/page');
      assert.equal(open.status, 200, open.body);
      assert.equal(one(open.ups[0]!, 'x-auth-request-user'), '');
      assert.equal(one(open.ups[0]!, 'x-keygate-assertion'), '');
      // The public rule is for GET and HEAD only.
      assert.equal((await send(proxy(), '/public/page', {}, 'POST')).status, 401);
      const refused = await send(proxy(), '/admin/users', bearer(alice.token));
      assert.equal(refused.status, 403, refused.body);
      assert.equal((JSON.parse(refused.body) as { error: string }).error, 'access_denied');
      assert.match(String(refused.headers['www-authenticate']), /^Bearer error="access_denied"/);
      assert.equal(refused.ups.length, 0);
      const allowed = await send(proxy(), '/admin/users', bearer(bob.token));
      assert.equal(allowed.status, 200, allowed.body);
      assert.equal((await identityAt(proxy(), allowed.ups[0]!)).email, 'bob@example.com');
    });

    it(`${name}: a browser navigation without a session goes to the login and comes back through the proxy with a session`, async () => {
      const start = new URL('/app/page?a=1&b=two%20words', proxy().origin);
      const { login, response, url } = await loginThroughProxy(start, kg.base.host, 'alice@example.com', 'alice');
      assert.equal(`${login.origin}${login.pathname}`, `${kg.base.origin}/login`);
      assert.equal(login.searchParams.get('returnTo'), start.href);
      assert.equal(url.href, start.href);
      assert.equal(response.status, 200);
      const seen = upstream.last();
      assert.equal(seen.url, '/app/page?a=1&b=two%20words');
      assert.equal((await identityAt(proxy(), seen)).email, 'alice@example.com');
      // An API call without credentials is not redirected.
      assert.equal((await send(proxy(), '/app/page', { accept: 'application/json' })).status, 401);
    });
  }

  it('nginx and Caddy: a WebSocket handshake is decided by Keygate: upgraded with the identity for a live login, 401 without', async () => {
    for (const proxy of Object.values(proxies)) {
      const before = upstream.requests.length;
      assert.equal(await upgrade(proxy.port, '/socket', { accept: 'application/json' }), 'status:401', proxy.name);
      assert.equal(upstream.requests.length, before, proxy.name);
      assert.equal(await upgrade(proxy.port, '/socket', bearer(alice.token)), 'echo:ping', `${proxy.name}\n${proxy.output()}`);
      assert.equal((await identityAt(proxy, upstream.last())).email, 'alice@example.com');
    }
  });

  const FORGED_IDENTITY = {
    'X-Auth-Request-User': 'admin',
    'x-auth-request-email': 'bob@example.com',
    'X-Auth-Request-Groups': 'admins',
    'X-Keygate-Assertion': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
    'X-Forwarded-User': 'admin',
    'X-Forwarded-Email': 'bob@example.com',
  };

  async function forgedIdentityNeverPasses(proxy: RunningProxy) {
    // With alice's token, on a public route (no identity from Keygate) and with duplicated forged lines.
    const withToken = await send(proxy, '/orders/1', { ...bearer(alice.token), ...FORGED_IDENTITY });
    assert.equal(withToken.status, 200, withToken.body);
    assert.deepEqual(await identityAt(proxy, withToken.ups[0]!), { user: alice.sub, email: 'alice@example.com', sub: alice.sub, claimedEmail: 'alice@example.com' });
    const anonymous = await send(proxy, '/public/page', { ...FORGED_IDENTITY, 'X-Auth-Request-User': ['admin', 'root'] });
    assert.equal(anonymous.status, 200, anonymous.body);
    for (const request of [withToken.ups[0]!, anonymous.ups[0]!]) {
      for (const header of ['x-auth-request-groups', 'x-forwarded-user', 'x-forwarded-email']) assert.equal(one(request, header), '', header);
    }
    for (const header of ['x-auth-request-user', 'x-auth-request-email', 'x-keygate-assertion']) assert.equal(one(anonymous.ups[0]!, header), '', header);
  }

  it('EP-01 nginx: client-forged identity headers (X-Auth-Request-*, X-Keygate-Assertion, X-Forwarded-User) never reach the upstream', async () => {
    await forgedIdentityNeverPasses(proxies.nginx!);
  });

  it('EP-02 Caddy: client-forged identity headers never reach the upstream', async () => {
    await forgedIdentityNeverPasses(proxies.caddy!);
  });

  async function forgedForwardingIgnored(proxy: RunningProxy) {
    const forged = {
      'X-Forwarded-Host': 'evil.example',
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-For': '203.0.113.9',
      'X-Real-IP': '203.0.113.9',
      Forwarded: 'for=203.0.113.9;host=evil.example;proto=https',
    };
    const r = await send(proxy, '/orders/2', { ...bearer(alice.token), ...forged });
    assert.equal(r.status, 200, r.body);
    const seen = r.ups[0]!;
    // The assertion is made for the proxy's own origin (jwtVerify checks aud), not the forged host or scheme.
    await identityAt(proxy, seen);
    assert.equal(one(seen, 'x-forwarded-host'), `127.0.0.1:${proxy.port}`);
    assert.equal(one(seen, 'x-forwarded-proto'), 'http');
    assert.equal(one(seen, 'x-forwarded-for'), '127.0.0.1');
    assert.equal(one(seen, 'x-real-ip'), proxy.name === 'nginx' ? '127.0.0.1' : '');
    assert.equal(one(seen, 'forwarded'), '');
  }

  it('EP-03 nginx: forged X-Forwarded-Host, -Proto and -For from the client are replaced, not trusted', async () => {
    await forgedForwardingIgnored(proxies.nginx!);
  });

  it('EP-04 Caddy: forged X-Forwarded-Host, -Proto and -For from the client are replaced, not trusted', async () => {
    await forgedForwardingIgnored(proxies.caddy!);
  });

  it('EP-05 nginx and Caddy: a client X-Original-URI or X-Forwarded-Uri naming a public path does not open a protected one', async () => {
    for (const proxy of Object.values(proxies)) {
      for (const header of ['X-Original-URI', 'X-Forwarded-Uri']) {
        const r = await send(proxy, '/admin/users', { [header]: '/public/page', 'X-Original-Method': 'GET', 'X-Forwarded-Method': 'GET' });
        assert.equal(r.status, 401, `${proxy.name} ${header}: ${r.body}`);
        assert.equal(r.ups.length, 0);
      }
    }
  });

  it('EP-06 nginx and Caddy: path tricks reach no weaker rule (/public/..%2Fadmin refused, /public/../admin and //admin decided by the admin rule)', async () => {
    for (const proxy of Object.values(proxies)) {
      // Keygate answers 400; nginx's auth_request makes a 500 of it, and @keygate_error gives the 400 back.
      for (const path of ['/public/..%2Fadmin/users', '/public/..%5Cadmin/users', '/public/%2e%2e%2fadmin/users']) {
        const r = await send(proxy, path, bearer(alice.token));
        assert.equal(r.status, 400, `${proxy.name} ${path}: ${r.body}`);
        assert.match(r.body, /invalid_request/);
        assert.equal(r.ups.length, 0);
      }
      // Alice is not on the admin rule: 403.
      for (const path of ['/public/../admin/users', '//admin/users', '/public/%2e%2e/admin/users']) {
        const r = await send(proxy, path, bearer(alice.token));
        assert.equal(r.status, 403, `${proxy.name} ${path}: ${r.body}`);
        assert.equal(r.ups.length, 0, `${proxy.name} ${path}`);
      }
    }
  });

  it(`nginx: logout ends the login at the edge, the next request is refused (${LOGOUTS} logouts, delays measured)`, async (t) => {
    const nginx = proxies.nginx!;
    const logoutMs: number[] = [];
    const refusedMs: number[] = [];
    for (let i = 0; i < LOGOUTS; i++) {
      const { token } = await login(i % 2 === 0 ? 'alice@example.com' : 'bob@example.com', i % 2 === 0 ? 'alice' : 'bob');
      assert.equal((await send(nginx, '/orders/9', bearer(token))).status, 200);
      const started = performance.now();
      const logout = await fetch(new URL('/logout', kg.base), { method: 'POST', headers: bearer(token), signal: AbortSignal.timeout(10_000) });
      await logout.arrayBuffer();
      assert.ok(logout.status < 400, `logout ${logout.status}`);
      const loggedOut = performance.now();
      const next = await send(nginx, '/orders/9', bearer(token));
      const refused = performance.now();
      assert.equal(next.status, 401, `round ${i}: ${next.body}`);
      assert.equal(next.ups.length, 0);
      logoutMs.push(loggedOut - started);
      refusedMs.push(refused - loggedOut);
    }
    const stats = (ms: number[]) => {
      const s = [...ms].sort((a, b) => a - b);
      return `min ${s[0]!.toFixed(1)} ms, median ${s[s.length >> 1]!.toFixed(1)} ms, max ${s.at(-1)!.toFixed(1)} ms`;
    };
    t.diagnostic(`POST /logout answered, over ${LOGOUTS} logouts: ${stats(logoutMs)}`);
    t.diagnostic(`logout answered → the next request through nginx refused (401), over ${LOGOUTS}: ${stats(refusedMs)}`);
  });

  it('EP-07 Keygate stopped: nginx and Caddy fail closed (5xx), nothing reaches the upstream', async () => {
    await kg.close();
    kgRunning = false;
    for (const proxy of Object.values(proxies)) {
      for (const path of ['/orders/1', '/public/page']) {
        const r = await send(proxy, path, bearer(alice.token));
        assert.ok(r.status >= 500 && r.status < 600, `${proxy.name} ${path}: ${r.status}`);
        assert.equal(r.ups.length, 0);
      }
    }
  });
});
