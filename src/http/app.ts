import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { createAudit, type Audit } from '../audit/audit.js';
import { keygateOptionsFrom } from '../config/options.js';
import type { ServerConfig } from '../config/types.js';
import { createKeygate, type Keygate } from '../keygate/create.js';
import { RelyingParty } from '../oidc/relying-party.js';
import type { SessionStore } from '../session/store.js';
import { clientErrorHandler } from './client-error.js';
import { Cookies } from './cookies.js';
import { installErrorBoundary } from './error-boundary.js';
import { basePathOf, installBasePath } from './base-path.js';
import { apiSecurityHeaders, bareAnswers, securityHeaders } from './headers.js';
import { guardLoginWithStore } from './store-guard.js';
import { requestLoggerFactory } from './request-logger.js';
import { serverLoggerOptions } from './logger.js';
import { installMetrics, type Metrics } from './metrics.js';
import { installRateLimits } from './rate-limit.js';
import { Sealer } from './seal.js';
import { installProxy } from '../proxy/index.js';
import type { RouteContext } from './context.js';
import { authRoutes } from './routes/auth.js';
import { backchannelRoutes } from './routes/backchannel.js';
import { healthRoutes } from './routes/health.js';
import { introspectRoutes } from './routes/introspect.js';
import { keyJsonRoutes } from './routes/key-json.js';
import { loginRoutes } from './routes/login.js';
import { logoutRoutes } from './routes/logout.js';
import { pageRoutes } from './routes/pages.js';
import { protectedRoutes } from './routes/protected.js';
import { refreshRoutes } from './routes/refresh.js';
import { adminRoutes } from './routes/admin.js';
import { sessionRoutes } from './routes/sessions.js';
import { LastUsedTracker, trackingLastUse } from './last-used.js';
import { createLogOutput, type LogOutput } from './log-output.js';

export interface AppDeps {
  store: SessionStore;
  /** The core every door goes through; by default built from `config` on `store`. */
  keygate?: Keygate;
  /** Replaces `fetch` for every call to the provider (tests inject network faults here). */
  fetch?: typeof fetch;
  /** After a key set refetch, an unknown `kid` waits this long (tests shorten it). */
  jwksCooldownMs?: number;
  /** Requests under `mountPath` go to this handler instead (the embedded development provider). */
  mount?: { path: string; handler: (req: IncomingMessage, res: ServerResponse) => void };
  /** Fastify's logger option (pino); `false` in tests. */
  logger?: FastifyServerOptions['logger'];
  /** Where the default logger writes (the CLI's, shared with its banner); default: stdout in `LOG_FORMAT`. */
  logOutput?: LogOutput;
  /** Clock in milliseconds, for tests: the core's and the routes'. */
  now?: () => number;
  /** Replaces the server's audit trail (tests record the entries here). */
  audit?: Audit;
}

/** `TRUST_PROXY` as Fastify's option: a hop count trusts that many proxies nearest to Keygate (as Express does). */
function trustProxyOption(value: ServerConfig['trustProxy']): FastifyServerOptions['trustProxy'] {
  if (typeof value === 'number') return (_address: string, hop: number) => hop < value;
  return typeof value === 'object' ? [...value] : value;
}

