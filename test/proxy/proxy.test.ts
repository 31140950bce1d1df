import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import { assertionVerifier } from '../../examples/edge-upstream.js';
import { headerValues, startEcho, type EchoServer } from '../helpers/echo.js';
import type { TestKeygate } from '../helpers/keygate.js';
import { login, send, startProxy, type Login } from './helpers.js';

const ROUTES = [
  { path: '/public/*', methods: ['GET', 'HEAD'], public: true },
  { path: '/admin/*', users: ['bob@example.com'] },
];

const UPSTREAM_COOKIES = [
  'theme=dark; Path=/',
  'keygate_session=s%3Aforged.signature; Path=/; HttpOnly',
  ' keygate_tx_AAAAAAAAAAAAAAAAAAAAAA=forged; Path=/',
  'keygate_session=; Max-Age=0; Path=/',
  'keygate_session_hint=1',
  'lang=fr; HttpOnly',
];

describe('reverse-proxy mode (UPSTREAM) with real logins and a recording upstream', () => {
  let echo: EchoServer;
  let kg: TestKeygate & { cleanup(): Promise<void> };
  let alice: Login;
  let bob: Login;

  before(async () => {
    // One path answers cookies: Keygate's own names among the application's (PX-12).
    echo = await startEcho((request) => (request.url === '/set-cookies' ? { status: 200, headers: { 'set-cookie': UPSTREAM_COOKIES } } : undefined));
    kg = await startProxy(`http://${echo.address}`, ROUTES);
    alice = await login(kg, 'alice@example.com', 'alice');
    bob = await login(kg, 'bob@example.com', 'bob');
  });
  after(async () => {
    await kg?.cleanup();
    await echo?.close();
  });

  it('a bearer token passes: the upstream gets the request, the identity headers and an assertion it verifies at the JWKS', async () => {
    const before = echo.requests.length;
    const answer = await send(kg.base, '/orders/7?x=1&y=%20', { authorization: `Bearer ${alice.token}` });
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(JSON.parse(answer.body), { upstream: true, url: '/orders/7?x=1&y=%20' });
    assert.equal(echo.requests.length, before + 1);
    const seen = echo.last();
    const claims = jose.decodeJwt(alice.token);
    assert.equal(seen.headers['x-auth-request-user'], claims.sub);
    assert.equal(seen.headers['x-auth-request-email'], 'alice@example.com');
    assert.equal(seen.headers.authorization, `Bearer ${alice.token}`, 'Authorization is passed on');
    const verify = assertionVerifier(kg.base.origin, kg.base.origin);
    assert.deepEqual(await verify(String(seen.headers['x-keygate-assertion'])), { sub: claims.sub, email: 'alice@example.com' });
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.equal(seen.headers['x-forwarded-host'], kg.base.host);
    // The upstream's answer comes back as it was: Keygate's page headers (its CSP) are not put on it.
    assert.equal(answer.headers['content-security-policy'], undefined);
  });

  it('the session cookie passes too; Keygate\'s cookies are removed and the client\'s other cookies kept', async () => {
    const session = `keygate_session=${alice.agent.cookie(kg.base.host, 'keygate_session')}`;
    const transaction = 'keygate_tx_AAAAAAAAAAAAAAAAAAAAAA=sealed';
    const answer = await send(kg.base, '/dashboard', { cookie: `theme=dark; ${session}; ${transaction}; lang=fr` });
    assert.equal(answer.status, 200, answer.body);
    const seen = echo.last();
    assert.equal(seen.headers.cookie, 'theme=dark; lang=fr');
    assert.equal(seen.headers['x-auth-request-email'], 'alice@example.com');
    assert.equal(seen.headers.authorization, undefined);
  });

  it('PX-01 client-forged X-Auth-Request-* and X-Keygate-* headers never reach the upstream', async () => {
    const answer = await send(kg.base, '/orders', {
      authorization: `Bearer ${alice.token}`,
      'x-auth-request-user': 'admin',
      'X-Auth-Request-Email': 'bob@example.com',
      'x-auth-request-groups': 'admins',
      'x-keygate-assertion': 'forged',
      'x-keygate-anything': 'x',
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-host': 'evil.example',
      forwarded: 'for=10.0.0.1;host=evil.example',
    });
    assert.equal(answer.status, 200, answer.body);
    const raw = echo.last().rawHeaders;
    assert.deepEqual(headerValues(raw, 'x-auth-request-user'), [String(jose.decodeJwt(alice.token).sub)]);
    assert.deepEqual(headerValues(raw, 'x-auth-request-email'), ['alice@example.com']);
    assert.deepEqual(headerValues(raw, 'x-auth-request-groups'), []);
    assert.equal(headerValues(raw, 'x-keygate-assertion').length, 1);
    assert.notEqual(headerValues(raw, 'x-keygate-assertion')[0], 'forged');
    assert.deepEqual(headerValues(raw, 'x-keygate-anything'), []);
    assert.deepEqual(headerValues(raw, 'x-forwarded-for'), ['127.0.0.1'], 'an untrusted peer cannot add hops');
    assert.deepEqual(headerValues(raw, 'x-forwarded-host'), [kg.base.host]);
    assert.deepEqual(headerValues(raw, 'forwarded'), []);
  });

  it('PX-12 the upstream cannot set, replace or clear Keygate\'s cookies: its Set-Cookie for them is dropped, its own cookies pass', async () => {
    const answer = await send(kg.base, '/set-cookies', { authorization: `Bearer ${alice.token}` });
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(answer.headers['set-cookie'], ['theme=dark; Path=/', 'keygate_session_hint=1', 'lang=fr; HttpOnly']);
    // Alice's login is untouched: her cookie still opens a session.
    const session = `keygate_session=${alice.agent.cookie(kg.base.host, 'keygate_session')}`;
    assert.equal((await send(kg.base, '/dashboard', { cookie: session })).status, 200);
  });

  it('PX-02 forged identity headers on a public route are replaced by empty ones', async () => {
    const answer = await send(kg.base, '/public/logo.svg', { 'x-auth-request-user': 'admin', 'x-keygate-assertion': 'forged' });
    assert.equal(answer.status, 200, answer.body);
    const raw = echo.last().rawHeaders;
    assert.deepEqual(headerValues(raw, 'x-auth-request-user'), ['']);
    assert.deepEqual(headerValues(raw, 'x-auth-request-email'), ['']);
    assert.deepEqual(headerValues(raw, 'x-keygate-assertion'), ['']);
  });

  it('an API call without credentials: 401 with a bare RFC 6750 challenge, nothing reaches the upstream', async () => {
    const before = echo.requests.length;
    const answer = await send(kg.base, '/orders', { accept: 'application/json' });
    assert.equal(answer.status, 401);
    assert.equal(answer.headers['www-authenticate'], 'Bearer');
    assert.equal(JSON.parse(answer.body).error, 'unauthorized');
    const bad = await send(kg.base, '/orders', { authorization: 'Bearer not.a.token' });
    assert.equal(bad.status, 401);
    assert.match(String(bad.headers['www-authenticate']), /error="invalid_token"/);
    assert.equal(echo.requests.length, before);
  });

  it('a browser navigation without a session goes to the login, and comes back to the page after it', async () => {
    const answer = await send(kg.base, '/reports/2026?page=2', { accept: 'text/html,application/xhtml+xml' });
    assert.equal(answer.status, 302);
    const location = new URL(String(answer.headers.location), kg.base);
    assert.equal(location.pathname, '/login');
    assert.equal(location.searchParams.get('returnTo'), '/reports/2026?page=2');
    // A POST from a page, or a navigation with an Authorization header, is an API call: 401.
    assert.equal((await send(kg.base, '/reports', { accept: 'text/html' }, 'POST', 'x=1')).status, 401);
  });

  it('policy routes (ROUTES): /admin/* is bob\'s only; alice gets 403 insufficient access, bob passes', async () => {
    const refused = await send(kg.base, '/admin/users', { authorization: `Bearer ${alice.token}` });
    assert.equal(refused.status, 403);
    assert.equal(JSON.parse(refused.body).error, 'access_denied');
    const allowed = await send(kg.base, '/admin/users', { authorization: `Bearer ${bob.token}` });
    assert.equal(allowed.status, 200, allowed.body);
    assert.equal(echo.last().headers['x-auth-request-email'], 'bob@example.com');
  });

  it('PX-03 path tricks are decided on the normalised path, and the upstream is asked for that same path', async () => {
    // /public/../admin/x is /admin/x: not public.
    assert.equal((await send(kg.base, '/public/../admin/x')).status, 401);
    assert.equal((await send(kg.base, '/public/..%2Fadmin/x')).status, 400);
    assert.equal((await send(kg.base, '/public/%2e%2e/admin/x', { authorization: `Bearer ${alice.token}` })).status, 403);
    const answer = await send(kg.base, '/public//a/./b', {});
    assert.equal(answer.status, 200, answer.body);
    assert.equal(echo.last().url, '/public/a/b');
  });

  it('PX-04 a method override header is not honoured: the decision is on the real method, and the header is removed', async () => {
    // A public GET route does not open a POST through an override header.
    const post = await send(kg.base, '/public/form', { 'x-http-method-override': 'GET' }, 'POST', 'a=1');
    assert.equal(post.status, 401);
    const get = await send(kg.base, '/public/item', { 'x-http-method-override': 'DELETE', 'x-http-method': 'DELETE', 'x-method-override': 'DELETE' });
    assert.equal(get.status, 200);
    const seen = echo.last();
    assert.equal(seen.method, 'GET');
    assert.equal(seen.headers['x-http-method-override'], undefined);
    assert.equal(seen.headers['x-http-method'], undefined);
    assert.equal(seen.headers['x-method-override'], undefined);
  });

  it('Keygate\'s own routes keep working in proxy mode', async () => {
    assert.equal((await send(kg.base, '/healthz')).status, 200);
    const jwks = await send(kg.base, '/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    assert.ok(JSON.parse(jwks.body).keys.length >= 1);
    const protectedAnswer = await send(kg.base, '/protected', { authorization: `Bearer ${alice.token}` });
    assert.equal(protectedAnswer.status, 200);
    assert.equal(JSON.parse(protectedAnswer.body).email, 'alice@example.com');
    assert.equal((await send(kg.base, '/key', { cookie: alice.cookie })).status, 200);
    const before = echo.requests.length;
    assert.equal((await send(kg.base, '/login')).status, 302);
    assert.equal(echo.requests.length, before, 'none of these reached the upstream');
  });

  it('PX-05 logout: the next request with that token, and with that cookie, is refused', async () => {
    const carol = await login(kg, 'alice@example.com', 'alice');
    assert.equal((await send(kg.base, '/orders', { authorization: `Bearer ${carol.token}` })).status, 200);
    const out = await send(kg.base, '/logout', { authorization: `Bearer ${carol.token}`, accept: 'application/json' }, 'POST');
    assert.ok(out.status < 300, `${out.status} ${out.body}`);
    const before = echo.requests.length;
    const refused = await send(kg.base, '/orders', { authorization: `Bearer ${carol.token}` });
    assert.equal(refused.status, 401);
    assert.match(String(refused.headers['www-authenticate']), /invalid_token/);
    assert.equal((await send(kg.base, '/orders', { cookie: carol.cookie })).status, 401);
    assert.equal(echo.requests.length, before);
  });
});
