/**
 * The proxy side of the /auth contract, with real nginx and real Caddy running the files in deploy/: what each
 * proxy sends to the auth endpoint (the original method and URI in the contract's headers, its own X-Forwarded-*,
 * the credentials, no body) and what it lets through to the upstream (the identity of the auth answer only, never
 * the client's copies). The auth endpoint here is a recording server answering as the test says, so that every
 * answer Keygate can give (200 with or without an identity, 401, 403, 503, nothing) is seen through each proxy; the
 * same proxies in front of a real Keygate are in edge.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { headerValues, startEcho, upgrade, type EchoServer, type Recorded } from '../helpers/echo.js';
import { startCaddy, startNginx, type RunningProxy } from '../helpers/edge-proxy.js';
import { freePort } from '../helpers/net.js';

const IDENTITY = { 'x-auth-request-user': 'user-1', 'x-auth-request-email': 'user-1@example.com', 'x-keygate-assertion': 'aaa.bbb.ccc' };
/** What a client may try to slip past the proxy: identity headers, the original request, forwarded headers. */
const FORGED = {
  'X-Auth-Request-User': 'admin',
  'x-auth-request-email': 'admin@example.com',
  'X-Auth-Request-Groups': 'admins',
  'X-Keygate-Assertion': 'forged.forged.forged',
  'X-Keygate-Anything': 'forged',
  'X-Forwarded-User': 'admin',
  'X-Original-URI': '/public/x',
  'X-Forwarded-Uri': '/public/x',
  'X-Forwarded-Method': 'GET',
  'X-Forwarded-Host': 'evil.example',
  'X-Forwarded-Proto': 'https',
  'X-Forwarded-For': '203.0.113.9',
};
const URI = '/orders/7?x=1&y=%2F&z=a%20b';

