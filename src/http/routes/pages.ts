import { withBase } from '../base-path.js';
import { readFileSync, readdirSync } from 'node:fs';
import { extname, sep } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as jose from 'jose';
import { renderKeyPage } from '../../pages/key.js';
import { renderLoginPage } from '../../pages/login.js';
import { profileFromSession } from '../../token/authorize.js';
import type { RouteContext } from '../context.js';
import { keySession } from '../key-session.js';

const PUBLIC_DIR = new URL('../../../public/', import.meta.url);
const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The few static files, read once at start-up and served from memory (no path ever reaches the file system).
 * Keyed by their path under public/ ("key.js", "key/live.js"), so a module's relative imports resolve to
 * /static/key/… exactly as the files sit on disk; types the route does not serve (format.d.ts) are left out.
 */
function loadStatic(): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const found of readdirSync(PUBLIC_DIR, { recursive: true, encoding: 'utf8' })) {
    const path = found.split(sep).join('/');
    const type = TYPES[extname(path)];
    if (type !== undefined) files.set(path, { body: readFileSync(new URL(path, PUBLIC_DIR)), type });
  }
  return files;
}

/** `GET /` (login page or on to the key page), `GET /key`, `GET /static/<path>`. */
export function pageRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { config, cookies, store } = ctx;
  const files = loadStatic();
  const providerLabel = config.mode === 'dev' ? 'Keygate development provider' : new URL(config.issuerUrl).host;
  const devUsers = config.mode === 'dev' ? config.devUsers.map(({ email, password }) => ({ email, password })) : undefined;
  const protectedUrl = new URL(`${config.baseUrl.pathname.replace(/\/$/, '')}/protected`, config.baseUrl).href;

  const liveSession = async (request: FastifyRequest) => {
    const id = cookies.sessionId(request);
    return id === undefined ? undefined : store.get(id);
  };

  app.get('/', { config: { errorFormat: 'html' } }, async (request, reply) => {
    if ((await liveSession(request)) !== undefined) return reply.redirect(withBase(config, '/key'), 302);
    return reply.type('text/html; charset=utf-8').send(renderLoginPage({ providerLabel, ...(devUsers ? { devUsers } : {}) }));
  });

  app.get('/key', { config: { errorFormat: 'html' } }, async (request, reply) => {
    const session = await keySession(ctx, request, reply);
    if (session === undefined) return reply.redirect(withBase(config, '/'), 302);
    const claims = jose.decodeJwt(session.apiToken);
    // The same profile /protected answers for this session's token.
    const profile = profileFromSession(session, claims.exp ?? Math.floor(session.expiresAt / 1000));
    return reply.type('text/html; charset=utf-8').send(
      renderKeyPage({
        token: session.apiToken,
        tokenKind: session.tokenKind === 'id_token' ? 'ID token' : 'access token',
        header: jose.decodeProtectedHeader(session.apiToken) as Record<string, unknown>,
        claims: claims as Record<string, unknown>,
        profile,
        protectedUrl,
        logoutAction: '/logout',
        sessionsPath: withBase(config, '/sessions'),
        homePath: withBase(config, '/'),
        ...(ctx.config.refresh && session.refreshToken !== undefined
          ? { refresh: { action: '/refresh', beforeSeconds: ctx.config.refreshBeforeSeconds } }
          : {}),
      }),
    );
  });

  app.get<{ Params: { '*': string } }>('/static/*', { config: { errorFormat: 'json' } }, async (request, reply) => {
    const file = files.get(request.params['*']);
    if (file === undefined) return reply.callNotFound();
    return reply.header('cache-control', 'public, max-age=300').type(file.type).send(file.body);
  });
}
