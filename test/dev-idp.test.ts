import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, get as httpGet, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { createDevIdp, startDevIdp, type RunningDevIdp } from '../src/dev-idp/index.js';

const USERS = [
  { email: 'alice@example.com', password: 'alice', name: 'Alice Example' },
  { email: 'bob@example.com', password: 'bob', name: 'Bob Example' },
] as const;
const CLIENT_ID = 'keygate-test';
const TEST_SECRET = 'a-long-enough-test-client-secret';
const API = 'https://api.example.test';

/** A minimal cookie jar: one host, names to values; honours deletion. */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const expired = attributes.some((a) => {
        const [k = '', v = ''] = a.trim().split('=');
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0;
        if (k.toLowerCase() === 'expires') return Date.parse(v) <= Date.now();
        return false;
      });
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Every URL a page refers to must stay on the IdP: relative, or under the issuer. */
function assertNoExternalUrls(html: string, issuer: string): void {
  assert.doesNotMatch(html, /fonts\.googleapis|<script/i);
  const origin = new URL(issuer).origin;
  for (const match of html.matchAll(/(?:href|src|action)="([^"]*)"/gi)) {
    const url = match[1] ?? '';
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) assert.ok(url.startsWith(`${origin}/`), `external URL in page: ${url}`);
  }
  assert.doesNotMatch(html, /url\(/i);
}

function assertPageHeaders(response: Response): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /base-uri 'none'/);
  assert.doesNotMatch(csp, /script-src|unsafe-inline/);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
}