/** Builds Keygate's HTTP app, not listening (tests use `inject()`; the CLI calls `listen`). */
export async function buildApp(config: ServerConfig, deps: AppDeps): Promise<FastifyInstance> {
  const mount = deps.mount;
  const headers = securityHeaders(config);
  const app = Fastify({
    logger:
      deps.logger === undefined || deps.logger === true
        ? serverLoggerOptions(config.logLevel, (deps.logOutput ?? createLogOutput({ format: config.logFormat, isTTY: process.stdout.isTTY === true })).stream)
        : deps.logger,
    // Per-request lines would flood the log (the key page polls every second); errors, logins and logouts are logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Each request's logger is made on its first line (none without a logger: Fastify then makes no child at all).
    ...(deps.logger === false ? {} : { childLoggerFactory: requestLoggerFactory }),
    bodyLimit: 16 * 1024,
    routerOptions: { maxParamLength: 200 },
    requestTimeout: 30_000,
    return503OnClosing: true,
    clientErrorHandler: clientErrorHandler(headers),
    trustProxy: trustProxyOption(config.trustProxy),
    ...(mount
      ? {
          serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void): Server =>
            createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
              const url = req.url ?? '/';
              if (url === mount.path || url.startsWith(`${mount.path}/`) || url.startsWith(`${mount.path}?`)) mount.handler(req, res);
              else handler(req, res);
            }),
        }
      : {}),
  });

  await app.register(cookie, { secret: [...config.secretKeys], parseOptions: {} });
  await app.register(formbody, { bodyLimit: 16 * 1024 });

  // Computed once; a callback hook (no promise per request): this runs on every answer, /protected included.
  // JSON answers get the API set (headers.ts says why it suffices); everything else the page set; `bareAnswers` none.
  const pageHeaders = Object.entries(headers);
  const apiHeaders = Object.entries(apiSecurityHeaders(config));
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (bareAnswers.has(reply)) return done(null, payload);
    const type = reply.getHeader('content-type');
    const set = typeof type === 'string' && type.startsWith('application/json') ? apiHeaders : pageHeaders;
    for (const [name, value] of set) if (!reply.hasHeader(name)) reply.header(name, value);
    done(null, payload);
  });
  installErrorBoundary(app, { debug: config.debug });

  const metrics = installMetrics(app, deps.store, { onPublicPort: config.metricsAddress === undefined });
  const prefix = basePathOf(config);
  guardLoginWithStore(app, deps.store, [`${prefix}/login`]);
  const now = deps.now ?? Date.now;
  // With the Redis store the limits count across every instance (docs/deploy.md, "A public edge").
  const countHit = deps.store.countHit?.bind(deps.store);
  installRateLimits(app, config, now, countHit ? { shared: countHit } : {});
  installBasePath(app, config);
  const core = deps.keygate ?? createServerCore(config, deps);
  // TRACK_LAST_USED: every door's successful authorization marks its session used (off the critical path).
  const lastUsed = config.trackLastUsed ? new LastUsedTracker(deps.store, now, app.log) : undefined;
  const keygate = lastUsed ? trackingLastUse(core, lastUsed) : core;
  const ctx: RouteContext = {
    config,
    store: deps.store,
    keygate,
    oidc: new RelyingParty(config, keygate),
    cookies: new Cookies(config),
    transactions: new Sealer(config.secretKeys, 'login transaction'),
    metrics,
    audit: deps.audit ?? serverAudit(app, metrics),
    now,
    ...(lastUsed ? { lastUsed } : {}),
  };
  // With a path in BASE_URL every route lives under it (docs/edge.md); at the root the prefix is ''.
  await app.register(async (routes) => {
    pageRoutes(routes, ctx);
    if (config.mode === 'dev') keyJsonRoutes(routes, ctx);
    loginRoutes(routes, ctx);
    logoutRoutes(routes, ctx);
    backchannelRoutes(routes, ctx);
    if (config.refresh) refreshRoutes(routes, ctx);
    protectedRoutes(routes, ctx);
    if (config.introspectionClients.length > 0) introspectRoutes(routes, ctx);
    sessionRoutes(routes, ctx);
    adminRoutes(routes, ctx);
    healthRoutes(routes, ctx);
    await authRoutes(routes, ctx);
  }, { prefix });
  // Reverse-proxy mode (UPSTREAM): everything no route above takes, at the root of the host.
  await installProxy(app, ctx);
  return app;
}

/**
 * The audit trail on the server's logger. Audit lines are written at `info` even when LOG_LEVEL is `warn` or
 * `error` (a quieter log must not lose the trail); only `silent` silences them.
 */
function serverAudit(app: FastifyInstance, metrics: Metrics) {
  const log = app.log.level === 'silent' ? app.log : app.log.child({}, { level: 'info' });
  return createAudit(log, (event, outcome) => metrics.audit.inc({ event, outcome }));
}

/** The server's core: the library's `createKeygate`, configured from the environment, on the server's store. */
export function createServerCore(config: ServerConfig, deps: Pick<AppDeps, 'store' | 'fetch' | 'now' | 'jwksCooldownMs'>): Keygate {
  return createKeygate({
    ...keygateOptionsFrom(config),
    store: deps.store,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.jwksCooldownMs !== undefined ? { jwksCooldownMs: deps.jwksCooldownMs } : {}),
  });
}
