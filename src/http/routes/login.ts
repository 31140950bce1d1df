import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LoginError } from '../../errors.js';
import { finishLogin } from '../../oidc/callback.js';
import { startLogin, type LoginTransaction } from '../../oidc/login.js';
import type { RouteContext } from '../context.js';

const TRANSACTION_TTL = 600;

function rawQuery(request: FastifyRequest): URLSearchParams {
  const index = request.url.indexOf('?');
  return new URLSearchParams(index === -1 ? '' : request.url.slice(index + 1));
}

function asTransaction(payload: Record<string, unknown> | undefined): LoginTransaction | undefined {
  if (payload === undefined) return undefined;
  const { state, nonce, codeVerifier, returnTo } = payload;
  if (typeof state !== 'string' || typeof nonce !== 'string' || typeof codeVerifier !== 'string' || typeof returnTo !== 'string') return undefined;
  return { state, nonce, codeVerifier, returnTo };
}

/** `GET /login` and `GET /callback`: the authorization code flow with PKCE, state and nonce. */
export function loginRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { cookies, transactions, store } = ctx;

  app.get('/login', { config: { errorFormat: 'html' } }, async (request, reply) => {
    const returnTo = rawQuery(request).get('returnTo') ?? undefined;
    const { url, transaction } = await startLogin(ctx.oidc, returnTo);
    cookies.setTransaction(reply, await transactions.seal({ ...transaction }, TRANSACTION_TTL), TRANSACTION_TTL);
    return reply.redirect(url.href, 302);
  });

  app.get('/callback', { config: { errorFormat: 'html' } }, async (request, reply) => {
    const query = rawQuery(request);
    const transaction = asTransaction(await transactions.open(request.cookies[cookies.transaction]));
    // The transaction is single-use: clear it whatever happens next.
    cookies.clearTransaction(reply);
    if (transaction === undefined) {
      if (query.has('error')) {
        throw new LoginError('login_expired', 'The provider answered an error, and no login was in progress in this browser. Please log in again.');
      }
      throw new LoginError('login_expired', 'No login is in progress in this browser (it expired, was already used, or cookies are blocked). Please log in again.');
    }
    if (!query.has('state') && !query.has('error')) {
      throw new LoginError('invalid_request', 'The login response has no state parameter.');
    }
    const result = await finishLogin(ctx.oidc, query, transaction).catch((error: unknown) => {
      ctx.metrics.logins.inc({ result: 'failure' });
      throw error;
    });

    // A new session id at every login; a session this browser had before ends now.
    const previous = cookies.sessionId(request);
    if (previous !== undefined) await store.delete(previous);
    const now = ctx.now();
    const id = randomBytes(32).toString('base64url');
    const { returnTo, ...rest } = result;
    await store.create({ ...rest, id, createdAt: now });
    cookies.setSession(reply, id, result.expiresAt, now);
    ctx.metrics.logins.inc({ result: 'success' });
    request.log.info({ sub: result.sub }, 'login');
    return reply.redirect(returnTo, 302);
  });
}
