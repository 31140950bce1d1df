/**
 * ONE table of requests and the exact answers Keygate's adapters must give, run against a real Fastify server
 * (fastify.test.ts) and a real Express server (express.test.ts) on loopback, with real tokens signed by a key
 * generated here and served as a JWKS (helpers/issuer.ts). Both adapters passing this table is what "identical
 * statuses, bodies and WWW-Authenticate headers" means.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as jose from 'jose';
import type { KeygateAuth, KeygateOptions, RoutePolicy } from '../../src/index.js';
import { MemoryStore, tokenKey } from '../../src/index.js';
import { startLocalIssuer, type LocalIssuer } from '../helpers/issuer.js';
import { freePort } from '../helpers/net.js';

export const AUDIENCE = 'https://api.example.test';

/** The routes each adapter serves; each answers `describeAuth(request.auth)` as JSON (GET and POST). */
export const ROUTES: ReadonlyArray<{ path: string; policy?: RoutePolicy }> = [
  { path: '/me' },
  { path: '/scoped', policy: { scopes: ['read:messages', 'write:messages'] } },
  { path: '/permitted', policy: { permissions: ['delete:messages'] } },
  { path: '/org', policy: { claims: { org_id: { equals: 'acme' } } } },
  { path: '/groups', policy: { claims: { groups: { includes: 'admins' } } } },
  { path: '/adult', policy: { claims: { age: (value) => typeof value === 'number' && value >= 18 } } },
  { path: '/staff', policy: { allowlist: ['@staff.example'] } },
  { path: '/maybe', policy: { authRequired: false } },
  { path: '/maybe-scoped', policy: { authRequired: false, scopes: ['read:messages'] } },
];

/** What a route handler answers: the parts of `request.auth` a user's API would read. */
export function describeAuth(auth: KeygateAuth | null | undefined): Record<string, unknown> {
  // `undefined` (an anonymous request on an authRequired: false route) is told apart from `null`.
  if (auth === undefined) return { auth: 'undefined' };
  if (!auth) return { auth: null };
  return { sub: auth.profile.sub, email: auth.profile.email ?? null, scopes: auth.scopes, permissions: auth.permissions, iss: auth.token.claims.iss };
}

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** Starts an API of one adapter with `options`, serving ROUTES, listening on 127.0.0.1. */
export type StartApi = (options: KeygateOptions) => Promise<RunningApi>;

interface Ctx {
  issuer: LocalIssuer;
  store: MemoryStore;
  mint: LocalIssuer['mint'];
}

