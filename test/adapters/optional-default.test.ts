/**
 * `authRequired: false` as the adapter-wide default (Auth0's middleware option), on real Fastify and Express servers:
 * no credentials → the route runs with auth undefined; an expired token → still 401; a route whose policy says
 * `authRequired: true` → still 401 without credentials.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { keygateExpress } from '../../src/adapters/express.js';
import { keygatePlugin } from '../../src/adapters/fastify.js';
import { KeygateOptionsError } from '../../src/index.js';
import { startLocalIssuer, type LocalIssuer } from '../helpers/issuer.js';

const AUDIENCE = 'https://api.example.test';

describe('adapter-wide authRequired: false', () => {
  let issuer: LocalIssuer;
  const urls: Record<string, string> = {};
  const closers: Array<() => Promise<void>> = [];

  before(async () => {
    issuer = await startLocalIssuer(AUDIENCE);
    const fastify = Fastify({ logger: false });
    await fastify.register(keygatePlugin, { issuer: issuer.issuer, audience: AUDIENCE, authRequired: false });
    fastify.get('/who', { preHandler: fastify.keygate.protect() }, async (request) => ({ anonymous: request.auth === undefined, sub: request.auth?.profile.sub ?? null }));
    fastify.get('/strict', { preHandler: fastify.keygate.protect({ authRequired: true }) }, async () => ({ ok: true }));
    urls.Fastify = await fastify.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => fastify.close());

    const app = express();
    const auth = keygateExpress({ issuer: issuer.issuer, audience: AUDIENCE, authRequired: false });
    app.get('/who', auth, (req, res) => res.json({ anonymous: req.auth === undefined, sub: req.auth?.profile.sub ?? null }));
    app.get('/strict', auth.protect({ authRequired: true }), (_req, res) => res.json({ ok: true }));
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    urls.Express = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await auth.core.close();
    });
  });
  after(async () => {
    for (const close of closers) await close();
    await issuer?.close();
  });

  for (const adapter of ['Fastify', 'Express']) {
    it(`${adapter}: anonymous without credentials, the subject with a good token`, async () => {
      const anonymous = await fetch(`${urls[adapter]}/who`);
      assert.equal(anonymous.status, 200);
      assert.deepEqual(await anonymous.json(), { anonymous: true, sub: null });
      const signed = await fetch(`${urls[adapter]}/who`, { headers: { authorization: `Bearer ${await issuer.mint()}` } });
      assert.deepEqual(await signed.json(), { anonymous: false, sub: 'user-1' });
    });

    it(`${adapter}: an expired token is still 401, never anonymous`, async () => {
      const now = Math.floor(Date.now() / 1000);
      const expired = await fetch(`${urls[adapter]}/who`, { headers: { authorization: `Bearer ${await issuer.mint({ iat: now - 600, exp: now - 120 })}` } });
      assert.equal(expired.status, 401);
      assert.equal(expired.headers.get('www-authenticate'), 'Bearer error="invalid_token", error_description="The token has expired."');
      await expired.text();
    });

    it(`${adapter}: a route with authRequired: true still requires credentials`, async () => {
      const response = await fetch(`${urls[adapter]}/strict`);
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      await response.text();
    });
  }

  it('the option is validated with the others', async () => {
    assert.throws(() => keygateExpress({ issuer: issuer.issuer, audience: AUDIENCE, authRequired: 'no' as never }), KeygateOptionsError);
    const fastify = Fastify({ logger: false });
    await assert.rejects(async () => {
      await fastify.register(keygatePlugin, { issuer: issuer.issuer, audience: AUDIENCE, authRequired: 'no' as never });
      await fastify.ready();
    }, KeygateOptionsError);
    await fastify.close();
  });
});
