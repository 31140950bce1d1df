import type { FastifyPluginAsync, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { errorAnswer, KeygateError, KeygateOptionsError } from '../errors.js';
import { createKeygate, type Keygate, type KeygateAuth } from '../keygate/create.js';
import type { KeygateOptions } from '../keygate/options.js';
import type { RoutePolicy } from '../policy/route.js';

/** The plugin's options: Keygate options (validated at registration), or an instance shared with other code. */
export type KeygateFastifyOptions = (KeygateOptions | { keygate: Keygate }) & {
  /**
   * The default of every route's `authRequired`: `false` lets requests without credentials through with
   * `request.auth` undefined, unless a route's policy says `authRequired: true`. Sent credentials are always checked.
   */
  authRequired?: boolean;
};

export interface KeygateFastify {
  readonly core: Keygate;
  /**
   * A `preHandler` for one route: refuses with the RFC 6750 answer, or sets `request.auth` and lets the route run.
   * With `authRequired: false`, a request without credentials runs the route with `request.auth` undefined.
   */
  protect(policy?: RoutePolicy): preHandlerAsyncHookHandler;
}

declare module 'fastify' {
  interface FastifyInstance {
    keygate: KeygateFastify;
  }
  interface FastifyRequest {
    /**
     * Set by `app.keygate.protect()` on routes it guards; undefined elsewhere, and on a route with
     * `authRequired: false` for a request that carries no credentials.
     */
    auth: KeygateAuth | undefined;
  }
}

const plugin: FastifyPluginAsync<KeygateFastifyOptions> = async (app, options) => {
  // Fastify's own register options (prefix, logLevel…) travel in the same object: they are not Keygate's.
  const { keygate: given, authRequired = true, prefix: _p, logLevel: _l, logSerializers: _s, ...rest } = options as Partial<{ keygate: Keygate; authRequired: boolean }> & Record<string, unknown>;
  if (typeof authRequired !== 'boolean') throw new KeygateOptionsError(['authRequired: true or false']);
  const core = given ?? createKeygate(rest as unknown as KeygateOptions);
  if (given === undefined) app.addHook('onClose', async () => core.close());

  app.decorateRequest('auth', undefined);
  app.decorate('keygate', {
    core,
    protect(policy?: RoutePolicy) {
      const compiled = core.policy(authRequired ? policy : { authRequired, ...policy });
      return async function keygateProtect(request: FastifyRequest, reply: FastifyReply) {
        try {
          request.auth = await core.authenticateOptional({ rawHeaders: request.raw.rawHeaders, query: request.query, body: request.body }, compiled);
        } catch (error) {
          if (!(error instanceof KeygateError)) throw error;
          const answer = errorAnswer(error);
          return reply.code(answer.status).headers(answer.headers).type('application/json; charset=utf-8').send(answer.body);
        }
      };
    },
  });
};

/**
 * `keygate/fastify`: register once (`app.register(keygatePlugin, { issuer, audience, … })`), then guard routes with
 * `{ preHandler: app.keygate.protect({ scopes: ['read:messages'] }) }` and read `request.auth` in the handler.
 */
export const keygatePlugin = fp(plugin, { fastify: '5.x', name: 'keygate' });
export default keygatePlugin;

export { createKeygate, type Keygate, type KeygateAuth } from '../keygate/create.js';
export type { KeygateOptions } from '../keygate/options.js';
export type { RoutePolicy } from '../policy/route.js';
export type { ClaimRule } from '../policy/claims.js';