describe('embedded development identity provider', () => {
  let idp: RunningDevIdp;
  let issuer: string;
  let discovery: Record<string, unknown>;
  let redirectUri: string;
  let postLogoutUri: string;
  let backchannel: Server;
  const backchannelTokens: string[] = [];
  const jar = new CookieJar();

  const endpoint = (name: string): string => String(discovery[name]);

  async function get(url: string): Promise<Response> {
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
    jar.store(response);
    return response;
  }

  async function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
    jar.store(response);
    return response;
  }

  function location(response: Response, base: string): string {
    const value = response.headers.get('location');
    assert.ok(value, `expected a redirect, got ${response.status}`);
    return new URL(value, base).href;
  }

  /** Follows redirects inside the IdP, logging in as alice and consenting, until the client's callback. */
  async function authorize(extra: Record<string, string>): Promise<{ code: string; verifier: string; nonce: string; callback: URL }> {
    const { verifier, challenge } = pkce();
    const state = randomBytes(12).toString('base64url');
    const nonce = randomBytes(12).toString('base64url');
    const url = new URL(endpoint('authorization_endpoint'));
    for (const [k, v] of Object.entries({
      client_id: CLIENT_ID, response_type: 'code', redirect_uri: redirectUri, scope: 'openid email profile',
      state, nonce, code_challenge: challenge, code_challenge_method: 'S256', ...extra,
    })) url.searchParams.set(k, v);

    let response = await get(url.href);
    let current = url.href;
    for (let step = 0; step < 10; step += 1) {
      assert.ok([302, 303].includes(response.status), `unexpected status ${response.status} at ${current}`);
      const next = location(response, current);
      if (next.startsWith(redirectUri)) {
        const callback = new URL(next);
        assert.equal(callback.searchParams.get('state'), state);
        assert.equal(callback.searchParams.get('iss'), issuer);
        const code = callback.searchParams.get('code');
        assert.ok(code, `no code in ${next}`);
        return { code, verifier, nonce, callback };
      }
      assert.ok(next.startsWith(`${issuer}/`), `redirect leaves the IdP: ${next}`);
      current = next;
      response = await get(next);
      if (response.status === 200) {
        const html = await response.text();
        assertPageHeaders(response);
        assertNoExternalUrls(html, issuer);
        if (html.includes('name="password"')) {
          response = await post(`${next}/login`, { email: 'ALICE@example.com', password: 'alice' });
        } else {
          assert.match(html, /Allow/);
          response = await post(`${next}/confirm`, {});
        }
      }
    }
    throw new Error('too many redirects');
  }

  async function token(form: Record<string, string>, basic = true): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    const body = new URLSearchParams(form);
    if (basic) headers['authorization'] = `Basic ${Buffer.from(`${CLIENT_ID}:${TEST_SECRET}`).toString('base64')}`;
    else {
      body.set('client_id', CLIENT_ID);
      body.set('client_secret', TEST_SECRET);
    }
    return fetch(endpoint('token_endpoint'), { method: 'POST', headers, body: body.toString() });
  }

  before(async () => {
    backchannel = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      req.on('end', () => {
        const logoutToken = new URLSearchParams(body).get('logout_token');
        if (logoutToken) backchannelTokens.push(logoutToken);
        res.statusCode = 200;
        res.end();
      });
    });
    await new Promise<void>((resolve) => backchannel.listen(0, '127.0.0.1', resolve));
    const rpPort = (backchannel.address() as AddressInfo).port;
    redirectUri = `http://127.0.0.1:${rpPort}/callback`;
    postLogoutUri = `http://127.0.0.1:${rpPort}/`;
    idp = await startDevIdp({
      host: '127.0.0.1',
      port: 0,
      users: USERS,
      cookieKeys: ['a-test-cookie-key-that-is-long-enough'],
      clients: [{
        clientId: CLIENT_ID,
        clientSecret: TEST_SECRET,
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [postLogoutUri],
        backchannelLogoutUri: `http://127.0.0.1:${rpPort}/backchannel`,
      }],
    });
    issuer = idp.issuer;
  });

  after(async () => {
    await idp?.close();
    backchannel?.closeAllConnections();
    await new Promise<void>((resolve) => (backchannel ? backchannel.close(() => resolve()) : resolve()));
  });

  it('publishes discovery with the exact issuer', async () => {
    const response = await fetch(`${issuer}/.well-known/openid-configuration`);
    assert.equal(response.status, 200);
    discovery = await response.json() as Record<string, unknown>;
    assert.equal(discovery['issuer'], issuer);
    for (const name of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint', 'end_session_endpoint', 'revocation_endpoint']) {
      assert.ok(String(discovery[name]).startsWith(`${issuer}/`), `${name}: ${String(discovery[name])}`);
    }
    assert.deepEqual(discovery['response_types_supported'], ['code']);
    assert.deepEqual(discovery['code_challenge_methods_supported'], ['S256']);
    assert.equal(discovery['authorization_response_iss_parameter_supported'], true);
    assert.equal(discovery['backchannel_logout_supported'], true);
    const methods = discovery['token_endpoint_auth_methods_supported'] as string[];
    assert.ok(methods.includes('client_secret_basic') && methods.includes('client_secret_post'));
  });

  it('requires PKCE', async () => {
    const url = new URL(endpoint('authorization_endpoint'));
    url.search = new URLSearchParams({
      client_id: CLIENT_ID, response_type: 'code', redirect_uri: redirectUri, scope: 'openid', state: 's1',
    }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    const callback = new URL(location(response, url.href));
    assert.equal(callback.searchParams.get('error'), 'invalid_request');
  });

  it('renders its own error page for a bad request that cannot be redirected', async () => {
    const url = new URL(endpoint('authorization_endpoint'));
    url.search = new URLSearchParams({ client_id: 'nobody', response_type: 'code', redirect_uri: redirectUri, scope: 'openid' }).toString();
    const response = await fetch(url, { redirect: 'manual' });
    assert.equal(response.status, 400);
    assertPageHeaders(response);
    const html = await response.text();
    assert.match(html, /invalid_client/);
    assertNoExternalUrls(html, issuer);
  });

  it('shows the login page, rejects wrong credentials and oversized forms', async () => {
    const { challenge } = pkce();
    const url = new URL(endpoint('authorization_endpoint'));
    url.search = new URLSearchParams({
      client_id: CLIENT_ID, response_type: 'code', redirect_uri: redirectUri, scope: 'openid email',
      state: 'st', nonce: 'n', code_challenge: challenge, code_challenge_method: 'S256',
    }).toString();
    const start = await get(url.href);
    assert.equal(start.status, 303);
    const interaction = location(start, url.href);
    assert.match(interaction, new RegExp(`^${issuer}/interaction/[A-Za-z0-9_-]+$`));

    const page = await get(interaction);
    assert.equal(page.status, 200);
    assertPageHeaders(page);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, new RegExp(`form-action 'self' ${new URL(redirectUri).origin.replace(/\./g, '\\.')}`));
    const html = await page.text();
    assert.match(html, /Sign in to the Keygate development provider/);
    assert.match(html, /alice@example\.com/);
    assert.match(html, /bob@example\.com/);
    assert.match(html, />Log in</);
    assertNoExternalUrls(html, issuer);

    const wrong = await post(`${interaction}/login`, { email: 'alice@example.com', password: '<b>wrong</b>' });
    assert.equal(wrong.status, 401);
    assertPageHeaders(wrong);
    const wrongHtml = await wrong.text();
    assert.match(wrongHtml, /Wrong e-mail or password/);
    assert.doesNotMatch(wrongHtml, /<b>wrong/);

    const huge = await post(`${interaction}/login`, { email: 'alice@example.com', password: 'x'.repeat(9000) });
    assert.equal(huge.status, 413);

    const json = await fetch(`${interaction}/login`, {
      method: 'POST', redirect: 'manual', headers: { cookie: jar.header(), 'content-type': 'application/json' }, body: '{}',
    });
    assert.equal(json.status, 415);

    // Cancelling ends the request with access_denied at the client.
    const abort = await post(`${interaction}/abort`, {});
    assert.equal(abort.status, 303);
    const resume = await get(location(abort, interaction));
    const denied = new URL(location(resume, interaction));
    assert.ok(denied.href.startsWith(redirectUri));
    assert.equal(denied.searchParams.get('error'), 'access_denied');
    assert.equal(denied.searchParams.get('state'), 'st');
  });

  it('answers an unknown or malformed interaction with a 4xx page', async () => {
    for (const path of ['/interaction/does-not-exist', '/interaction/does-not-exist/login', '/interaction/%00%ff/x/y']) {
      const response = path.endsWith('/login')
        ? await post(`${issuer}${path}`, { email: 'alice@example.com', password: 'alice' })
        : await get(`${issuer}${path}`);
      assert.ok(response.status >= 400 && response.status < 500, `${path}: ${response.status}`);
      assertPageHeaders(response);
      assertNoExternalUrls(await response.text(), issuer);
    }
    const fresh = await fetch(`${issuer}/interaction/abcdef`, { redirect: 'manual' });
    assert.equal(fresh.status, 400);
    assert.match(await fresh.text(), /unknown or has expired/);
  });

  let refreshToken = '';
  let idToken = '';

  it('logs alice in, asks consent, and issues a verifiable ID token and a refresh token', async () => {
    const { code, verifier, nonce } = await authorize({});
    const response = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    const body = await response.json() as Record<string, string>;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body['token_type'], 'Bearer');
    assert.ok(body['refresh_token'], 'a refresh token is issued');
    refreshToken = body['refresh_token'] ?? '';
    idToken = body['id_token'] ?? '';

    const jwks = createRemoteJWKSet(new URL(endpoint('jwks_uri')));
    const { payload, protectedHeader } = await jwtVerify(idToken, jwks, { issuer, audience: CLIENT_ID });
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload['nonce'], nonce);
    assert.equal(payload['email'], 'alice@example.com');
    assert.equal(payload['email_verified'], true);
    assert.equal(payload['name'], 'Alice Example');
    assert.equal(payload.sub, 'dev|alice@example.com');

    const userinfo = await fetch(endpoint('userinfo_endpoint'), { headers: { authorization: `Bearer ${body['access_token']}` } });
    assert.equal(userinfo.status, 200);
    assert.equal((await userinfo.json() as Record<string, unknown>)['email'], 'alice@example.com');
  });

  it('refreshes tokens with the refresh token', async () => {
    const response = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    const body = await response.json() as Record<string, string>;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.ok(body['access_token']);
    assert.ok(body['id_token']);
  });

  for (const [param, basic] of [['resource', true], ['audience', false]] as const) {
    it(`issues a JWT access token for ${param}=${API}`, async () => {
      const { code, verifier } = await authorize({ [param]: API });
      const response = await token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier }, basic);
      const body = await response.json() as Record<string, string>;
      assert.equal(response.status, 200, JSON.stringify(body));
      const accessToken = body['access_token'] ?? '';
      assert.equal(decodeProtectedHeader(accessToken).typ, 'at+jwt');
      const jwks = createRemoteJWKSet(new URL(endpoint('jwks_uri')));
      const { payload } = await jwtVerify(accessToken, jwks, { issuer, audience: API, typ: 'at+jwt' });
      assert.equal(payload['email'], 'alice@example.com');
      assert.equal(payload.sub, 'dev|alice@example.com');
      assert.ok(typeof payload.exp === 'number' && typeof payload.iat === 'number');
      assert.match(String(payload['scope']), /\bemail\b/);
      assert.ok(body['id_token'], 'the ID token is still issued');

      // Refreshing keeps the audience.
      const refreshed = await token({ grant_type: 'refresh_token', refresh_token: body['refresh_token'] ?? '' }, basic);
      const again = await refreshed.json() as Record<string, string>;
      assert.equal(refreshed.status, 200, JSON.stringify(again));
      const { payload: renewed } = await jwtVerify(again['access_token'] ?? '', jwks, { issuer, audience: API, typ: 'at+jwt' });
      assert.equal(renewed['email'], 'alice@example.com');
    });
  }

  it('rejects a non-URI audience', async () => {
    const { challenge } = pkce();
    const url = new URL(endpoint('authorization_endpoint'));
    url.search = new URLSearchParams({
      client_id: CLIENT_ID, response_type: 'code', redirect_uri: redirectUri, scope: 'openid', state: 's',
      code_challenge: challenge, code_challenge_method: 'S256', audience: 'not a uri',
    }).toString();
    const response = await get(url.href);
    const callback = new URL(location(response, url.href));
    assert.equal(callback.searchParams.get('error'), 'invalid_target');
  });

  it('shows a script-free logout confirmation and logs out', async () => {
    const url = new URL(endpoint('end_session_endpoint'));
    url.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: postLogoutUri, state: 'bye' }).toString();
    const page = await get(url.href);
    assert.equal(page.status, 200);
    assertPageHeaders(page);
    const html = await page.text();
    assert.match(html, /<form[^>]*method="post"/);
    assert.match(html, /<button[^>]*>Log out<\/button>/);
    assertNoExternalUrls(html, issuer);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(xsrf);

    const done = await post(endpoint('end_session_endpoint') + '/confirm', { xsrf, logout: 'yes' });
    assert.equal(done.status, 303);
    const target = new URL(location(done, url.href));
    assert.equal(`${target.origin}${target.pathname}`, postLogoutUri);
    assert.equal(target.searchParams.get('state'), 'bye');
    assert.equal(backchannelTokens.length, 1, 'the back-channel logout token was delivered');

    // The refresh token ended with the IdP session.
    const refreshed = await token({ grant_type: 'refresh_token', refresh_token: refreshToken });
    assert.equal(refreshed.status, 400);
  });

  it('shows a script-free logout page without a session too, and a success page', async () => {
    const page = await fetch(endpoint('end_session_endpoint'), { redirect: 'manual' });
    assert.equal(page.status, 200);
    assertPageHeaders(page);
    const html = await page.text();
    assert.match(html, />Log out<\/button>/);
    assertNoExternalUrls(html, issuer);

    const success = await fetch(`${endpoint('end_session_endpoint')}/success`, { redirect: 'manual' });
    assert.equal(success.status, 200);
    assertPageHeaders(success);
    assertNoExternalUrls(await success.text(), issuer);
  });

  it('serves its stylesheet and a 404 page', async () => {
    const css = await fetch(`${issuer}/assets/idp.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    assert.doesNotMatch(await css.text(), /url\(|@import/);
    const missing = await fetch(`${issuer}/nothing-here`);
    assert.equal(missing.status, 404);
    assertPageHeaders(missing);
  });

  it('mounts under an issuer path', async () => {
    const mounted = createDevIdp({
      issuer: 'http://localhost:5000/idp',
      users: USERS,
      cookieKeys: ['another-test-cookie-key-long-enough'],
      clients: [{ clientId: 'c', clientSecret: 's'.repeat(32), redirectUris: ['http://localhost:5000/callback'], postLogoutRedirectUris: [] }],
    });
    assert.equal(mounted.mountPath, '/idp');
    const server = createServer(mounted.handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      // fetch() cannot set Host: use node:http to pretend the request came through http://localhost:5000.
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        httpGet({ host: '127.0.0.1', port, path: '/idp/.well-known/openid-configuration', headers: { host: 'localhost:5000' } }, (res) => {
          let data = '';
          res.on('data', (chunk: Buffer) => { data += chunk.toString(); });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: data }));
        }).on('error', reject);
      });
      assert.equal(status, 200);
      const meta = JSON.parse(text) as Record<string, string>;
      assert.equal(meta['issuer'], 'http://localhost:5000/idp');
      assert.equal(meta['authorization_endpoint'], 'http://localhost:5000/idp/auth');
      const outside = await fetch(`http://127.0.0.1:${port}/other`);
      assert.equal(outside.status, 404);
      const css = await fetch(`http://127.0.0.1:${port}/idp/assets/idp.css`);
      assert.equal(css.status, 200);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
