/**
 * Keygate itself: the real buildApp with the real OidcProvider (discovery and JWKS from the fake issuer),
 * a store from the factory, one live session per fixture token. TOKEN_CACHE_SIZE and BENCH_STORE choose the variant.
 */
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { tokenKey } from '../../src/token/verifier.js';
import { CLIENT_ID, sessionOf } from '../lib/fixtures.js';
import { announce, serverEnv } from '../lib/serve.js';
import { makeStore, type StoreKind } from '../lib/stores.js';

const { port, fixture } = serverEnv();
const env: Record<string, string> = {
  ISSUER_URL: fixture.issuer,
  CLIENT_ID,
  CLIENT_SECRET: 'bench-client-secret-bench-client-secret',
  SECRET_KEY: 'bench-secret-key-bench-secret-key-0123456789',
  AUDIENCE: fixture.audience,
  HOST: '127.0.0.1',
  PORT: String(port),
  LOG_LEVEL: 'warn',
};
for (const name of ['TOKEN_CACHE_SIZE', 'REDIS_URL']) if (process.env[name] !== undefined) env[name] = process.env[name]!;
const config = loadConfig(env);
const store = await makeStore((process.env.BENCH_STORE ?? 'memory') as StoreKind, config);
const now = Date.now();
for (const [i, token] of fixture.tokens.entries()) {
  const s = sessionOf(i);
  const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
  await store.create({
    id: `bench-session-${i}`,
    sub: s.sub,
    email: s.email,
    emailVerified: s.email_verified,
    name: s.name,
    apiToken: token,
    tokenKind: 'access_token',
    tokenKey: tokenKey(token),
    createdAt: now,
    expiresAt: exp.exp * 1000,
  });
}
const app = await buildApp(config, { store });
await app.listen({ host: '127.0.0.1', port });
const address = app.server.address();
announce(typeof address === 'object' && address ? address.port : port, async () => {
  await app.close();
  await store.close();
});
