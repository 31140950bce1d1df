import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import * as jose from 'jose';
import { loadConfig } from '../../src/config/index.js';
import { buildApp } from '../../src/http/app.js';
import { MemoryStore } from '../../src/session/memory.js';
import { tokenKey } from '../../src/token/verifier.js';

const ISSUER = 'https://tenant.eu.auth0.com/';
const API = 'https://api.example.com';

/**
 * Keygate configured for an Auth0 tenant served over https, with the tenant's discovery and JWKS answered by an
 * injected fetch (the one thing that cannot be real here: Auth0 itself). Auth0 publishes no end_session_endpoint
 * unless enabled, so logout must go to /v2/logout.
 */
describe('an Auth0 tenant behind https: audience, __Host- cookies, /v2/logout', () => {
  let app: FastifyInstance;
  let store: MemoryStore;
  let privateKey: jose.CryptoKey;
  const requested: string[] = [];

  before(async () => {
    const pair = await jose.generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const fakeAuth0: typeof fetch = async (input) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      requested.push(url.href);
      if (url.href === `${ISSUER}.well-known/openid-configuration`) {
        return Response.json({
          issuer: ISSUER,
          authorization_endpoint: `${ISSUER}authorize`,
          token_endpoint: `${ISSUER}oauth/token`,
          userinfo_endpoint: `${ISSUER}userinfo`,
          jwks_uri: `${ISSUER}.well-known/jwks.json`,
          response_types_supported: ['code'],
          id_token_signing_alg_values_supported: ['RS256'],
        });
      }
      if (url.href === `${ISSUER}.well-known/jwks.json`) return Response.json({ keys: [jwk] });
      return new Response('not found', { status: 404 });
    };
    const config = loadConfig({
      AUTH_HOST: 'tenant.eu.auth0.com',
      CLIENT_ID: 'auth0-client',
      CLIENT_SECRET: 'auth0-client-secret-0123456789-0123456789',
      SECRET_KEY: randomBytes(32).toString('base64url'),
      BASE_URL: 'https://keygate.example.com',
      AUDIENCE: API,
      EMAIL_CLAIM: 'https://example.com/email',
      LOG_LEVEL: 'silent',
    });
    store = new MemoryStore({ maxEntries: 10, sweepIntervalMs: 0 });
    app = await buildApp(config, { store, fetch: fakeAuth0, logger: false });
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  async function accessToken(claims: Record<string, unknown> = {}) {
    return new jose.SignJWT({ 'https://example.com/email': 'carol@example.com', scope: 'openid email', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience([API, `${ISSUER}userinfo`])
      .setSubject('auth0|carol')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
  }

  it('/login asks Auth0 for the audience, with PKCE, state and nonce; the transaction cookie is __Host- and Secure', async () => {
    const response = await app.inject({ method: 'GET', url: '/login' });
    assert.equal(response.statusCode, 302);
    const location = new URL(response.headers.location as string);
    assert.equal(location.origin + location.pathname, `${ISSUER}authorize`);
    assert.equal(location.searchParams.get('audience'), API);
    assert.equal(location.searchParams.get('resource'), null, 'Auth0 gets audience only');
    assert.equal(location.searchParams.get('redirect_uri'), 'https://keygate.example.com/callback');
    for (const name of ['state', 'nonce', 'code_challenge']) assert.ok(location.searchParams.get(name), name);
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256');
    const cookie = String(response.headers['set-cookie']);
    assert.match(cookie, /^__Host-keygate_tx_[\w-]{22}=[^;]+; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    assert.equal(response.headers['strict-transport-security'], 'max-age=31536000');
  });

  it('the redirect URI comes from BASE_URL, never from a forged Host header', async () => {
    const response = await app.inject({ method: 'GET', url: '/login', headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } });
    const location = new URL(response.headers.location as string);
    assert.equal(location.searchParams.get('redirect_uri'), 'https://keygate.example.com/callback');
  });

  it('access tokens with a namespaced e-mail claim pass; logout goes to /v2/logout and clears the __Host- cookie', async () => {
    const token = await accessToken();
    const id = randomBytes(32).toString('base64url');
    const exp = jose.decodeJwt(token).exp! * 1000;
    await store.create({
      id,
      sub: 'auth0|carol',
      email: 'carol@example.com',
      apiToken: token,
      tokenKind: 'access_token',
      tokenKey: tokenKey(token),
      idToken: 'id.token.hint',
      createdAt: Date.now(),
      expiresAt: exp,
    });
    const cookie = `__Host-keygate_session=${app.signCookie(id)}`;

    const key = await app.inject({ method: 'GET', url: '/key', headers: { cookie } });
    assert.equal(key.statusCode, 200);
    assert.match(key.body, /access token/);

    const ok = await app.inject({ method: 'GET', url: '/protected', headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().email, 'carol@example.com');

    const logout = await app.inject({ method: 'POST', url: '/logout', headers: { cookie, 'sec-fetch-site': 'same-origin', accept: 'text/html' } });
    assert.equal(logout.statusCode, 303);
    const location = new URL(logout.headers.location as string);
    assert.equal(location.origin + location.pathname, `${ISSUER}v2/logout`);
    assert.equal(location.searchParams.get('client_id'), 'auth0-client');
    assert.equal(location.searchParams.get('returnTo'), 'https://keygate.example.com/');
    assert.match(String(logout.headers['set-cookie']), /^__Host-keygate_session=; Max-Age=0; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/);

    const after = await app.inject({ method: 'GET', url: '/protected', headers: { authorization: `Bearer ${token}` } });
    assert.equal(after.statusCode, 401);
    assert.equal(after.json().error, 'invalid_token');
  });

  it('a plain-http cookie name is not accepted over https', async () => {
    const token = await accessToken({ jti: 'x' });
    const id = randomBytes(32).toString('base64url');
    await store.create({ id, sub: 'auth0|carol', apiToken: token, tokenKind: 'access_token', tokenKey: tokenKey(token), createdAt: Date.now(), expiresAt: Date.now() + 60_000 });
    const response = await app.inject({ method: 'GET', url: '/key', headers: { cookie: `keygate_session=${app.signCookie(id)}` } });
    assert.equal(response.statusCode, 302);
  });
});
