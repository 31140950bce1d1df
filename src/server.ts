import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { KeygateConfig } from './config/types.js';
import { createDevIdp } from './dev-idp/index.js';
import { buildApp } from './http/app.js';
import { callbackUrl } from './oidc/login.js';
import { OidcProvider, type OidcDeps } from './oidc/provider.js';
import { MemoryStore } from './session/memory.js';
import { RedisStore } from './session/redis.js';
import type { SessionStore } from './session/store.js';

export interface RunningKeygate {
  app: FastifyInstance;
  store: SessionStore;
  oidc: OidcProvider;
  /** Where Keygate listens, e.g. http://localhost:5000. */
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: FastifyServerOptions['logger'];
  store?: SessionStore;
  oidc?: OidcDeps;
}

/**
 * Starts Keygate: the store, the embedded development provider in dev mode (mounted under `/idp` on the same
 * server), the provider client and the HTTP app, listening on HOST:PORT.
 */
export async function startKeygate(config: KeygateConfig, options: StartOptions = {}): Promise<RunningKeygate> {
  const store = options.store ?? (await createStore(config));
  const oidc = new OidcProvider(config, options.oidc);
  let mount: Parameters<typeof buildApp>[1]['mount'];
  if (config.mode === 'dev') {
    const home = new URL(`${config.baseUrl.pathname.replace(/\/$/, '')}/`, config.baseUrl).href;
    const idp = createDevIdp({
      issuer: config.issuerUrl,
      clients: [
        {
          clientId: config.clientId,
          clientSecret: config.clientSecret,
          redirectUris: [callbackUrl(config).href],
          postLogoutRedirectUris: [home],
          backchannelLogoutUri: new URL('/backchannel-logout', config.baseUrl).href,
        },
      ],
      users: config.devUsers,
      cookieKeys: [...config.secretKeys],
    });
    mount = { path: idp.mountPath, handler: idp.handler };
  }
  const app = await buildApp(config, { store, oidc, ...(mount ? { mount } : {}), ...(options.logger !== undefined ? { logger: options.logger } : {}) });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  return {
    app,
    store,
    oidc,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

/**
 * The store the configuration names: Redis when REDIS_URL (or Cluster / Sentinel settings) is set, memory otherwise.
 * A Redis that cannot be reached at start-up does not stop Keygate: it answers 503 until Redis is back.
 */
export async function createStore(config: KeygateConfig): Promise<SessionStore> {
  if (config.redis === undefined) return new MemoryStore({ maxEntries: config.sessionMaxEntries });
  return RedisStore.connect({ ...config.redis, secretKeys: config.secretKeys });
}