interface Case {
  name: string;
  path: string;
  /** `down`: an API whose issuer does not answer (connection refused). */
  target?: 'up' | 'down';
  method?: 'GET' | 'POST';
  headers?: (ctx: Ctx) => Promise<Record<string, string>>;
  query?: string;
  body?: (ctx: Ctx) => Promise<unknown>;
  status: number;
  /** Exact `WWW-Authenticate` (undefined: must be absent). */
  challenge?: string;
  /** Exact JSON body. */
  json: Record<string, unknown> | ((ctx: Ctx) => Record<string, unknown>);
  retryAfter?: string;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const withToken = (claims: jose.JWTPayload = {}, options?: Parameters<LocalIssuer['mint']>[1]) => async (ctx: Ctx) => bearer(await ctx.mint(claims, options));
/** RFC 6750 allows no `"` or `\` inside error_description: the challenge carries them as `'`. */
const quoted = (description: string) => description.replace(/["\\]/g, "'");
const invalid = (description: string) => ({
  status: 401,
  challenge: `Bearer error="invalid_token", error_description="${quoted(description)}"`,
  json: { error: 'invalid_token', error_description: description },
});
const scopeFail = (description: string, scope?: string) => ({
  status: 403,
  challenge: `Bearer error="insufficient_scope", error_description="${quoted(description)}"${scope ? `, scope="${scope}"` : ''}`,
  json: { error: 'insufficient_scope', error_description: description },
});
const ok = (extra: Record<string, unknown> = {}) => ({
  status: 200,
  json: (ctx: Ctx) => ({ sub: 'user-1', email: null, scopes: [], permissions: [], iss: ctx.issuer.issuer, ...extra }),
});

export const TABLE: Case[] = [
  {
    name: 'no credentials: 401 with a bare challenge',
    path: '/me',
    status: 401,
    challenge: 'Bearer',
    json: { error: 'unauthorized', error_description: 'An Authorization: Bearer <token> header is required.' },
  },
  {
    name: 'another scheme: 401 with a bare challenge',
    path: '/me',
    headers: async () => ({ authorization: 'Basic dXNlcjpwYXNz' }),
    status: 401,
    challenge: 'Bearer',
    json: { error: 'unauthorized', error_description: 'The Basic authorization scheme is not accepted; send "Authorization: Bearer <token>".' },
  },
  {
    name: 'Bearer without a token: 400 invalid_request',
    path: '/me',
    headers: async () => ({ authorization: 'Bearer' }),
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="The Authorization header has no token after \'Bearer\'."',
    json: { error: 'invalid_request', error_description: 'The Authorization header has no token after "Bearer".' },
  },
  {
    name: 'malformed token (not a JWT): 401 invalid_token',
    path: '/me',
    headers: async () => bearer('not-a-jwt'),
    ...invalid('The token is not a JWT (expected three dot-separated parts).'),
  },
  {
    name: 'bad signature (another key, same kid): 401',
    path: '/me',
    headers: async (ctx) => bearer(await ctx.mint({}, { key: ctx.issuer.foreignKey })),
    ...invalid('The token signature is invalid.'),
  },
  { name: 'expired: 401', path: '/me', headers: withToken({ iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 120 }), ...invalid('The token has expired.') },
  { name: 'wrong audience: 401', path: '/me', headers: withToken({ aud: 'https://other.example.test' }), ...invalid('The token is not meant for this API (aud).') },
  { name: 'wrong issuer: 401', path: '/me', headers: withToken({ iss: 'https://evil.example.test/' }), ...invalid('The token was issued by another issuer (iss).') },
  { name: 'unknown kid: 401', path: '/me', headers: withToken({}, { kid: 'k-unknown' }), ...invalid('No key of the issuer matches the token (kid).') },
  {
    name: 'HS256 (algorithm confusion with the public key): 401',
    path: '/me',
    headers: async (ctx) => {
      const now = Math.floor(Date.now() / 1000);
      const jwt = await new jose.SignJWT({ iss: ctx.issuer.issuer, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 60 })
        .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
        .sign(new TextEncoder().encode('a-shared-secret-of-thirty-two-bytes!'));
      return bearer(jwt);
    },
    ...invalid('The token is signed with an algorithm this API does not accept.'),
  },
  {
    name: 'unsigned (alg none): 401',
    path: '/me',
    headers: async (ctx) => {
      const now = Math.floor(Date.now() / 1000);
      return bearer(new jose.UnsecuredJWT({ iss: ctx.issuer.issuer, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 60 }).encode());
    },
    ...invalid('The token is damaged or not a JWT.'),
  },
  { name: 'a DPoP-typed token: 401', path: '/me', headers: withToken({}, { typ: 'dpop+jwt' }), ...invalid('Tokens of type "dpop+jwt" are not accepted.') },
  {
    name: 'revoked in the shared store: 401',
    path: '/me',
    headers: async (ctx) => {
      const token = await ctx.mint({ jti: 'revoked-one' });
      await ctx.store.revokeToken(tokenKey(token), Date.now() + 300_000);
      return bearer(token);
    },
    ...invalid('This token has been revoked (the user logged out). Please log in again.'),
  },
  {
    name: 'token in the query string: 400 invalid_request',
    path: '/me',
    query: '?access_token=abc.def.ghi',
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="Tokens in the query string are not accepted; send an Authorization: Bearer header."',
    json: { error: 'invalid_request', error_description: 'Tokens in the query string are not accepted; send an Authorization: Bearer header.' },
  },
  {
    name: 'token in the query string beside a good header: still 400',
    path: '/me',
    query: '?access_token=x',
    headers: withToken(),
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="Tokens in the query string are not accepted; send an Authorization: Bearer header."',
    json: { error: 'invalid_request', error_description: 'Tokens in the query string are not accepted; send an Authorization: Bearer header.' },
  },
  {
    name: 'token in a JSON body: 400 invalid_request',
    path: '/me',
    method: 'POST',
    body: async (ctx) => ({ access_token: await ctx.mint() }),
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="Tokens in the request body are not accepted; send an Authorization: Bearer header."',
    json: { error: 'invalid_request', error_description: 'Tokens in the request body are not accepted; send an Authorization: Bearer header.' },
  },
  { name: 'success: 200 with request.auth populated', path: '/me', headers: withToken({ email: 'ann@example.com', scope: 'openid read:messages', permissions: ['a:b'] }), ...ok({ email: 'ann@example.com', scopes: ['openid', 'read:messages'], permissions: ['a:b'] }) },
  { name: 'success over POST with a JSON body', path: '/me', method: 'POST', headers: withToken(), body: async () => ({ hello: 'world' }), ...ok() },
  {
    name: 'scope missing (one of two): 403 naming both',
    path: '/scoped',
    headers: withToken({ scope: 'read:messages' }),
    ...scopeFail('The token lacks the scope this resource requires: read:messages write:messages.', 'read:messages write:messages'),
  },
  {
    name: 'no scope claim at all (an ID token): 403 saying so',
    path: '/scoped',
    headers: withToken(),
    ...scopeFail(
      'The token carries no scopes at all (no "scope" claim), so it cannot grant read:messages write:messages. ID tokens carry none: set AUDIENCE so that the API token is an access token for your API.',
      'read:messages write:messages',
    ),
  },
  { name: 'scopes as a `scope` string: 200', path: '/scoped', headers: withToken({ scope: 'write:messages read:messages' }), ...ok({ scopes: ['write:messages', 'read:messages'] }) },
  { name: 'scopes as an `scp` array: 200', path: '/scoped', headers: withToken({ scp: ['read:messages', 'write:messages'] }), ...ok({ scopes: ['read:messages', 'write:messages'] }) },
  {
    name: 'permission missing: 403 naming it',
    path: '/permitted',
    headers: withToken({ permissions: ['read:messages'], scope: 'delete:messages' }),
    ...scopeFail('The token lacks the permissions this resource requires: delete:messages.', 'delete:messages'),
  },
  { name: 'permission present: 200', path: '/permitted', headers: withToken({ permissions: ['delete:messages'] }), ...ok({ permissions: ['delete:messages'] }) },
  { name: 'claim equals fails: 403', path: '/org', headers: withToken({ org_id: 'acme-evil' }), ...scopeFail('The token\'s "org_id" claim does not meet this resource\'s requirement.') },
  { name: 'claim equals absent: 403', path: '/org', headers: withToken(), ...scopeFail('The token\'s "org_id" claim does not meet this resource\'s requirement.') },
  { name: 'claim equals passes: 200', path: '/org', headers: withToken({ org_id: 'acme' }), ...ok() },
  { name: 'claim includes fails: 403', path: '/groups', headers: withToken({ groups: ['users', 'admins-not'] }), ...scopeFail('The token\'s "groups" claim does not meet this resource\'s requirement.') },
  { name: 'claim includes passes: 200', path: '/groups', headers: withToken({ groups: ['users', 'admins'] }), ...ok() },
  { name: 'claim function fails: 403', path: '/adult', headers: withToken({ age: 17 }), ...scopeFail('The token\'s "age" claim does not meet this resource\'s requirement.') },
  { name: 'claim function passes: 200', path: '/adult', headers: withToken({ age: 18 }), ...ok() },
  {
    name: 'route allowlist refuses another domain: 403 access_denied',
    path: '/staff',
    headers: withToken({ email: 'eve@example.com', email_verified: true }),
    status: 403,
    challenge: 'Bearer error="access_denied", error_description="The address eve@example.com may not use this resource."',
    json: { error: 'access_denied', error_description: 'The address eve@example.com may not use this resource.' },
  },
  {
    name: 'route allowlist refuses an unverified address: 403',
    path: '/staff',
    headers: withToken({ email: 'sam@staff.example', email_verified: false }),
    status: 403,
    challenge: 'Bearer error="access_denied", error_description="The address sam@staff.example may not use this resource."',
    json: { error: 'access_denied', error_description: 'The address sam@staff.example may not use this resource.' },
  },
  { name: 'route allowlist admits its domain: 200', path: '/staff', headers: withToken({ email: 'sam@staff.example' }), ...ok({ email: 'sam@staff.example' }) },
  {
    name: 'provider down: 503 temporarily_unavailable, no challenge',
    path: '/me',
    target: 'down',
    headers: withToken(),
    status: 503,
    json: { error: 'temporarily_unavailable', error_description: 'The provider cannot be reached to verify tokens.' },
    retryAfter: '1',
  },
  {
    name: 'provider down, no token: still 401 (no provider needed to say so)',
    path: '/me',
    target: 'down',
    status: 401,
    challenge: 'Bearer',
    json: { error: 'unauthorized', error_description: 'An Authorization: Bearer <token> header is required.' },
  },
  // Optional authentication (`authRequired: false`): only a request without any credentials passes as anonymous.
  { name: 'optional, no credentials: 200 with auth undefined', path: '/maybe', status: 200, json: { auth: 'undefined' } },
  { name: 'optional, a good token: 200 with auth set', path: '/maybe', headers: withToken({ email: 'ann@example.com' }), ...ok({ email: 'ann@example.com' }) },
  { name: 'optional, expired token: still 401', path: '/maybe', headers: withToken({ iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 120 }), ...invalid('The token has expired.') },
  { name: 'optional, bad signature: still 401', path: '/maybe', headers: async (ctx) => bearer(await ctx.mint({}, { key: ctx.issuer.foreignKey })), ...invalid('The token signature is invalid.') },
  { name: 'optional, not a JWT: still 401', path: '/maybe', headers: async () => bearer('not-a-jwt'), ...invalid('The token is not a JWT (expected three dot-separated parts).') },
  {
    name: 'optional, revoked token: still 401',
    path: '/maybe',
    headers: async (ctx) => {
      const token = await ctx.mint({ jti: 'revoked-optional' });
      await ctx.store.revokeToken(tokenKey(token), Date.now() + 300_000);
      return bearer(token);
    },
    ...invalid('This token has been revoked (the user logged out). Please log in again.'),
  },
  {
    name: 'optional, another scheme: still 401 (credentials were sent)',
    path: '/maybe',
    headers: async () => ({ authorization: 'Basic dXNlcjpwYXNz' }),
    status: 401,
    challenge: 'Bearer',
    json: { error: 'unauthorized', error_description: 'The Basic authorization scheme is not accepted; send "Authorization: Bearer <token>".' },
  },
  {
    name: 'optional, an empty Authorization header: 400, not anonymous',
    path: '/maybe',
    headers: async () => ({ authorization: 'Bearer' }),
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="The Authorization header has no token after \'Bearer\'."',
    json: { error: 'invalid_request', error_description: 'The Authorization header has no token after "Bearer".' },
  },
  {
    name: 'optional, token in the query string: 400, not anonymous',
    path: '/maybe',
    query: '?access_token=abc.def.ghi',
    status: 400,
    challenge: 'Bearer error="invalid_request", error_description="Tokens in the query string are not accepted; send an Authorization: Bearer header."',
    json: { error: 'invalid_request', error_description: 'Tokens in the query string are not accepted; send an Authorization: Bearer header.' },
  },
  { name: 'optional with a scope, no credentials: 200 anonymous', path: '/maybe-scoped', status: 200, json: { auth: 'undefined' } },
  { name: 'optional with a scope, a token without it: 403', path: '/maybe-scoped', headers: withToken({ scope: 'openid' }), ...scopeFail('The token lacks the scope this resource requires: read:messages.', 'read:messages') },
  { name: 'optional, provider down, no credentials: 200 anonymous (no provider needed)', path: '/maybe', target: 'down', status: 200, json: { auth: 'undefined' } },
  {
    name: 'optional, provider down, a token: 503, not anonymous',
    path: '/maybe',
    target: 'down',
    headers: withToken(),
    status: 503,
    json: { error: 'temporarily_unavailable', error_description: 'The provider cannot be reached to verify tokens.' },
    retryAfter: '1',
  },
];

/** Runs TABLE against one adapter. */
export function runTable(adapter: string, start: StartApi): void {
  describe(`${adapter} adapter: the shared table`, () => {
    let issuer: LocalIssuer;
    let store: MemoryStore;
    let up: RunningApi;
    let down: RunningApi;
    before(async () => {
      issuer = await startLocalIssuer(AUDIENCE);
      store = new MemoryStore({ maxEntries: 100, sweepIntervalMs: 0 });
      up = await start({ issuer: issuer.issuer, audience: AUDIENCE, store });
      down = await start({ issuer: `http://127.0.0.1:${await freePort()}`, audience: AUDIENCE, timeoutMs: 2_000 });
    });
    after(async () => {
      await up?.close();
      await down?.close();
      await store?.close();
      await issuer?.close();
    });

    for (const c of TABLE) {
      it(c.name, async () => {
        const ctx: Ctx = { issuer, store, mint: issuer.mint };
        const headers = { accept: 'application/json', ...(c.headers ? await c.headers(ctx) : {}) };
        const init: RequestInit = { method: c.method ?? 'GET', headers };
        if (c.body) {
          init.body = JSON.stringify(await c.body(ctx));
          (headers as Record<string, string>)['content-type'] = 'application/json';
        }
        const base = (c.target ?? 'up') === 'up' ? up.url : down.url;
        const response = await fetch(`${base}${c.path}${c.query ?? ''}`, init);
        const text = await response.text();
        assert.equal(response.status, c.status, text);
        assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
        assert.deepEqual(JSON.parse(text), typeof c.json === 'function' ? c.json(ctx) : c.json);
        assert.equal(response.headers.get('www-authenticate') ?? undefined, c.challenge);
        assert.equal(response.headers.get('retry-after') ?? undefined, c.retryAfter);
        if (c.status !== 200) assert.equal(response.headers.get('cache-control'), 'no-store');
      });
    }

    it('discovery ran once for every request and route of this API', () => {
      assert.equal(issuer.hits.get('/.well-known/openid-configuration'), 1);
      // Once, plus at most one refetch for the unknown kid (jose's cooldown bounds it).
      assert.ok((issuer.hits.get('/jwks') ?? 0) <= 2, String(issuer.hits.get('/jwks')));
    });
  });
}
