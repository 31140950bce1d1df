import type { FastifyInstance } from 'fastify';
import { KeygateError } from '../../errors.js';
import { RefreshRejectedError } from '../../errors.js';
import { refreshLogin } from '../../oidc/refresh.js';
import type { RouteContext } from '../context.js';
import { isSameOrigin } from './logout.js';

/** How long one refresh may hold its session's lock (provider timeout plus margin). */
const lockTtl = (providerTimeoutMs: number) => providerTimeoutMs * 2 + 1_000;

const noSession = () =>
  new KeygateError({ code: 'login_required', description: 'No live login in this browser. Please log in again.' });

/**
 * `POST /refresh` (REFRESH=true): the key page renews its API token with the session's refresh token. Refreshes of
 * one session are serialized by a lock in the store (across instances with Redis), and the session is read again
 * under the lock, so a refresh token the provider has rotated is never used twice. The previous API token is
 * revoked by `store.rotate` as the new one is recorded.
 */
export function refreshRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { cookies, store, config } = ctx;
  const baseOrigin = config.baseUrl.origin;

  app.post('/refresh', { config: { errorFormat: 'json' } }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    if (!isSameOrigin(request, baseOrigin)) {
      throw new KeygateError({ code: 'cross_site_request', description: 'Renewing the key from another site is not allowed.' });
    }
    const id = cookies.sessionId(request);
    if (id === undefined) throw noSession();
    return store.withLock(`refresh:${id}`, lockTtl(config.providerTimeoutMs), async () => {
      const session = await store.get(id);
      if (session === undefined) {
        cookies.clearSession(reply);
        throw noSession();
      }
      let next;
      try {
        next = await refreshLogin(ctx.oidc, session);
      } catch (error) {
        if (error instanceof RefreshRejectedError) {
          // invalid_grant: the provider ended the login; end it here too, revoking the current API token.
          await store.delete(id);
          cookies.clearSession(reply);
          ctx.metrics.logouts.inc();
          ctx.audit.emit({ event: 'refresh', outcome: 'failure', actor: session.sub, sessionId: id, clientAddress: request.ip, detail: { reason: 'provider_ended_login' } });
        }
        throw error;
      }
      const updated = await store.rotate(id, next);
      if (updated === undefined) {
        cookies.clearSession(reply);
        throw noSession();
      }
      const now = ctx.now();
      cookies.setSession(reply, id, updated.expiresAt, now);
      ctx.audit.emit({ event: 'refresh', outcome: 'success', actor: updated.sub, sessionId: id, clientAddress: request.ip });
      return { token: updated.apiToken, token_kind: updated.tokenKind, expires_at: Math.floor(updated.expiresAt / 1000) };
    });
  });
}
