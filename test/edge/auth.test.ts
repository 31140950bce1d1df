import assert from 'node:assert/strict';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { assertionVerifier } from '../../examples/edge-upstream.js';
import { Agent } from '../helpers/agent.js';
import { loginAs, startDevKeygate, throughProvider, type TestKeygate } from '../helpers/keygate.js';

const ROUTES = [
  { path: '/public/*', methods: ['GET', 'HEAD'], public: true },
  { path: '/admin/*', users: ['bob@example.com'] },
  { path: '/alice/*', users: ['alice@example.com'] },
];
const APP = 'https://app.example.test';

/** One real HTTP request with headers exactly as given (arrays become repeated header lines). */
function raw(base: URL, path: string, headers: OutgoingHttpHeaders, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('/auth: forward auth with real logins', () => {
  let kg: TestKeygate;
  let dir: string;
  let alice: { agent: Agent; token: string; cookie: string };
  let bob: { agent: Agent; token: string; cookie: string };

  async function login(email: string, password: string) {
    const agent = new Agent();
    const { token } = await loginAs(agent, kg.base, email, password);
    const jar = agent.jar.get(kg.base.host)!;
    return { agent, token, cookie: [...jar].map(([n, v]) => `${n}=${v}`).join('; ') };
  }

  /** `/auth` as nginx calls it: the original URI in both headers, the host and scheme of the application. */
  const auth = (uri: string, headers: Record<string, string> = {}, query = '', method = 'GET') =>
    kg.app.inject({
      method: method as 'GET',
      url: `/auth${query}`,
      headers: { 'x-original-uri': uri, 'x-forwarded-uri': uri, 'x-forwarded-host': 'app.example.test', 'x-forwarded-proto': 'https', ...headers },
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keygate-edge-'));
    writeFileSync(join(dir, 'routes.json'), JSON.stringify(ROUTES));
    // The test's requests come from loopback, standing for the proxy: its X-Forwarded-Host and -Proto are believed.
    kg = await startDevKeygate({ ROUTES: join(dir, 'routes.json'), ALLOWED_REDIRECT_HOSTS: 'app.example.test,127.0.0.1', TRUST_PROXY: '127.0.0.1' });
    alice = await login('alice@example.com', 'alice');
    bob = await login('bob@example.com', 'bob');
  });
  after(async () => {
    await kg?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a bearer token: 200 with the user, the e-mail and an assertion the upstream verifies at the JWKS', async () => {
    const response = await auth('/orders?x=1', { authorization: `Bearer ${alice.token}` });
    assert.equal(response.statusCode, 200, response.body);
    const claims = jose.decodeJwt(alice.token);
    assert.equal(response.headers['x-auth-request-user'], claims.sub);
    assert.equal(response.headers['x-auth-request-email'], 'alice@example.com');
    const jwks = (await fetch(new URL('/.well-known/jwks.json', kg.base)).then((r) => r.json())) as jose.JSONWebKeySet;
    const { payload, protectedHeader } = await jose.jwtVerify(String(response.headers['x-keygate-assertion']), jose.createLocalJWKSet(jwks), {
      issuer: kg.base.origin,
      audience: APP,
      algorithms: ['ES256'],
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, claims.sub);
    assert.equal(payload.email, 'alice@example.com');
    assert.ok(payload.exp! - payload.iat! <= 60);
    // Another origin is another audience: the assertion for app.example.test is useless elsewhere.
    await assert.rejects(jose.jwtVerify(String(response.headers['x-keygate-assertion']), jose.createLocalJWKSet(jwks), { audience: 'https://other.example.test' }));
  });

  it('the upstream example of docs/edge.md is the checked file, and it verifies a real assertion', async () => {
    const example = readFileSync(new URL('../../examples/edge-upstream.ts', import.meta.url), 'utf8');
    const doc = readFileSync(new URL('../../docs/edge.md', import.meta.url), 'utf8');
    assert.equal(/```ts\n([\s\S]*?)```/.exec(doc)?.[1], example);
    const response = await auth('/orders', { authorization: `Bearer ${bob.token}` });
    const identity = await assertionVerifier(kg.base.origin, APP)(String(response.headers['x-keygate-assertion']));
    assert.deepEqual(identity, { sub: jose.decodeJwt(bob.token).sub, email: 'bob@example.com' });
    await assert.rejects(assertionVerifier(kg.base.origin, 'https://other.example.test')(String(response.headers['x-keygate-assertion'])));
  });

  it('the session cookie of a browser works as well; no credentials: 401 with a bare challenge and a JSON body', async () => {
    const withCookie = await auth('/orders', { cookie: alice.cookie });
    assert.equal(withCookie.statusCode, 200);
    assert.equal(withCookie.headers['x-auth-request-email'], 'alice@example.com');
    const none = await auth('/orders');
    assert.equal(none.statusCode, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer');
    assert.equal(none.json().error, 'unauthorized');
  });

  it('public rules need nothing, and the identity headers are still all present (empty)', async () => {
    const response = await auth('/public/logo.png');
    assert.equal(response.statusCode, 200);
    for (const name of ['x-auth-request-user', 'x-auth-request-email', 'x-keygate-assertion']) assert.equal(response.headers[name], '', name);
  });

  it('rules and the per-location query parameters both decide', async () => {
    assert.equal((await auth('/admin/x', { authorization: `Bearer ${alice.token}` })).json().error, 'access_denied');
    assert.equal((await auth('/admin/x', { authorization: `Bearer ${bob.token}` })).statusCode, 200);
    assert.equal((await auth('/x', { authorization: `Bearer ${bob.token}` }, '?users=alice@example.com')).statusCode, 403);
    assert.equal((await auth('/x', { authorization: `Bearer ${bob.token}` }, '?users=@example.com')).statusCode, 200);
    const scope = await auth('/x', { authorization: `Bearer ${bob.token}` }, '?scope=admin');
    assert.equal(scope.statusCode, 403);
    assert.match(String(scope.headers['www-authenticate']), /insufficient_scope/);
    assert.equal((await auth('/x', { authorization: `Bearer ${bob.token}` }, '?scope=bad"scope')).statusCode, 400);
    assert.equal((await auth('/x', { authorization: `Bearer ${bob.token}` }, '?scopes=admin')).statusCode, 400, 'a typo is refused, not ignored');
  });

  it('?redirect=1 sends a browser navigation without a session to the login, with the original absolute URL', async () => {
    const nav = await auth('/orders?id=7', { accept: 'text/html,application/xhtml+xml' }, '?redirect=1');
    assert.equal(nav.statusCode, 302);
    const location = new URL(String(nav.headers.location));
    assert.equal(location.origin + location.pathname, `${kg.base.origin}/login`);
    assert.equal(location.searchParams.get('returnTo'), `${APP}/orders?id=7`);
    // Not a navigation, or not asked: the 401 stays.
    assert.equal((await auth('/orders', { accept: 'application/json' }, '?redirect=1')).statusCode, 401);
    assert.equal((await auth('/orders', { accept: 'text/html' })).statusCode, 401);
    assert.equal((await auth('/orders', { accept: 'text/html', 'x-forwarded-method': 'POST', 'x-original-method': 'POST' }, '?redirect=1')).statusCode, 401);
    assert.equal((await auth('/orders', { accept: 'text/html', authorization: 'Bearer bad.token.here' }, '?redirect=1')).statusCode, 401);
  });

  it('the login follows an absolute returnTo to an allowed host, back to the application', async () => {
    const agent = new Agent();
    const back = `http://127.0.0.1:1/orders?id=7`;
    await throughProvider(agent, new URL(`/login?returnTo=${encodeURIComponent(back)}`, kg.base), 'alice@example.com', 'alice').catch(() => undefined);
    const callback = agent.hops.find((hop) => new URL(hop.url).pathname === '/callback');
    assert.equal(callback?.location, back);
  });

  it('FA-01 X-Forwarded-Uri and X-Original-URI that disagree (a client copy of one): 400, never a rule', async () => {
    const response = await auth('/admin/x', { 'x-forwarded-uri': '/public/x', authorization: `Bearer ${alice.token}` });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error, 'invalid_request');
  });

  it('FA-02 X-Forwarded-Method and X-Original-Method that disagree, or a lower-case method: 400', async () => {
    assert.equal((await auth('/public/x', { 'x-forwarded-method': 'GET', 'x-original-method': 'DELETE' })).statusCode, 400);
    assert.equal((await auth('/public/x', { 'x-forwarded-method': 'get' })).statusCode, 400);
  });

  it('FA-03 a repeated forwarding header (two X-Forwarded-Uri or X-Forwarded-Host lines): 400', async () => {
    const uri = await raw(kg.base, '/auth', { 'x-forwarded-uri': ['/public/x', '/admin/x'], 'x-forwarded-host': 'app.example.test' });
    assert.equal(uri.status, 400);
    assert.match(uri.body, /more than once/);
    const host = await raw(kg.base, '/auth', { 'x-forwarded-uri': '/public/x', 'x-forwarded-host': ['app.example.test', 'evil.test'] });
    assert.equal(host.status, 400);
  });

  it('FA-04 /public/../admin is decided by the admin rule, not the public one', async () => {
    assert.equal((await auth('/public/../admin/x')).statusCode, 401);
    assert.equal((await auth('/public/../admin/x', { authorization: `Bearer ${alice.token}` })).statusCode, 403);
  });

  it('FA-05 /public/..%2Fadmin and /public/..%5Cadmin (encoded slash or backslash): 400', async () => {
    for (const uri of ['/public/..%2Fadmin/x', '/public/..%2fadmin/x', '/public/..%5Cadmin/x', '/public/..\\admin/x']) {
      const response = await auth(uri);
      assert.equal(response.statusCode, 400, uri);
      assert.equal(response.json().error, 'invalid_request');
    }
  });

  it('FA-06 %2e%2e dot-segments are decoded and resolved before matching; above the root: 400', async () => {
    assert.equal((await auth('/public/%2e%2e/admin/x', { authorization: `Bearer ${alice.token}` })).statusCode, 403);
    assert.equal((await auth('/public/%2E%2E/%2e%2e/admin')).statusCode, 400);
  });

  it('FA-07 //admin and duplicate slashes match the admin rule', async () => {
    assert.equal((await auth('//admin/x', { authorization: `Bearer ${alice.token}` })).statusCode, 403);
    assert.equal((await auth('/public//..//admin/x', { authorization: `Bearer ${alice.token}` })).statusCode, 403);
  });

  it('FA-08 mixed case that would take another rule (/ADMIN/x, /Public/x): 400, never the weaker rule', async () => {
    assert.equal((await auth('/ADMIN/x', { authorization: `Bearer ${alice.token}` })).statusCode, 400);
    assert.equal((await auth('/Public/x')).statusCode, 400);
  });

  it('FA-09 trailing dots and dot-segments with parameters (/admin., /public/..;/admin): 400', async () => {
    for (const uri of ['/admin./x', '/admin%2e/x', '/public/..;/admin/x', '/public/x/..']) {
      const response = await auth(uri, { authorization: `Bearer ${alice.token}` });
      assert.equal(response.statusCode, uri === '/public/x/..' ? 200 : 400, uri);
    }
  });

  it('FA-10 an absolute returnTo to another host (or with credentials, or a look-alike) is not followed', async () => {
    for (const target of ['https://evil.test/x', 'https://app.example.test.evil.test/', 'https://user@app.example.test/', 'https:\\\\evil.test', 'javascript:alert(1)']) {
      const agent = new Agent();
      await throughProvider(agent, new URL(`/login?returnTo=${encodeURIComponent(target)}`, kg.base), 'alice@example.com', 'alice');
      const callback = agent.hops.find((hop) => new URL(hop.url).pathname === '/callback');
      assert.equal(callback?.location, '/key', target);
    }
  });

  it('FA-11 oversized headers: an original URI over 8 KiB is 400, a header block over 16 KiB is 431; no 5xx', async () => {
    assert.equal((await auth(`/${'a'.repeat(9000)}`)).statusCode, 400);
    const huge = await raw(kg.base, '/auth', { 'x-forwarded-uri': '/x', 'x-forwarded-host': 'app.example.test', 'x-filler': 'a'.repeat(20_000) });
    assert.equal(huge.status, 431);
  });

  it('FA-12 a method override header is ignored: the decision is for the forwarded method', async () => {
    for (const name of ['x-http-method-override', 'x-http-method', 'x-method-override']) {
      const response = await auth('/public/x', { 'x-forwarded-method': 'POST', 'x-original-method': 'POST', [name]: 'GET' });
      assert.equal(response.statusCode, 401, name);
      // Nor does it change /auth's own method, which stands for the original one when no method header came (nginx).
      const own = await kg.app.inject({ method: 'POST', url: '/auth', headers: { 'x-forwarded-uri': '/public/x', [name]: 'GET' } });
      assert.equal(own.statusCode, 401, `${name} on /auth itself`);
      const envoy = await kg.app.inject({ method: 'DELETE', url: '/auth/public/x', headers: { [name]: 'GET' } });
      assert.equal(envoy.statusCode, 401, `${name} on /auth/*`);
    }
    // The control: the same public rule with the method it allows.
    assert.equal((await kg.app.inject({ method: 'GET', url: '/auth', headers: { 'x-forwarded-uri': '/public/x' } })).statusCode, 200);
  });

  it('FA-13 forged X-Forwarded-Host or -Proto that is not one host or scheme: 400', async () => {
    assert.equal((await auth('/public/x', { 'x-forwarded-host': 'app.example.test, evil.test' })).statusCode, 400);
    assert.equal((await auth('/public/x', { 'x-forwarded-host': 'evil.test/x' })).statusCode, 400);
    assert.equal((await auth('/public/x', { 'x-forwarded-proto': 'javascript' })).statusCode, 400);
  });

  it('FA-14 an encoded NUL and double encoding in the original path: 400 (an encoded newline stays encoded)', async () => {
    for (const uri of ['/public/x%00', '/public/%252e%252e/admin', '/public/x%0a']) {
      assert.equal((await auth(uri)).statusCode, uri.endsWith('%0a') ? 200 : 400, uri);
    }
  });

  it('FA-15 a token in the /auth query is not a credential: 400', async () => {
    assert.equal((await auth('/x', {}, `?access_token=${alice.token}`)).statusCode, 400);
  });

  it('FA-16 a missing original URI: 400, not a decision about "/"', async () => {
    const response = await kg.app.inject({ method: 'GET', url: '/auth', headers: { authorization: `Bearer ${alice.token}` } });
    assert.equal(response.statusCode, 400);
  });

  it('FA-17 /auth never reads the body, whatever its size or type', async () => {
    const response = await kg.app.inject({
      method: 'POST',
      url: '/auth',
      headers: { 'x-forwarded-uri': '/x', 'x-forwarded-host': 'app.example.test', 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      payload: `{"access_token":"${alice.token}",${'"x":1,'.repeat(10_000)}"y":`,
    });
    assert.equal(response.statusCode, 200);
  });

  it('FA-18 /auth/* (Envoy ext_authz): the original path and query come from the path, and decide like /auth', async () => {
    const envoy = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
      kg.app.inject({ method: method as 'GET', url: path, headers: { 'x-forwarded-host': 'app.example.test', 'x-forwarded-proto': 'https', ...headers } });
    const allowed = await envoy('/auth/orders/7?x=1&scope=admin', { authorization: `Bearer ${alice.token}` });
    assert.equal(allowed.statusCode, 200, 'the query is the original request\'s, not /auth parameters');
    assert.equal(allowed.headers['x-auth-request-email'], 'alice@example.com');
    const { payload } = await jose.jwtVerify(String(allowed.headers['x-keygate-assertion']), jose.createLocalJWKSet(await fetch(new URL('/.well-known/jwks.json', kg.base)).then((r) => r.json() as Promise<jose.JSONWebKeySet>)), { audience: APP });
    assert.equal(payload.email, 'alice@example.com');
    assert.equal((await envoy('/auth/public/logo.png')).statusCode, 200);
    assert.equal((await envoy('/auth/public/logo.png', {}, 'POST')).statusCode, 401, 'the original method is the check\'s own');
    assert.equal((await envoy('/auth/admin/x', { authorization: `Bearer ${alice.token}` })).statusCode, 403);
    assert.equal((await envoy('/auth//admin/x', { authorization: `Bearer ${alice.token}` })).statusCode, 403);
    assert.equal((await envoy('/auth/public/../admin/x')).statusCode, 401);
    assert.equal((await envoy('/auth/public/..%2Fadmin/x')).statusCode, 400);
    // Envoy's headers_to_add say the same; a header that disagrees with the path is a forgery.
    assert.equal((await envoy('/auth/orders', { 'x-forwarded-uri': '/orders', authorization: `Bearer ${alice.token}` })).statusCode, 200);
    const forged = await envoy('/auth/admin/x', { 'x-forwarded-uri': '/public/x' });
    assert.equal(forged.statusCode, 400);
    assert.equal(forged.json().error, 'invalid_request');
  });

  it('FA-19 Authorization with another scheme (Basic, for the application) leaves the session cookie in charge', async () => {
    const basic = 'Basic ' + Buffer.from('app-user:app-password').toString('base64');
    const withCookie = await auth('/orders', { cookie: alice.cookie, authorization: basic });
    assert.equal(withCookie.statusCode, 200, withCookie.body);
    assert.equal(withCookie.headers['x-auth-request-email'], 'alice@example.com');
    assert.equal((await auth('/admin/x', { cookie: alice.cookie, authorization: basic })).statusCode, 403, 'the cookie\'s user is decided');
    const alone = await auth('/orders', { authorization: basic });
    assert.equal(alone.statusCode, 401);
    assert.equal(alone.headers['www-authenticate'], 'Bearer');
    const nav = await auth('/orders', { authorization: basic, accept: 'text/html' }, '?redirect=1');
    assert.equal(nav.statusCode, 302, 'a browser with Basic credentials but no session is sent to the login');
    // A Bearer header is still the credential: malformed is 400, a bad token 401, even with a live cookie beside it.
    for (const bad of ['Bearer', 'Bearer a b', 'Bearer  ', 'bearer "x"']) {
      const response = await auth('/orders', { cookie: alice.cookie, authorization: bad });
      assert.equal(response.statusCode, 400, bad);
      assert.equal(response.json().error, 'invalid_request');
    }
    assert.equal((await auth('/orders', { cookie: alice.cookie, authorization: 'Bearer bad.token.here' })).statusCode, 401);
  });

  it('FA-20 two Authorization headers (Bearer and Basic, or two Bearer): 400, neither guessed', async () => {
    const cookie = alice.cookie;
    for (const pair of [[`Bearer ${alice.token}`, 'Basic YTpi'], ['Basic YTpi', `Bearer ${alice.token}`], [`Bearer ${alice.token}`, `Bearer ${bob.token}`], ['Basic YTpi', 'Basic Yzpk']]) {
      const response = await raw(kg.base, '/auth', { 'x-forwarded-uri': '/orders', authorization: pair as unknown as string, cookie });
      assert.equal(response.status, 400, pair.join(' + '));
      assert.equal(JSON.parse(response.body).error, 'invalid_request');
      assert.match(response.body, /Several Authorization headers/);
    }
  });

  it('FA-21 an oversized Authorization header: a 12 kB token is 401, a 20 kB one 431; never a 5xx', async () => {
    const long = await raw(kg.base, '/auth', { 'x-forwarded-uri': '/orders', authorization: `Bearer ${'a'.repeat(6000)}.${'b'.repeat(6000)}.c` });
    assert.equal(long.status, 401);
    const huge = await raw(kg.base, '/auth', { 'x-forwarded-uri': '/orders', authorization: `Bearer ${'a'.repeat(20_000)}` });
    assert.equal(huge.status, 431);
  });

  it('logout ends the login at the edge at once: the next /auth with its token or cookie is 401', async () => {
    const before = await auth('/x', { authorization: `Bearer ${alice.token}` });
    assert.equal(before.statusCode, 200);
    const logout = await kg.app.inject({ method: 'POST', url: '/logout', headers: { authorization: `Bearer ${alice.token}`, accept: 'application/json' } });
    assert.equal(logout.statusCode, 200, logout.body);
    const bearer = await auth('/x', { authorization: `Bearer ${alice.token}` });
    assert.equal(bearer.statusCode, 401);
    assert.match(String(bearer.headers['www-authenticate']), /invalid_token/);
    assert.equal((await auth('/x', { cookie: alice.cookie })).statusCode, 401);
    assert.equal((await auth('/x', { cookie: alice.cookie, accept: 'text/html' }, '?redirect=1')).statusCode, 302);
  });
});

describe('/auth: forwarding headers from a peer that TRUST_PROXY does not name', () => {
  let kg: TestKeygate;
  let token: string;

  before(async () => {
    kg = await startDevKeygate({ ALLOWED_REDIRECT_HOSTS: '127.0.0.1' });
    ({ token } = await loginAs(new Agent(), kg.base, 'alice@example.com', 'alice'));
  });
  after(async () => {
    await kg?.close();
  });

  it('FA-22 forged X-Forwarded-Host and -Proto are not believed: the assertion and the login are for the request\'s own host', async () => {
    const forged = { 'x-forwarded-uri': '/orders?id=1', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    const allowed = await raw(kg.base, '/auth', { ...forged, authorization: `Bearer ${token}` });
    assert.equal(allowed.status, 200, allowed.body);
    const assertion = String(allowed.headers['x-keygate-assertion']);
    assert.deepEqual(jose.decodeJwt(assertion).aud, kg.base.origin, 'the audience is the Host Keygate was asked on');
    const nav = await raw(kg.base, '/auth?redirect=1', { ...forged, accept: 'text/html' });
    assert.equal(nav.status, 302);
    assert.equal(new URL(String(nav.headers.location)).searchParams.get('returnTo'), `${kg.base.origin}/orders?id=1`);
    // Still checked: a malformed one is refused even when it would not be used.
    assert.equal((await raw(kg.base, '/auth', { ...forged, 'x-forwarded-host': 'a.example, evil.example' })).status, 400);
    assert.equal((await raw(kg.base, '/auth', { ...forged, 'x-forwarded-proto': 'gopher' })).status, 400);
  });
});