for (const start of [startNginx, startCaddy]) {
  describe(`${start === startNginx ? 'nginx' : 'Caddy'} with the file in deploy/: what reaches the auth endpoint and the upstream`, () => {
    let auth: EchoServer;
    let upstream: EchoServer;
    let proxy: RunningProxy;
    let answer: (request: Recorded) => { status: number; headers?: Record<string, string> } = () => ({ status: 200, headers: IDENTITY });
    before(async () => {
      // Keygate's /auth has no upgrade listener: neither has its stand-in.
      auth = await startEcho((request) => answer(request), { upgrades: false });
      upstream = await startEcho();
      proxy = await start({ keygate: auth.address, upstream: upstream.address });
    });
    after(async () => {
      await proxy?.stop();
      await Promise.all([auth?.close(), upstream?.close()]);
    });

    async function send(uri: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
      const authBefore = auth.requests.length;
      const upstreamBefore = upstream.requests.length;
      const response = await fetch(proxy.origin + uri, { redirect: 'manual', signal: AbortSignal.timeout(10_000), ...init });
      const text = await response.text();
      return { response, text, auths: auth.requests.slice(authBefore), ups: upstream.requests.slice(upstreamBefore) };
    }
    const one = (request: Recorded, name: string) => {
      const values = headerValues(request.rawHeaders, name);
      assert.ok(values.length <= 1, `${name} sent ${values.length} times: ${JSON.stringify(values)}`);
      return values[0];
    };

    it('the auth request carries the original method and URI (both spellings agree), the proxy\'s own forwarded headers, the credentials and no body', async () => {
      answer = () => ({ status: 200, headers: IDENTITY });
      const r = await send(URI, { method: 'POST', body: 'hello', headers: { authorization: 'Bearer t0k3n', cookie: 'keygate_session=s1; app=2', accept: 'application/json', ...FORGED } });
      assert.equal(r.response.status, 200, proxy.output());
      assert.equal(r.auths.length, 1);
      const a = r.auths[0]!;
      assert.match(a.url, /^\/auth(\?redirect=1)?$/);
      assert.equal(a.bodyBytes, 0);
      assert.equal(one(a, 'x-forwarded-uri'), URI);
      assert.equal(one(a, 'x-forwarded-method'), 'POST');
      // nginx sets both spellings; Caddy sets X-Forwarded-* and removes the client's X-Original-*.
      assert.equal(one(a, 'x-original-uri'), proxy.name === 'nginx' ? URI : undefined);
      assert.equal(one(a, 'x-original-method'), proxy.name === 'nginx' ? 'POST' : undefined);
      assert.equal(one(a, 'x-forwarded-host'), `127.0.0.1:${proxy.port}`);
      assert.equal(one(a, 'x-forwarded-proto'), 'http');
      assert.equal(one(a, 'x-forwarded-for'), '127.0.0.1');
      assert.equal(one(a, 'authorization'), 'Bearer t0k3n');
      assert.equal(one(a, 'cookie'), 'keygate_session=s1; app=2');
      assert.equal(one(a, 'accept'), 'application/json');
    });

    it('the upstream gets the request with its body and the identity of the auth answer, and none of the client\'s forged headers', async () => {
      answer = () => ({ status: 200, headers: { ...IDENTITY, 'x-auth-request-groups': 'from-auth', 'x-other': 'not copied' } });
      const r = await send(URI, { method: 'POST', body: 'hello', headers: { authorization: 'Bearer t0k3n', ...FORGED } });
      assert.equal(r.response.status, 200, proxy.output());
      assert.equal(r.ups.length, 1);
      const u = r.ups[0]!;
      assert.equal(u.method, 'POST');
      assert.equal(u.url, URI);
      assert.equal(u.bodyBytes, 5);
      for (const [name, value] of Object.entries(IDENTITY)) assert.equal(one(u, name), value, name);
      for (const name of ['x-auth-request-groups', 'x-forwarded-user', 'x-other', 'x-original-uri', 'x-original-method']) {
        assert.equal(one(u, name), undefined, name);
      }
      // nginx drops headers by name only: a name Keygate never sets passes it (docs/deploy.md says so); Caddy drops
      // the whole X-Keygate-* prefix.
      assert.equal(one(u, 'x-keygate-anything'), proxy.name === 'nginx' ? 'forged' : undefined);
      assert.equal(one(u, 'x-forwarded-host'), `127.0.0.1:${proxy.port}`);
      assert.equal(one(u, 'x-forwarded-proto'), 'http');
      assert.equal(one(u, 'x-forwarded-for'), '127.0.0.1');
      assert.equal(one(u, 'authorization'), 'Bearer t0k3n');
    });

    it('an auth answer with an empty identity (a public route): the client\'s forged identity still never reaches the upstream', async () => {
      answer = () => ({ status: 200, headers: { 'x-auth-request-user': '', 'x-auth-request-email': '', 'x-keygate-assertion': '' } });
      const r = await send('/public/page', { headers: FORGED });
      assert.equal(r.response.status, 200, proxy.output());
      const u = r.ups[0]!;
      for (const name of ['x-auth-request-user', 'x-auth-request-email', 'x-keygate-assertion', 'x-auth-request-groups']) {
        assert.ok([undefined, ''].includes(one(u, name)), `${name}: ${one(u, name)}`);
      }
    });

    it('401 and 403 from the auth endpoint: the client gets its answer (asked again with ?redirect=1), the upstream nothing', async () => {
      for (const status of [401, 403]) {
        answer = () => ({
          status,
          headers: { 'www-authenticate': `Bearer error="t${status}"`, 'cache-control': 'no-store' },
        });
        const r = await send('/orders/7', { headers: { accept: 'application/json' } });
        assert.equal(r.response.status, status, proxy.output());
        assert.equal(r.ups.length, 0);
        assert.equal(r.response.headers.get('www-authenticate'), `Bearer error="t${status}"`);
        assert.ok(r.auths.some((a) => a.url === '/auth?redirect=1'), JSON.stringify(r.auths.map((a) => a.url)));
        assert.ok(r.auths.every((a) => headerValues(a.rawHeaders, 'x-forwarded-uri')[0] === '/orders/7'));
      }
    });

    it('a login redirect from the auth endpoint reaches the browser as it is', async () => {
      const location = 'http://127.0.0.1:1/login?returnTo=http%3A%2F%2F127.0.0.1%2Forders%2F7%3Fa%3D1%26b%3D2';
      // nginx asks /auth first (401), then /auth?redirect=1; Caddy asks /auth?redirect=1 once.
      answer = (request) => {
        const headers: Record<string, string> = request.url.includes('redirect=1') ? { location } : { 'www-authenticate': 'Bearer' };
        return { status: request.url.includes('redirect=1') ? 302 : 401, headers };
      };
      const r = await send('/orders/7?a=1&b=2', { headers: { accept: 'text/html' } });
      assert.equal(r.response.status, 302, proxy.output());
      assert.equal(r.response.headers.get('location'), location);
      assert.equal(r.ups.length, 0);
    });

    it('a WebSocket handshake is asked of the auth endpoint: allowed, it is upgraded with the identity and carries data; refused, it never reaches the upstream', async () => {
      for (const status of [200, 401]) {
        answer = () => ({ status, headers: status === 200 ? IDENTITY : { 'www-authenticate': 'Bearer' } });
        const before = upstream.requests.length;
        const outcome = await upgrade(proxy.port, '/socket?room=1', { authorization: 'Bearer t0k3n', 'x-auth-request-user': 'admin' });
        if (status === 200) {
          assert.equal(outcome, 'echo:ping', proxy.output());
          const u = upstream.last();
          assert.equal(u.url, '/socket?room=1');
          assert.equal(one(u, 'x-auth-request-user'), 'user-1');
          assert.equal(one(u, 'x-keygate-assertion'), 'aaa.bbb.ccc');
        } else {
          assert.equal(outcome, 'status:401');
          assert.equal(upstream.requests.length, before);
        }
        assert.equal(headerValues(auth.last().rawHeaders, 'x-forwarded-uri')[0], '/socket?room=1');
      }
    });

    it('EH-05 400 and 503 from the auth endpoint reach the client as 400 (with the challenge) and 503 (with Retry-After), never the upstream', async () => {
      const challenge = 'Bearer error="invalid_request", error_description="forged"';
      answer = () => ({ status: 400, headers: { 'www-authenticate': challenge, 'content-type': 'application/json' } });
      const bad = await send('/orders/7', { headers: { authorization: 'Bearer t0k3n' } });
      assert.equal(bad.response.status, 400, proxy.output());
      assert.equal(bad.response.headers.get('www-authenticate'), challenge);
      // nginx writes its own short body (the stand-in's is not Keygate's JSON); Caddy passes the endpoint's on.
      if (start === startNginx) assert.match(bad.text, /"error":"invalid_request"/);
      assert.equal(bad.ups.length, 0);
      answer = () => ({ status: 503, headers: { 'retry-after': '7', 'content-type': 'application/json' } });
      const down = await send('/orders/7', { headers: { authorization: 'Bearer t0k3n' } });
      assert.equal(down.response.status, 503, proxy.output());
      assert.equal(down.response.headers.get('retry-after'), '7');
      assert.equal(down.ups.length, 0);
      // Not one of the two: still a 5xx, and a 400 or 503 of the application itself is not touched.
      answer = () => ({ status: 418 });
      const odd = await send('/orders/7', { headers: { authorization: 'Bearer t0k3n' } });
      assert.ok(odd.response.status >= 500 || (odd.response.status === 418 && start === startCaddy), `${odd.response.status}`);
      assert.equal(odd.ups.length, 0);
    });

    it('fails closed: the auth endpoint answering 503 or 500, or not listening, lets nothing through', async () => {
      for (const status of [503, 500]) {
        answer = () => ({ status, headers: { 'retry-after': '1' } });
        const r = await send('/orders/7', { headers: { authorization: 'Bearer t0k3n' } });
        assert.ok(r.response.status >= 500, `${status} → ${r.response.status}`);
        assert.equal(r.ups.length, 0);
      }
      // A port nothing listens on stands for Keygate stopped.
      const gone = await start({ keygate: `127.0.0.1:${await freePort()}`, upstream: upstream.address });
      try {
        const response = await fetch(`${gone.origin}/orders/7`, { headers: { authorization: 'Bearer t0k3n' }, signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        assert.ok(response.status >= 500, String(response.status));
        assert.equal(upstream.requests.filter((u) => u.url === '/orders/7').length, 0);
      } finally {
        await gone.stop();
      }
    });
  });
}
