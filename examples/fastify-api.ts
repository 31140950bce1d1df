/**
 * A small API on Fastify, protected by Keygate.
 *
 *   npm start                     # Keygate with its development provider on http://localhost:5000
 *   npm run example:fastify       # this API on http://127.0.0.1:5001, trusting that provider
 *   curl -H "Authorization: Bearer <token from the key page>" http://127.0.0.1:5001/api/me
 *
 * Run that way, this API has its own memory store and does not see logouts made through Keygate. To see them, share
 * Keygate's store, either through Redis from this separate process (same REDIS_URL and SECRET_KEY as Keygate):
 *
 *   REDIS_URL=redis://127.0.0.1:6379 SECRET_KEY=<32+ chars> npm start
 *   REDIS_URL=redis://127.0.0.1:6379 SECRET_KEY=<the same> npm run example:fastify
 *
 * or in ONE process that also hosts Keygate (its store is then the very same instance):
 *
 *   KEYGATE_EMBED=true npm run example:fastify
 *
 * Environment (read here, by the application; the library reads none):
 *   KEYGATE_ISSUER    issuer to trust            (default http://localhost:5000/idp, the dev provider of `npm start`)
 *   KEYGATE_AUDIENCE  audience tokens must carry (default keygate-dev: dev-mode tokens are ID tokens for that client)
 *   API_HOST, API_PORT                           (default 127.0.0.1, 5001)
 *   REDIS_URL         open Keygate's Redis store, with SECRET_KEY (and REDIS_PREFIX if Keygate has one) as given to Keygate
 *   KEYGATE_EMBED     true: start Keygate here with the usual Keygate variables (HOST, PORT, …) and share its store
 */
import Fastify from 'fastify';
import type { KeygateOptions } from 'keygate';
import { RedisStore } from 'keygate/redis';
import { loadConfig, startKeygate } from 'keygate/server';
import { keygatePlugin } from 'keygate/fastify';

const env = process.env;
const embedded = env.KEYGATE_EMBED === 'true' ? await startKeygate(loadConfig(env)) : undefined;
// Logouts through Keygate reach this API only through Keygate's store: the same instance when Keygate runs in this
// process, or the same Redis (REDIS_URL and SECRET_KEY as given to Keygate) from a separate process.
const store = embedded?.store ?? (env.REDIS_URL ? await openRedisStore(env.REDIS_URL) : undefined);

/** Keygate's Redis store, opened with the values given to Keygate: its SECRET_KEY (a comma list) and REDIS_PREFIX. */
async function openRedisStore(url: string): Promise<RedisStore> {
  const secretKeys = (env.SECRET_KEY ?? '').split(',').map((key) => key.trim()).filter(Boolean);
  if (secretKeys.length === 0) throw new Error("REDIS_URL is set: set SECRET_KEY too, the same as Keygate's");
  return RedisStore.fromUrl(url, { secretKeys, prefix: env.REDIS_PREFIX });
}

const options: KeygateOptions = {
  issuer: embedded?.config.issuerUrl ?? env.KEYGATE_ISSUER ?? 'http://localhost:5000/idp',
  audience: embedded ? (embedded.config.audience ?? embedded.config.clientId) : (env.KEYGATE_AUDIENCE ?? 'keygate-dev'),
  ...(store ? { store } : {}),
  requireSession: embedded?.config.requireSession ?? false,
};

const app = Fastify({ logger: { level: env.LOG_LEVEL ?? 'info' } });
await app.register(keygatePlugin, options);

// Any valid, unrevoked token.
app.get('/api/me', { preHandler: app.keygate.protect() }, async (request) => ({
  sub: request.auth!.profile.sub,
  email: request.auth!.profile.email ?? null,
}));

// Needs an access token with this scope (set AUDIENCE on Keygate); ID tokens get 403 insufficient_scope.
app.get('/api/messages', { preHandler: app.keygate.protect({ scopes: ['read:messages'] }) }, async () => ({ messages: ['hello'] }));

// Only these users (the allowlist policy; the other policies are permissions and claims, see the README).
app.get('/api/admin', { preHandler: app.keygate.protect({ allowlist: ['alice@example.com'] }) }, async (request) => ({
  admin: request.auth!.profile.email,
}));

const url = await app.listen({ host: env.API_HOST ?? '127.0.0.1', port: Number(env.API_PORT ?? 5001) });
console.log(`example API (fastify) on ${url}${embedded ? `, Keygate on ${embedded.url}` : ''}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => (embedded ? embedded.close() : store?.close())).finally(() => process.exit(0));
  });
}
