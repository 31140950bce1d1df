import type { FastifyReply, FastifyRequest } from 'fastify';
import { LoginError } from '../errors.js';
import { isAllowed } from '../policy/allowlist.js';
import type { Session } from '../session/store.js';
import type { RouteContext } from './context.js';

/**
 * The live login behind this browser's session cookie, as the key page and its JSON twin see it: undefined when
 * there is none (a stale cookie is cleared). ALLOWED_USERS applies on every request: a user taken off the list no
 * longer sees the token either.
 */
export async function keySession(ctx: RouteContext, request: FastifyRequest, reply: FastifyReply): Promise<Session | undefined> {
  const { cookies, store, config } = ctx;
  const id = cookies.sessionId(request);
  const session = id === undefined ? undefined : await store.get(id);
  if (session === undefined) {
    if (request.cookies[cookies.session] !== undefined) cookies.clearSession(reply);
    return undefined;
  }
  if (!isAllowed(config.allowlist, session.email, session.emailVerified)) {
    throw new LoginError('access_denied', `The address ${session.email ?? '(none)'} is no longer allowed to use this API.`);
  }
  ctx.lastUsed?.sawSession(session);
  return session;
}
