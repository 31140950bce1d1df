import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { accessDenied, invalidRequest, KeygateError } from '../../errors.js';
import { renderAdminPage } from '../../pages/admin.js';
import { isAdministrator } from '../../policy/admin.js';
import { checkLimit } from '../../session/cursor.js';
import { publicSessionId } from '../../session/public-id.js';
import type { SessionPage } from '../../session/store.js';
import { pageByEmail } from '../admin-search.js';
import { withBase } from '../base-path.js';
import { callerOf, type Caller } from '../caller.js';
import type { RouteContext } from '../context.js';
import { keySession } from '../key-session.js';
import { adminSessionView } from '../session-view.js';
import { noSuchSession, sessionByPublicId } from './sessions.js';

const DEFAULT_LIMIT = 50;
const MAX_USER_LENGTH = 512;

/** One query parameter, given at most once. */
function single(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidRequest(`The ${name} parameter must be given once.`);
  return value;
}

function limitOf(request: FastifyRequest): number {
  const raw = single(request, 'limit');
  if (raw === undefined || raw === '') return DEFAULT_LIMIT;
  const limit = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  checkLimit(limit);
  return limit;
}

/**
 * `GET /admin` (the page), `GET /admin/sessions`, `DELETE /admin/sessions/:id`, `POST /admin/users/:sub/logout`.
 * Only administrators (ADMIN_USERS with a verified e-mail, or ADMIN_SCOPE on the token); everyone else 403. Every
 * action and every refusal is reported to `ctx.audit`.
 */
export function adminRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store, config } = ctx;
  const rule = { users: config.adminUsers, scope: config.adminScope };
  const tracking = config.trackLastUsed;

  const refuse = (request: FastifyRequest, actor: string | undefined, reason: string) =>
    ctx.audit.emit({ event: 'admin_refused', outcome: 'refused', ...(actor !== undefined ? { actor } : {}), clientAddress: request.ip, detail: { reason: `${request.method} ${request.routeOptions.url ?? ''}: ${reason}` } });

  /** The caller, when an administrator; refuses (and audits) anyone else. */
  const administrator = async (request: FastifyRequest, reply: FastifyReply, change: boolean): Promise<Caller> => {
    let caller: Caller;
    try {
      caller = await callerOf(ctx, request, reply, change);
    } catch (error) {
      if (error instanceof KeygateError && error.status < 500) refuse(request, undefined, error.code);
      throw error;
    }
    const { profile } = caller.auth;
    if (!isAdministrator(rule, { email: profile.email, emailVerified: profile.email_verified, scopes: caller.auth.scopes, permissions: caller.auth.permissions })) {
      refuse(request, caller.sub, 'not an administrator');
      throw accessDenied('Only administrators may manage other users\' sessions.');
    }
    return caller;
  };

  app.get('/admin/sessions', { config: { errorFormat: 'json' } }, async (request, reply) => {
    const caller = await administrator(request, reply, false);
    const limit = limitOf(request);
    const cursor = single(request, 'cursor') || undefined;
    const user = single(request, 'user')?.trim() || undefined;
    if (user !== undefined && user.length > MAX_USER_LENGTH) throw invalidRequest(`The user parameter is longer than ${MAX_USER_LENGTH} characters.`);
    let page: SessionPage;
    if (user === undefined) page = await store.listPage({ limit, ...(cursor ? { cursor } : {}) });
    // An e-mail address has an @ and no |; Auth0's subs (`auth0|…`, `google-oauth2|…`) and the development
    // provider's (`dev|alice@example.com`) all have a |, other providers' are opaque ids without an @.
    else if (/^[^@\s|]+@[^@\s|]+$/.test(user)) page = await pageByEmail(store, user, limit, cursor);
    else page = await store.listPage({ sub: user, limit, ...(cursor ? { cursor } : {}) });
    ctx.audit.emit({ event: 'admin_sessions_listed', outcome: 'success', actor: caller.sub, subject: user, clientAddress: request.ip, detail: { count: page.sessions.length } });
    reply.header('cache-control', 'no-store');
    return { sessions: page.sessions.map((s) => adminSessionView(s, caller.session, tracking)), next_cursor: page.cursor ?? null };
  });

  app.delete<{ Params: { id: string } }>('/admin/sessions/:id', { config: { errorFormat: 'json' } }, async (request, reply) => {
    const caller = await administrator(request, reply, true);
    const target = await sessionByPublicId(store, request.params.id);
    if (target === undefined) throw noSuchSession();
    await store.delete(target.id);
    const current = caller.session?.id === target.id;
    if (current && caller.credential === 'cookie') ctx.cookies.clearSession(reply);
    ctx.metrics.logouts.inc(1);
    ctx.audit.emit({ event: 'session_ended_by_admin', outcome: 'success', actor: caller.sub, subject: target.sub, sessionId: target.id, clientAddress: request.ip });
    return reply.header('cache-control', 'no-store').send({ status: 'ended', current, sub: target.sub });
  });

  app.post<{ Params: { sub: string } }>('/admin/users/:sub/logout', { config: { errorFormat: 'json' } }, async (request, reply) => {
    const caller = await administrator(request, reply, true);
    const sub = request.params.sub;
    if (sub.length === 0 || sub.length > MAX_USER_LENGTH) throw invalidRequest('The sub in the path is empty or too long.');
    let ended = 0;
    let current = false;
    // The store is shared: a session ended here is refused by every instance at its next request.
    for (const session of await store.listBySubject(sub)) {
      if (await store.delete(session.id)) ended++;
      if (caller.session?.id === session.id) current = true;
    }
    if (current && caller.credential === 'cookie') ctx.cookies.clearSession(reply);
    if (ended > 0) ctx.metrics.logouts.inc(ended);
    ctx.audit.emit({ event: 'user_logged_out_by_admin', outcome: 'success', actor: caller.sub, subject: sub, clientAddress: request.ip, detail: { count: ended } });
    return reply.header('cache-control', 'no-store').send({ status: 'logged_out', sessions_ended: ended, current });
  });

  app.get('/admin', { config: { errorFormat: 'html' } }, async (request, reply) => {
    // A browser page: the cookie only. Without a login, log in first and come back here.
    if ((await keySession(ctx, request, reply)) === undefined) {
      return reply.redirect(`${withBase(config, '/login')}?returnTo=${encodeURIComponent(withBase(config, '/admin'))}`, 302);
    }
    const caller = await administrator(request, reply, false);
    reply.header('cache-control', 'no-store');
    return reply.type('text/html; charset=utf-8').send(renderAdminPage({ email: caller.auth.profile.email ?? caller.sub }));
  });
}
