import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import pino from 'pino';
import type { KeygateConfig } from '../config/types.js';
import { UnavailableError } from '../errors.js';
import type { OidcProvider } from '../oidc/provider.js';
import type { SessionStore } from '../session/store.js';
import { createAuthorizer } from '../token/authorize.js';
import { clientErrorHandler } from './client-error.js';
import { Cookies } from './cookies.js';
import { installErrorBoundary } from './error-boundary.js';
import { securityHeaders } from './headers.js';
import { guardLoginWithStore } from './store-guard.js';
import { installMetrics } from './metrics.js';
import { installRateLimits } from './rate-limit.js';
import { Sealer } from './seal.js';
import type { RouteContext } from './context.js';
import { backchannelRoutes } from './routes/backchannel.js';
import { healthRoutes } from './routes/health.js';
import { loginRoutes } from './routes/login.js';
import { logoutRoutes } from './routes/logout.js';
import { pageRoutes } from './routes/pages.js';
import { protectedRoutes } from './routes/protected.js';
import { refreshRoutes } from './routes/refresh.js';

export interface AppDeps {
  store: SessionStore;
  oidc: OidcProvider;
  /** Requests under `mountPath` go to this handler instead (the embedded development provider). */
  mount?: { path: string; handler: (req: IncomingMessage, res: ServerResponse) => void };
  /** Fastify's logger option (pino); `false` in tests. */
  logger?: FastifyServerOptions['logger'];
  now?: () => number;
}

/** Logs a URL without its query values: `/callback?code=…&state=…` must never reach a log. */
function redactUrl(url: string): string {
  const index = url.indexOf('?');
  if (index === -1) return url;
  const names = [...new URLSearchParams(url.slice(index + 1)).keys()];
  return `${url.slice(0, index)}?${names.map((n) => `${encodeURIComponent(n)}=…`).join('&')}`;
}

/** `TRUST_PROXY` as Fastify's option: a hop count trusts that many proxies nearest to Keygate (as Express does). */
function trustProxyOption(value: KeygateConfig['trustProxy']): FastifyServerOptions['trustProxy'] {
  if (typeof value === 'number') return (_address: string, hop: number) => hop < value;
  return typeof value === 'object' ? [...value] : value;
}

/** Builds Keygate's HTTP app, not listening (tests use `inject()`; the CLI calls `listen`). */
export async function buildApp(config: KeygateConfig, deps: AppDeps): Promise<FastifyInstance> {
  const mount = deps.mount;
  const headers = securityHeaders(config);
  const app = Fastify({
    logger:
      deps.logger === undefined || deps.logger === true
        ? {
            level: config.logLevel,
            redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
            // Asynchronous writes (flushed on exit): a flood of refused tokens is logged without blocking the event loop.
            stream: pino.destination({ dest: 1, sync: false }),
            serializers: {
              req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
            },
          }
        : deps.logger,
    // Per-request lines would flood the log (the key page polls every second); errors, logins and logouts are logged.
    logController: new LogController({ disableRequestLogging: true }),
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
  const headerEntries = Object.entries(headers);
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of headerEntries) if (!reply.hasHeader(name)) reply.header(name, value);
    done(null, payload);
  });
  installErrorBoundary(app, { debug: config.debug });

  const metrics = installMetrics(app, deps.store);
  guardLoginWithStore(app, deps.store);
  const now = deps.now ?? Date.now;
  installRateLimits(app, config, now);
  const ctx: RouteContext = {
    config,
    store: deps.store,
    oidc: deps.oidc,
    cookies: new Cookies(config),
    transactions: new Sealer(config.secretKeys, 'login transaction'),
    authorize: createAuthorizer({
      config,
      store: deps.store,
      // On the API, an unreachable provider is a 503 with a Bearer-style JSON body, not a login page's 502.
      verifier: () =>
        deps.oidc.discover().then(
          (discovered) => discovered.verifier,
          (error: unknown) => {
            throw new UnavailableError('The provider cannot be reached to verify tokens.', error);
          },
        ),
    }),
    metrics,
    now,
  };
  pageRoutes(app, ctx);
  loginRoutes(app, ctx);
  logoutRoutes(app, ctx);
  backchannelRoutes(app, ctx);
  if (config.refresh) refreshRoutes(app, ctx);
  protectedRoutes(app, ctx);
  healthRoutes(app, ctx);
  return app;
}
