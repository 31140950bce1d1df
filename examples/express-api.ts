/**
 * A small API on Express, protected by Keygate.
 *
 *   npm start                     # Keygate with its development provider on http://localhost:5000
 *   npm run example:express       # this API on http://127.0.0.1:5002, trusting that provider
 *   curl -H "Authorization: Bearer <token from the key page>" http://127.0.0.1:5002/api/me
 *
 * Run that way, this API has its own memory store and does not see logouts made through Keygate. To see them, run it
 * with Keygate's REDIS_URL and SECRET_KEY (a separate process on the same Redis), or in ONE process with Keygate:
 *
 *   REDIS_URL=redis://127.0.0.1:6379 SECRET_KEY=<the same as Keygate's> npm run example:express
 *   KEYGATE_EMBED=true npm run example:express
 *
 * Environment: as in examples/fastify-api.ts (API_PORT defaults to 5002 here).
 */
import express from 'express';
import type { KeygateOptions } from 'keygate';
import { RedisStore } from 'keygate/redis';
import { loadConfig, startKeygate } from 'keygate/server';
import { keygateExpress } from 'keygate/express';

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

const auth = keygateExpress(options); // options are checked here: a mistake fails now, listing every problem
const app = express();

// Any valid, unrevoked token.
app.get('/api/me', auth, (req, res) => {
  res.json({ sub: req.auth!.profile.sub, email: req.auth!.profile.email ?? null });
});

// Needs an access token with this scope (set AUDIENCE on Keygate); ID tokens get 403 insufficient_scope.
app.get('/api/messages', auth.protect({ scopes: ['read:messages'] }), (_req, res) => {
  res.json({ messages: ['hello'] });
});

// Only these users (the allowlist policy; the other policies are permissions and claims, see the README).
app.get('/api/admin', auth.protect({ allowlist: ['alice@example.com'] }), (req, res) => {
  res.json({ admin: req.auth!.profile.email });
});

const host = env.API_HOST ?? '127.0.0.1';
const server = app.listen(Number(env.API_PORT ?? 5002), host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : env.API_PORT;
  console.log(`example API (express) on http://${host}:${port}${embedded ? `, Keygate on ${embedded.url}` : ''}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close(() => void (embedded ? embedded.close() : store?.close() ?? auth.core.close()).finally(() => process.exit(0)));
  });
}
