import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoginError } from '../../errors.js';
import { isPublicSessionId, publicSessionId } from '../../session/public-id.js';
import type { Session, SessionStore } from '../../session/store.js';
import { callerOf } from '../caller.js';
import type { RouteContext } from '../context.js';
import { sessionView } from '../session-view.js';

/** The most sessions `GET /sessions` lists for one user (pages of the store, walked here). */
export const MAX_OWN_SESSIONS = 1_000;

/** One answer for "not yours" and "no such session", so that an id reveals nothing about other users. */
export const noSuchSession = () => new LoginError('not_found', 'No such session.');

/** Every live session of one subject, page by page, up to `max`. */
export async function sessionsOf(store: SessionStore, sub: string, max = MAX_OWN_SESSIONS): Promise<Session[]> {
  const found: Session[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listPage({ sub, limit: Math.min(100, max - found.length), ...(cursor !== undefined ? { cursor } : {}) });
    found.push(...page.sessions);
    cursor = page.cursor;
  } while (cursor !== undefined && found.length < max);
  return found;
}

/** The session a public id names, if it is alive; a malformed id never reaches the store. */
export async function sessionByPublicId(store: SessionStore, id: string): Promise<Session | undefined> {
  return isPublicSessionId(id) ? store.getByPublicId(id) : undefined;
}

/** `GET /sessions` and `DELETE /sessions/:id`: a user's own logins, seen and ended (cookie or bearer). */
export function sessionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const tracking = ctx.config.trackLastUsed;

  app.get('/sessions', { config: { errorFormat: 'json' } }, async (request, reply) => {
    const caller = await callerOf(ctx, request, reply, false);
    const sessions = await sessionsOf(ctx.store, caller.sub);
    reply.header('cache-control', 'no-store');
    return { sessions: sessions.map((s) => sessionView(s, caller.session, tracking)) };
  });

  app.delete<{ Params: { id: string } }>('/sessions/:id', { config: { errorFormat: 'json' } }, async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const caller = await callerOf(ctx, request, reply, true);
    const target = await sessionByPublicId(ctx.store, request.params.id);
    if (target === undefined || target.sub !== caller.sub) throw noSuchSession();
    await ctx.store.delete(target.id);
    const current = caller.session?.id === target.id;
    if (current && caller.credential === 'cookie') ctx.cookies.clearSession(reply);
    ctx.metrics.logouts.inc(1);
    ctx.audit.emit({ event: 'session_ended_by_owner', outcome: 'success', actor: caller.sub, subject: caller.sub, sessionId: target.id, clientAddress: request.ip });
    return reply.header('cache-control', 'no-store').send({ status: 'ended', current });
  });
}
