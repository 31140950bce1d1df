import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoginError } from '../../errors.js';
import { finishLogin, LoginRefusedError } from '../../oidc/callback.js';
import { startLogin } from '../../oidc/login.js';
import { clientInfo } from '../client-info.js';
import type { RouteContext } from '../context.js';
import { beginTransaction, takeTransaction } from '../transactions.js';

function rawQuery(request: FastifyRequest): URLSearchParams {
  const index = request.url.indexOf('?');
  return new URLSearchParams(index === -1 ? '' : request.url.slice(index + 1));
}

/** `GET /login` and `GET /callback`: the authorization code flow with PKCE, state and nonce. */
export function loginRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { cookies, store } = ctx;

  app.get('/login', { config: { errorFormat: 'html' } }, async (request, reply) => {
    const returnTo = rawQuery(request).get('returnTo') ?? undefined;
    const { url, transaction } = await startLogin(ctx.oidc, returnTo);
    await beginTransaction(ctx, request, reply, transaction);
    return reply.redirect(url.href, 302);
  });

  app.get('/callback', { config: { errorFormat: 'html' } }, async (request, reply) => {
    const query = rawQuery(request);
    // Each login in progress has its own transaction, found by the response's state (the first, if repeated:
    // finishLogin refuses repeats, and the transaction is used up either way).
    const state = query.get('state');
    const transaction = state === null ? undefined : await takeTransaction(ctx, request, reply, state);
    if (transaction === undefined) {
      if (state === null && !query.has('error')) {
        throw new LoginError('invalid_request', 'The login response has no state parameter.');
      }
      if (query.has('error')) {
        throw new LoginError('login_expired', 'The provider answered an error, and no login in progress in this browser matches it. Please log in again.');
      }
      throw new LoginError('login_expired',
        'No login in progress in this browser matches this response (it expired, was already used, was replaced by newer logins, or cookies are blocked). Please log in again.',
      );
    }
    const result = await finishLogin(ctx.oidc, query, transaction).catch((error: unknown) => {
      ctx.metrics.logins.inc({ result: 'failure' });
      if (error instanceof LoginRefusedError) {
        ctx.audit.emit({ event: 'login', outcome: 'refused', actor: error.sub, clientAddress: request.ip, detail: { reason: 'allowlist' } });
      }
      throw error;
    });

    // A new session id at every login; a session this browser had before ends now.
    const previous = cookies.sessionId(request);
    if (previous !== undefined) await store.delete(previous);
    const now = ctx.now();
    const id = randomBytes(32).toString('base64url');
    const { returnTo, ...rest } = result;
    await store.create({ ...rest, ...clientInfo(request), id, createdAt: now });
    cookies.setSession(reply, id, result.expiresAt, now);
    ctx.metrics.logins.inc({ result: 'success' });
    ctx.audit.emit({ event: 'login', outcome: 'success', actor: result.sub, sessionId: id, clientAddress: request.ip });
    return reply.redirect(returnTo, 302);
  });
}
