import { withBase } from '../base-path.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidRequest, LoginError } from '../../errors.js';
import { endSessionUrl } from '../../oidc/logout.js';
import { renderLogoutConfirmPage } from '../../pages/logout.js';
import type { Session } from '../../session/store.js';
import { bearerOf } from '../../token/bearer.js';
import type { RouteContext } from '../context.js';

const crossSite = () =>
  new LoginError('cross_site_request', 'Logging out from another site is not allowed. Use the Log out button on Keygate\'s own page.');

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

/** The ID token to send as `id_token_hint` to the provider's end-session endpoint. */
function logoutHint(session: Session): string | undefined {
  return session.idToken ?? (session.tokenKind === 'id_token' ? session.apiToken : undefined);
}

/** `POST /logout` (cookie or bearer) and `GET /logout` (bearer; with only a cookie, a confirmation form). */
export function logoutRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { cookies, store, config } = ctx;
  const baseOrigin = config.baseUrl.origin;

  /** Ends the session that issued the token, or revokes a valid token no session holds: the core's logout. */
  const logoutBearer = async (request: FastifyRequest): Promise<{ ended: boolean; hint: string | undefined; sub: string; id: string | undefined }> => {
    const { ended, sub, session } = await ctx.keygate.logout(bearerOf({ rawHeaders: request.raw.rawHeaders, query: request.query, body: request.body }));
    return { ended, hint: session && logoutHint(session), sub, id: session?.id };
  };

  /** `all=true` (form field or query): every other live session of the same user ends too. */
  const wantsAll = (request: FastifyRequest): boolean => {
    const pick = (source: unknown) =>
      typeof source === 'object' && source !== null ? (source as Record<string, unknown>).all : undefined;
    const value = pick(request.body) ?? pick(request.query);
    if (value === undefined) return false;
    if (value === 'true' || value === '1' || value === true) return true;
    if (value === 'false' || value === '0' || value === false) return false;
    throw invalidRequest('The all parameter must be true or false.');
  };

  const endAll = async (sub: string): Promise<string[]> => {
    const ended: string[] = [];
    for (const session of await store.listBySubject(sub)) if (await store.delete(session.id)) ended.push(session.id);
    return ended;
  };

  const logout = async (request: FastifyRequest, reply: FastifyReply, method: 'GET' | 'POST') => {
    const hasBearer = request.headers.authorization !== undefined;
    const sessionId = cookies.sessionId(request);
    const all = wantsAll(request);
    let hint: string | undefined;
    let ended = false;
    let sub: string | undefined;
    let endedId: string | undefined;

    if (hasBearer) {
      let id: string | undefined;
      ({ ended, hint, sub, id } = await logoutBearer(request));
      if (ended) endedId = id;
    } else if (method === 'GET') {
      // A link can be followed from anywhere: with only a cookie, ask first.
      if (sessionId === undefined) return reply.redirect(withBase(ctx.config, '/'), 303);
      return reply.type('text/html; charset=utf-8').send(renderLogoutConfirmPage({ action: '/logout' }));
    } else if (!isSameOrigin(request, baseOrigin)) {
      throw crossSite();
    }

    if (sessionId !== undefined && (!hasBearer || isSameOrigin(request, baseOrigin))) {
      const session = await store.get(sessionId);
      if (session !== undefined) {
        hint ??= logoutHint(session);
        sub ??= session.sub;
        if (await store.delete(sessionId)) {
          ended = true;
          endedId ??= sessionId;
        }
      }
      cookies.clearSession(reply);
    }
    // Log out everywhere: only after this request proved it holds one of the user's logins (token or cookie).
    const endedOthers = all && sub !== undefined ? await endAll(sub) : [];
    const others = endedOthers.length;
    if (ended || others > 0) ctx.metrics.logouts.inc((ended ? 1 : 0) + others);
    const address = request.ip;
    // Only a request that proved a login (a valid token or a live session) is an event; a stale cookie is not.
    if (sub !== undefined) {
      ctx.audit.emit({
        event: 'logout', outcome: 'success', actor: sub, clientAddress: address,
        ...(endedId !== undefined ? { sessionId: endedId } : {}), detail: { ended, via: hasBearer ? 'bearer' : 'cookie' },
      });
    }
    if (all && sub !== undefined) {
      ctx.audit.emit({ event: 'logout_everywhere', outcome: 'success', actor: sub, clientAddress: address, detail: { other_sessions_ended: others } });
      for (const id of endedOthers) ctx.audit.emit({ event: 'logout_everywhere', outcome: 'success', actor: sub, sessionId: id, clientAddress: address });
    }
    ended ||= others > 0;

    if (wantsJson(request) || (hasBearer && sessionId === undefined)) {
      return reply.code(200).send(all ? { status: 'logged_out', ended, other_sessions_ended: others } : { status: 'logged_out', ended });
    }
    return reply.redirect(await endSessionUrl(ctx.oidc, hint), 303);
  };

  app.post('/logout', (request, reply) => logout(request, reply, 'POST'));
  app.get('/logout', (request, reply) => logout(request, reply, 'GET'));
}
