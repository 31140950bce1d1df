import type { FastifyInstance } from 'fastify';
import { KeygateError } from '../../errors.js';
import type { Session } from '../../session/store.js';
import { verifyLogoutToken } from '../../token/logout-token.js';
import type { RouteContext } from '../context.js';

/** Logout tokens older than this are refused (the provider sends them at once). */
const MAX_AGE_SECONDS = 300;

const badRequest = (description: string) => new KeygateError({ code: 'invalid_request', description });

/**
 * `POST /backchannel-logout` (OpenID Connect Back-Channel Logout 1.0): the provider tells Keygate that a provider
 * session (`sid`) or a user (`sub`) logged out. The matching sessions end and their tokens are revoked in the
 * shared store, so every instance refuses them. 200 with an empty body on success, 400 for a bad logout token.
 */
export function backchannelRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, config } = ctx;

  app.post('/backchannel-logout', { config: { errorFormat: 'json' } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const body = request.body;
    if (typeof body !== 'object' || body === null) throw badRequest('Expected a form body with logout_token.');
    const value = (body as Record<string, unknown>).logout_token;
    if (Array.isArray(value)) throw badRequest('logout_token is repeated.');
    if (typeof value !== 'string' || value === '') throw badRequest('logout_token is missing.');
    // The core's issuer client: one discovery and key set for every door; unreachable is 503, the OP retries.
    const { issuer, keys } = await ctx.keygate.issuer.discoverForApi();
    const target = await verifyLogoutToken(value, {
      issuer,
      audience: config.clientId,
      algorithms: config.algorithms,
      keys,
      clockTolerance: config.clockTolerance,
      maxAge: MAX_AGE_SECONDS,
      now: ctx.now,
    });
    let sessions: Session[];
    if (target.sid !== undefined) {
      sessions = await store.listByProviderSid(target.sid);
      if (target.sub !== undefined) sessions = sessions.filter((session) => session.sub === target.sub);
    } else {
      sessions = await store.listBySubject(target.sub!);
    }
    let ended = 0;
    for (const session of sessions) {
      if (!(await store.delete(session.id))) continue;
      ended++;
      ctx.audit.emit({ event: 'backchannel_logout', outcome: 'success', actor: 'provider', subject: session.sub, sessionId: session.id, clientAddress: request.ip });
    }
    if (ended > 0) ctx.metrics.logouts.inc(ended);
    // A logout of a login this Keygate no longer holds is still a fact worth keeping.
    if (ended === 0) ctx.audit.emit({ event: 'backchannel_logout', outcome: 'success', actor: 'provider', ...(target.sub !== undefined ? { subject: target.sub } : {}), clientAddress: request.ip, detail: { ended: 0 } });
    return reply.code(200).send();
  });
}
