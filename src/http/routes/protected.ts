import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { KeygateAuth } from '../../keygate/create.js';
import { bearerOf } from '../../token/bearer.js';
import type { RouteContext } from '../context.js';

const profileSchema = {
  type: 'object',
  properties: {
    sub: { type: 'string' },
    email: { type: 'string' },
    email_verified: { type: 'boolean' },
    name: { type: 'string' },
    picture: { type: 'string' },
    exp: { type: 'integer' },
  },
  required: ['sub', 'exp'],
} as const;

const profileOf = (auth: KeygateAuth) => auth.profile;

/** `GET /protected`: the bearer-protected API of the demo, CORS-open without credentials. */
export function protectedRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const allowed = ctx.config.corsOrigins;
  // REQUIRED_SCOPES is this route's policy, applied after verification like any other.
  const policy = ctx.keygate.policy(ctx.config.requiredScopes.length > 0 ? { scopes: ctx.config.requiredScopes } : {});
  const cors = (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (allowed === '*') reply.header('access-control-allow-origin', '*');
    else {
      reply.header('vary', 'Origin');
      if (origin !== undefined && allowed.includes(origin)) reply.header('access-control-allow-origin', origin);
    }
  };

  app.options('/protected', { config: { errorFormat: 'json' } }, async (request, reply) => {
    cors(request, reply);
    reply
      .header('access-control-allow-methods', 'GET, OPTIONS')
      .header('access-control-allow-headers', 'Authorization, Content-Type')
      .header('access-control-max-age', '600')
      .code(204)
      .send();
  });

  app.get(
    '/protected',
    {
      config: { errorFormat: 'json' },
      schema: { response: { 200: profileSchema } },
      onRequest: (request, reply, done) => {
        cors(request, reply);
        done();
      },
      // Only refusals carry WWW-Authenticate, so only they need it readable cross-origin (a header less on every 200).
      onError: (_request, reply, _error, done) => {
        reply.header('access-control-expose-headers', 'WWW-Authenticate');
        done();
      },
    },
    // Not async: a token verified before is answered without a promise (`authorizeNow`), the edge's fast path.
    (request) => {
      const token = bearerOf({ rawHeaders: request.raw.rawHeaders, query: request.query, body: request.body });
      const auth = ctx.keygate.authorizeNow(token, policy);
      return auth instanceof Promise ? auth.then(profileOf) : profileOf(auth);
    },
  );
}
