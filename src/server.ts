import type { FastifyInstance, FastifyServerOptions } from 'fastify';
/**
 * `keygate/server`: the whole Keygate server — configuration from the environment, the HTTP app, the store it
 * names, and the embedded development provider (loaded only in development mode).
 */
import type { ServerConfig } from './config/types.js';
import { buildApp, createServerCore, type AppDeps } from './http/app.js';
import { metricsEndpointOf } from './http/metrics.js';
import { listenForMetrics, type MetricsListener } from './http/metrics-listener.js';
import type { Keygate } from './keygate/create.js';
import { callbackUrl } from './oidc/login.js';
import { startupChecks } from './oidc/startup.js';
import { MemoryStore } from './session/memory.js';
import { RedisStore } from './session/redis.js';
import type { SessionStore } from './session/store.js';

export { buildApp, createServerCore, type AppDeps } from './http/app.js';
export { loadConfig, loadConfigFromProcess, ConfigError, keygateOptionsFrom, type Env, type ServerConfig, type KeygateConfig } from './config/index.js';
export { RelyingParty } from './oidc/relying-party.js';

export interface RunningKeygate {
  config: ServerConfig;
  app: FastifyInstance;
  store: SessionStore;
  /** The core every door of this server goes through. */
  keygate: Keygate;
  /** Where Keygate listens, e.g. http://localhost:5000. */
  url: string;
  /** Where `/metrics` is served when `METRICS_ADDRESS` moves it off the public port, e.g. http://127.0.0.1:9464. */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

export interface StartOptions extends Pick<AppDeps, 'fetch' | 'now' | 'jwksCooldownMs' | 'audit' | 'logOutput'> {
  logger?: FastifyServerOptions['logger'];
  store?: SessionStore;
}

/**
 * Starts Keygate: the store, the embedded development provider in dev mode (mounted under `/idp` on the same
 * server), the provider client and the HTTP app, listening on HOST:PORT.
 */
export async function startKeygate(config: ServerConfig, options: StartOptions = {}): Promise<RunningKeygate> {
  const store = options.store ?? (await createStore(config));
  const keygate = createServerCore(config, { store, ...pick(options) });
  let mount: Parameters<typeof buildApp>[1]['mount'];
  let warnings: string[] = [];
  if (config.mode === 'dev') {
    const home = new URL(`${config.baseUrl.pathname.replace(/\/$/, '')}/`, config.baseUrl).href;
    // Imported here: oidc-provider (and its Koa) loads only when the development provider runs.
    const { createDevIdp, apiScopes, scopeWarnings } = await import('./dev-idp/index.js');
    warnings = scopeWarnings(config.scope, config.audience);
    const idp = createDevIdp({
      issuer: config.issuerUrl,
      clients: [
        {
          clientId: config.clientId,
          clientSecret: config.clientSecret,
          redirectUris: [callbackUrl(config).href],
          postLogoutRedirectUris: [home],
          backchannelLogoutUri: new URL(`${config.baseUrl.pathname.replace(/\/$/, '')}/backchannel-logout`, config.baseUrl).href,
        },
      ],
      users: config.devUsers,
      apiScopes: apiScopes(config.scope),
      cookieKeys: [...config.secretKeys],
    });
    mount = { path: idp.mountPath, handler: idp.handler };
  }
  const app = await buildApp(config, { store, keygate, ...(mount ? { mount } : {}), ...(options.logger !== undefined ? { logger: options.logger } : {}), ...(options.logOutput ? { logOutput: options.logOutput } : {}), ...pick(options) });
  await app.listen({ host: config.host, port: config.port });
  let metricsListener: MetricsListener | undefined;
  if (config.metricsAddress !== undefined) {
    try {
      metricsListener = await listenForMetrics(metricsEndpointOf(app)!, config.metricsAddress, (error) => app.log.error({ err: error }, 'metrics collection failed'));
    } catch (error) {
      // A second listener that cannot bind is a start-up failure, as the first would be: nothing half-started.
      await app.close();
      if (options.store === undefined) await store.close();
      throw new Error(`METRICS_ADDRESS ${config.metricsAddress.host}:${config.metricsAddress.port}: cannot listen (${(error as Error).message})`, { cause: error });
    }
  }
  startupChecks(config, keygate, app.log, warnings);
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  return {
    config,
    app,
    store,
    keygate,
    url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`,
    metricsUrl: metricsListener?.url,
    async close() {
      await metricsListener?.close();
      await app.close();
      await store.close();
    },
  };
}

/** The injectable parts that reach the core and the routes. */
function pick(options: StartOptions): Pick<AppDeps, 'fetch' | 'now' | 'jwksCooldownMs' | 'audit'> {
  return {
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.jwksCooldownMs !== undefined ? { jwksCooldownMs: options.jwksCooldownMs } : {}),
  };
}

/**
 * The store the configuration names: Redis when REDIS_URL (or Cluster / Sentinel settings) is set, memory otherwise.
 * A Redis that cannot be reached at start-up does not stop Keygate: it answers 503 until Redis is back.
 */
export async function createStore(config: ServerConfig): Promise<SessionStore> {
  if (config.redis === undefined) return new MemoryStore({ maxEntries: config.sessionMaxEntries });
  return RedisStore.connect({ ...config.redis, secretKeys: config.secretKeys });
}
