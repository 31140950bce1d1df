import type { FastifyReply, FastifyRequest } from 'fastify';
import { BearerError, KeygateError, LoginError, UnavailableError } from '../errors.js';
import type { KeygateAuth } from '../keygate/create.js';
import type { Session } from '../session/store.js';
import type { RouteContext } from './context.js';
import { keySession } from './key-session.js';
import { isSameOrigin } from './routes/logout.js';

/** Who is asking, proved by a bearer token or by the session cookie, through the one verification path. */
export interface Caller {
  credential: 'bearer' | 'cookie';
  auth: KeygateAuth;
  sub: string;
  /** The login this request came with (the cookie's, or the one that issued the token), when there is one. */
  session: Session | undefined;
}

const noCredentials = () =>
  new BearerError(undefined, 'Credentials are required: send Authorization: Bearer <token>, or log in (no live Keygate session cookie came with the request).');

/**
 * The caller of a sessions route. A bearer token wins whenever an Authorization header is present (as at
 * /protected); otherwise the session cookie, whose token then goes through the same checks (`ctx.keygate`). With
 * `change`, a cookie-authenticated request must come from Keygate's own pages (CSRF), as logout requires.
 */
export async function callerOf(ctx: RouteContext, request: FastifyRequest, reply: FastifyReply, change: boolean): Promise<Caller> {
  const store = <T>(work: Promise<T>) =>
    work.catch((error: unknown) => {
      throw error instanceof KeygateError ? error : new UnavailableError('The session store cannot be reached.', error);
    });
  if (request.headers.authorization !== undefined) {
    const auth = await ctx.keygate.authenticate({ rawHeaders: request.raw.rawHeaders, query: request.query, body: request.body });
    const session = await store(ctx.store.getByToken(auth.token.key));
    return { credential: 'bearer', auth, sub: auth.profile.sub, session };
  }
  if (change && !isSameOrigin(request, ctx.config.baseUrl.origin)) {
    throw new LoginError('cross_site_request', 'Ending sessions from another site is not allowed. Use Keygate\'s own pages.');
  }
  const session = await keySession(ctx, request, reply);
  if (session === undefined) throw noCredentials();
  const auth = await ctx.keygate.authorize(session.apiToken);
  return { credential: 'cookie', auth, sub: auth.profile.sub, session };
}
