/**
 * A user's API as it would be written against the published package: imports by package name, resolved through
 * package.json "exports" to dist/*.d.ts (see exports.test.ts, which type-checks this file without the repo's paths).
 */
import express from 'express';
import Fastify from 'fastify';
import { createKeygate, MemoryStore, KeygateError, type KeygateAuth, type RoutePolicy } from 'keygate';
import { keygatePlugin } from 'keygate/fastify';
import { keygateExpress } from 'keygate/express';

const store = new MemoryStore({ maxEntries: 1000 });
const options = { issuer: 'https://tenant.example.auth0.com/', audience: 'https://api.example.com', store };
const admin: RoutePolicy = { permissions: ['admin'], claims: { org: { equals: 'acme' } } };

export async function fastifyApi() {
  const app = Fastify();
  await app.register(keygatePlugin, options);
  app.get('/me', { preHandler: app.keygate.protect({ scopes: ['read:me'] }) }, async (request) => {
    const auth: KeygateAuth | undefined = request.auth;
    return { sub: auth?.profile.sub, scopes: auth?.scopes };
  });
  return app;
}

export function expressApi() {
  const app = express();
  const auth = keygateExpress(options);
  app.get('/admin', auth.protect(admin), (req, res) => {
    const sub: string | undefined = req.auth?.profile.sub;
    res.json({ sub, permissions: req.auth?.permissions });
  });
  return app;
}

export const core = createKeygate(options);
export const isKeygateError = (e: unknown): e is KeygateError => e instanceof KeygateError;
