import type { FastifyInstance } from 'fastify';
import { KeygateError } from '../../errors.js';
import type { RouteContext } from '../context.js';
import { keySession } from '../key-session.js';
import { isSameOrigin } from './logout.js';

/**
 * `GET /key.json` (development mode only): the key page's token as JSON, `{ token, token_kind, expires_at }`, for
 * `keygate token` — so a script reads a stable field instead of scraping the page. Same cookie, same allowlist and
 * the same exposure as `/key`; a request a browser marks as coming from another site is refused, and nothing is cached.
 */
export function keyJsonRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const baseOrigin = ctx.config.baseUrl.origin;
  app.get('/key.json', { config: { errorFormat: 'json' } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (!isSameOrigin(request, baseOrigin)) {
      throw new KeygateError({ code: 'cross_site_request', description: 'The key cannot be read from another site.' });
    }
    const session = await keySession(ctx, request, reply);
    if (session === undefined) throw new KeygateError({ code: 'login_required', description: 'No live login in this browser. Please log in.' });
    return {
      token: session.apiToken,
      token_kind: session.tokenKind,
      expires_at: Math.floor(session.expiresAt / 1000),
    };
  });
}
