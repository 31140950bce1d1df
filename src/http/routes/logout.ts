import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KeygateError } from '../../errors.js';
import { endSessionUrl } from '../../oidc/logout.js';
import { renderLogoutConfirmPage } from '../../pages/logout.js';
import { tokenKey } from '../../token/verifier.js';
import { bearerOf } from './protected.js';
import type { RouteContext } from '../context.js';

const crossSite = () =>
  new KeygateError({ status: 403, code: 'cross_site_request', description: 'Logging out from another site is not allowed. Use the Log out button on Keygate\'s own page.' });

/**
 * A cookie-authenticated logout must come from Keygate's own pages: `Sec-Fetch-Site` when the browser sends it,
 * else `Origin` (which Chromium sends as `null` on same-origin posts under `Referrer-Policy: no-referrer`, hence
 * the Sec-Fetch-Site check first). Clients that send neither (curl) are not browsers and cannot be driven cross-site.
 */
export function isSameOrigin(request: FastifyRequest, baseOrigin: string): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin !== undefined) return origin === baseOrigin;
  return true;
}

function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** `POST /logout` (cookie or bearer) and `GET /logout` (bearer; with only a cookie, a confirmation form). */
export function logoutRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { cookies, store, config } = ctx;
  const baseOrigin = config.baseUrl.origin;

  const logout = async (request: FastifyRequest, reply: FastifyReply, method: 'GET' | 'POST') => {
    const hasBearer = request.headers.authorization !== undefined;
    const sessionId = cookies.sessionId(request);
    let idToken: string | undefined;
    let ended = false;

    if (hasBearer) {
      // Revoke the token itself (so it fails everywhere at once) and the session that issued it.
      const token = bearerOf(request);
      const session = await store.getByToken(tokenKey(token));
      if (session !== undefined) {
        ended = await store.delete(session.id);
        idToken = session.idToken ?? (session.tokenKind === 'id_token' ? session.apiToken : undefined);
      } else {
        // No live session holds it: revoke a valid token anyway (REQUIRE_SESSION=false); a bad one gets 401.
        const { verifier } = await ctx.oidc.discover();
        const verified = await verifier(token);
        await store.revokeToken(verified.key, verified.claims.exp * 1000);
      }
    } else if (sessionId === undefined && method === 'GET') {
      return reply.redirect('/', 303);
    } else if (method === 'GET') {
      return reply.type('text/html; charset=utf-8').send(renderLogoutConfirmPage({ action: '/logout' }));
    } else if (!isSameOrigin(request, baseOrigin)) {
      throw crossSite();
    }

    if (sessionId !== undefined && (!hasBearer || isSameOrigin(request, baseOrigin))) {
      const session = await store.get(sessionId);
      if (session !== undefined) {
        idToken ??= session.idToken ?? (session.tokenKind === 'id_token' ? session.apiToken : undefined);
        ended = (await store.delete(sessionId)) || ended;
      }
      cookies.clearSession(reply);
    }
    request.log.info({ ended }, 'logout');

    if (wantsJson(request) || (hasBearer && sessionId === undefined)) {
      return reply.code(200).send({ status: 'logged_out', ended });
    }
    return reply.redirect(await endSessionUrl(ctx.oidc, idToken), 303);
  };

  app.post('/logout', (request, reply) => logout(request, reply, 'POST'));
  app.get('/logout', (request, reply) => logout(request, reply, 'GET'));
}
