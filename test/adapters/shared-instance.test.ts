/**
 * One core instance handed to both adapters (`{ keygate }`): both guard with it, neither closes what it did not
 * create, and options are refused when the plugin or middleware is created, not on the first request.
 */
import assert from 'node:assert/strict';
import express from 'express';
import Fastify from 'fastify';
import { describe, it } from 'node:test';
import { keygateExpress } from '../../src/adapters/express.js';
import { keygatePlugin } from '../../src/adapters/fastify.js';
import { createKeygate, KeygateOptionsError, PolicyError } from '../../src/index.js';
import { startLocalIssuer } from '../helpers/issuer.js';

const AUDIENCE = 'https://api.example.test';

describe('adapters over one shared core instance', () => {
  it('both adapters accept { keygate } and leave its store open when they close', async (t) => {
    const issuer = await startLocalIssuer(AUDIENCE);
    t.after(() => issuer.close());
    const core = createKeygate({ issuer: issuer.issuer, audience: AUDIENCE });
    t.after(() => core.close());

    const fastify = Fastify({ logger: false });
    await fastify.register(keygatePlugin, { keygate: core });
    fastify.get('/me', { preHandler: fastify.keygate.protect() }, async (request) => ({ sub: request.auth?.profile.sub }));
    assert.equal(fastify.keygate.core, core);
    const app = express();
    const auth = keygateExpress({ keygate: core });
    app.get('/me', auth, (req, res) => res.json({ sub: req.auth?.profile.sub }));
    assert.equal(auth.core, core);

    const token = await issuer.mint();
    const f = await fastify.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(f.json(), { sub: 'user-1' });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const e = await fetch(`http://127.0.0.1:${port}/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual(await e.json(), { sub: 'user-1' });
    } finally {
      server.close();
    }
    await core.store.revokeToken('some-key', Date.now() + 60_000);
    await fastify.close();
    // Closing the core would clear its private MemoryStore: the plugin did not close an instance it was given.
    assert.equal(await core.store.isRevoked('some-key'), true);
    await core.close();
    assert.equal(await core.store.isRevoked('some-key'), false, 'the core closes the store it created');
    assert.equal(issuer.hits.get('/.well-known/openid-configuration'), 1);
  });

  it('bad options and bad policies fail at creation, in both adapters', async () => {
    assert.throws(() => keygateExpress({ issuer: 'ftp://x', audience: '' }), (e: unknown) => e instanceof KeygateOptionsError && e.problems.length === 2);
    const fastify = Fastify({ logger: false });
    await assert.rejects(async () => {
      await fastify.register(keygatePlugin, { issuer: 'ftp://x', audience: '' });
      await fastify.ready();
    }, KeygateOptionsError);
    const auth = keygateExpress({ issuer: 'https://idp.example.com/', audience: AUDIENCE });
    assert.throws(() => auth.protect({ scopes: ['has space'] }), PolicyError);
  });
});
