import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { errorAnswer, KeygateError, KeygateOptionsError } from '../errors.js';
import { createKeygate, type Keygate, type KeygateAuth } from '../keygate/create.js';
import type { KeygateOptions } from '../keygate/options.js';
import type { RoutePolicy } from '../policy/route.js';

declare global {
  // Express's own extension point for `req` (its types merge `Express.Request` into `express.Request`).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by Keygate's middleware on the routes it guards; undefined for an anonymous request on an `authRequired: false` route. */
      auth?: KeygateAuth;
    }
  }
}

/** A middleware that requires a valid token (no route policy), with `protect(policy)` for per-route policies. */
export interface KeygateExpress extends RequestHandler {
  readonly core: Keygate;
  protect(policy?: RoutePolicy): RequestHandler;
}

/** What the middleware does with a refusal (a `KeygateError`). */
export interface KeygateExpressSettings {
  /**
   * `'respond'` (default): answer it at once (RFC 6750 JSON body, status, `WWW-Authenticate`).
   * `'next'`: hand it to `next(err)`, so the application's error middleware styles the answer; the error carries
   * `status`/`statusCode`, `code`, `description`, `headers` (with `www-authenticate`) and `wwwAuthenticate`.
   */
  errors?: 'respond' | 'next';
  /**
   * The default of every route's `authRequired` (Auth0's middleware option of that name): `false` lets requests
   * without credentials through with `req.auth` undefined, unless a route's policy says `authRequired: true`.
   * Credentials that are sent are always checked. Default true.
   */
  authRequired?: boolean;
}

export type KeygateExpressOptions = (KeygateOptions | { keygate: Keygate }) & KeygateExpressSettings;

/**
 * `keygate/express`: `const auth = keygateExpress({ issuer, audience, … })` validates the options now; then
 * `app.get('/me', auth, handler)` or `app.get('/admin', auth.protect({ permissions: ['admin'] }), handler)`.
 */
export function keygateExpress(options: KeygateExpressOptions): KeygateExpress {
  const { errors = 'respond', authRequired = true, ...rest } = options;
  const problems: string[] = [];
  if (errors !== 'respond' && errors !== 'next') problems.push(`errors: "respond" or "next", got ${JSON.stringify(errors)}`);
  if (typeof authRequired !== 'boolean') problems.push('authRequired: true or false');
  if (problems.length > 0) throw new KeygateOptionsError(problems);
  const core = 'keygate' in rest ? rest.keygate : createKeygate(rest as KeygateOptions);
  const protect = (policy?: RoutePolicy): RequestHandler => {
    const compiled = core.policy(authRequired ? policy : { authRequired, ...policy });
    return function keygateProtect(req: Request, res: Response, next: NextFunction): void {
      core.authenticateOptional({ rawHeaders: req.rawHeaders, query: req.query, body: req.body as unknown }, compiled).then(
        (auth) => {
          req.auth = auth;
          next();
        },
        (error: unknown) => {
          if (!(error instanceof KeygateError) || errors === 'next') return next(error);
          const answer = errorAnswer(error);
          res.status(answer.status).set(answer.headers).json(answer.body);
        },
      );
    };
  };
  const base = protect();
  return Object.assign((req: Request, res: Response, next: NextFunction) => base(req, res, next), { core, protect });
}

export default keygateExpress;

export { createKeygate, type Keygate, type KeygateAuth } from '../keygate/create.js';
export type { KeygateOptions } from '../keygate/options.js';
export type { RoutePolicy } from '../policy/route.js';
export type { ClaimRule } from '../policy/claims.js';
