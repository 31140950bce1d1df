/**
 * `errors: 'next'`: the Express adapter hands refusals to the application's error middleware, which restyles them;
 * real Express apps on loopback, real tokens from a local issuer.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express, { type ErrorRequestHandler } from 'express';
import { keygateExpress } from '../../src/adapters/express.js';
import { KeygateError, KeygateOptionsError } from '../../src/index.js';
import { startLocalIssuer, type LocalIssuer } from '../helpers/issuer.js';

const AUDIENCE = 'https://api.example.test';

async function listen(app: express.Express): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("Express errors: 'next' hands refusals to the application's error middleware", () => {
  let issuer: LocalIssuer;
  let styled: { url: string; close(): Promise<void> };
  let bare: { url: string; close(): Promise<void> };
  const seen: unknown[] = [];
  const closers: Array<() => Promise<void>> = [];

  before(async () => {
    issuer = await startLocalIssuer(AUDIENCE);
    const app = express();
    const auth = keygateExpress({ issuer: issuer.issuer, audience: AUDIENCE, errors: 'next' });
    closers.push(() => auth.core.close());
    app.get('/me', auth, (req, res) => res.json({ sub: req.auth?.profile.sub }));
    app.get('/scoped', auth.protect({ scopes: ['read:messages'] }), (_req, res) => res.json({ ok: true }));
    const restyle: ErrorRequestHandler = (err, _req, res, next) => {
      seen.push(err);
      if (!(err instanceof KeygateError)) return next(err);
      if (err.wwwAuthenticate !== undefined) res.set('WWW-Authenticate', err.wwwAuthenticate);
      res.status(err.statusCode).type('application/problem+json').send(JSON.stringify({ type: `urn:problem:${err.code}`, title: err.description, status: err.status }));
    };
    app.use(restyle);
    styled = await listen(app);

    // No error middleware at all: Express's own handler still gives the status and the challenge (from err.headers).
    const plain = express();
    const plainAuth = keygateExpress({ issuer: issuer.issuer, audience: AUDIENCE, errors: 'next' });
    closers.push(() => plainAuth.core.close());
    plain.get('/me', plainAuth, (_req, res) => res.json({ ok: true }));
    bare = await listen(plain);
  });
  after(async () => {
    await styled?.close();
    await bare?.close();
    for (const close of closers) await close();
    await issuer?.close();
  });

  it('no token: the error middleware answers, with status, code and the bare challenge', async () => {
    const response = await fetch(`${styled.url}/me`);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    assert.deepEqual(await response.json(), { type: 'urn:problem:unauthorized', title: 'An Authorization: Bearer <token> header is required.', status: 401 });
    const err = seen.at(-1) as KeygateError;
    assert.ok(err instanceof KeygateError);
    assert.equal(err.status, 401);
    assert.equal(err.statusCode, 401);
    assert.equal(err.headers['www-authenticate'], 'Bearer');
  });

  it('an expired token: 401 invalid_token with the RFC 6750 challenge', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.mint({ iat: now - 600, exp: now - 120 });
    const response = await fetch(`${styled.url}/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="The token has expired."');
    assert.deepEqual(await response.json(), { type: 'urn:problem:invalid_token', title: 'The token has expired.', status: 401 });
  });

  it('a missing scope: 403 insufficient_scope with the scope in the challenge', async () => {
    const response = await fetch(`${styled.url}/scoped`, { headers: { authorization: `Bearer ${await issuer.mint({ scope: 'openid' })}` } });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer error="insufficient_scope", error_description="The token lacks the scope this resource requires: read:messages.", scope="read:messages"');
    assert.equal(((await response.json()) as { type: string }).type, 'urn:problem:insufficient_scope');
  });

  it('a good token reaches the route; the error middleware is not called', async () => {
    const before = seen.length;
    const response = await fetch(`${styled.url}/me`, { headers: { authorization: `Bearer ${await issuer.mint()}` } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { sub: 'user-1' });
    assert.equal(seen.length, before);
  });

  it("without an error middleware, Express's default handler keeps the status and the challenge", async () => {
    const response = await fetch(`${bare.url}/me`);
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer');
    await response.text();
  });

  it('the option is validated with the others', () => {
    assert.throws(() => keygateExpress({ issuer: issuer.issuer, audience: AUDIENCE, errors: 'throw' as never }), (e: unknown) => e instanceof KeygateOptionsError && e.problems[0] === 'errors: "respond" or "next", got "throw"');
  });
});
