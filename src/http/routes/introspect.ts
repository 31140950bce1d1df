import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { invalidClient, invalidRequest, KeygateError } from '../../errors.js';
import { activeAnswer, INACTIVE } from '../../introspection/answer.js';
import { basicCredentials, createClientAuthenticator, type ClientAuthResult } from '../../introspection/client-auth.js';
import type { KeygateAuth } from '../../keygate/create.js';
import type { RouteContext } from '../context.js';
import { RateLimiter } from '../rate-limit.js';

const tooMany = (seconds: number, what: string) =>
  new KeygateError({ code: 'too_many_requests', description: `Too many ${what}. Try again in ${seconds} s.`, headers: { 'retry-after': String(seconds) }, expose: true });

function authorizationValues(rawHeaders: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'authorization') values.push(rawHeaders[i + 1] ?? '');
  return values;
}

/** The `token` form field: exactly one, not empty (RFC 7662 §2.1). `token_type_hint` and anything else is ignored. */
function tokenField(request: FastifyRequest): string {
  if (!(request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new KeygateError({ code: 'unsupported_media_type', description: 'Send the token as an application/x-www-form-urlencoded form (RFC 7662).' });
  }
  const value = (request.body as Record<string, unknown> | undefined)?.token;
  if (Array.isArray(value)) throw invalidRequest('The token parameter is repeated.');
  if (typeof value !== 'string' || value === '') throw invalidRequest('The token parameter is missing.');
  return value;
}

/** Every member an answer may have (`ActiveAnswer`, `INACTIVE`): serialized from the schema, not by JSON.stringify. */
const ANSWER_SCHEMA = {
  type: 'object',
  properties: {
    active: { type: 'boolean' },
    sub: { type: 'string' },
    email: { type: 'string' },
    scope: { type: 'string' },
    exp: { type: 'integer' },
    iat: { type: 'integer' },
    iss: { type: 'string' },
    aud: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    token_type: { type: 'string' },
    client_id: { type: 'string' },
  },
  required: ['active'],
} as const;

/**
 * `POST /introspect` (RFC 7662), only when INTROSPECTION_CLIENTS is set: a service authenticated with HTTP Basic asks
 * whether a token is alive. The token goes through the same path as `/protected` (verification, the session or
 * revocation check, ALLOWED_USERS) without `/protected`'s own REQUIRED_SCOPES: the answer's `scope` lets the caller
 * apply its own. Every token that does not pass is `{"active": false}` with the same headers; the store or the
 * provider's keys out of reach is 503, not `false` (a caller must not cache a revocation that did not happen).
 */
export function introspectRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { config } = ctx;
  const authenticate = createClientAuthenticator(config.introspectionClients);
  // Counted after authentication, per client: nobody can spend another client's budget by sending its id.
  const perClient = config.rateLimitIntrospection && new RateLimiter(config.rateLimitIntrospection, ctx.now);
  // Failed authentications per address, as failed bearer attempts at /protected.
  const failures = config.rateLimitBearerFailures && new RateLimiter(config.rateLimitBearerFailures, ctx.now);

  /** A token that does not pass is `{"active": false}`; the store or the keys out of reach is the 503 (thrown). */
  const refused = (reply: FastifyReply, error: unknown): void => {
    if (error instanceof KeygateError && error.status < 500) reply.header('cache-control', 'no-store').send(INACTIVE);
    else throw error;
  };
  const active = (reply: FastifyReply, auth: KeygateAuth): void => {
    const answer = activeAnswer(auth);
    const maxAge = Math.min(config.introspectionCacheSeconds, answer.exp - Math.floor(ctx.now() / 1000));
    reply.header('cache-control', maxAge > 0 ? `max-age=${maxAge}` : 'no-store').send(answer);
  };

  app.post(
    '/introspect',
    {
      config: { errorFormat: 'json' },
      schema: { response: { 200: ANSWER_SCHEMA } },
      // RFC 6749 §5.1 asks for it beside Cache-Control on every answer, errors included.
      onSend: (_request, reply, payload, done) => {
        reply.header('pragma', 'no-cache');
        done(null, payload);
      },
    },
    // Not async: a token verified before is answered without a promise (`authorizeNow`), as at /protected.
    (request, reply): Promise<unknown> | undefined => {
      const address = request.ip;
      const blocked = failures ? failures.blocked(address) : undefined;
      if (blocked !== undefined) throw tooMany(blocked, 'failed client authentications from this address');
      const presented = basicCredentials(authorizationValues(request.raw.rawHeaders));
      const client: ClientAuthResult = typeof presented === 'string' ? { ok: false, reason: presented } : authenticate(presented.id, presented.secret);
      if (!client.ok) {
        if (failures) failures.hit(address);
        // Only a configured id is written (as the actor): an unknown one is the caller's text, possibly a pasted secret.
        ctx.audit.emit({
          event: 'introspection_refused', outcome: 'refused', clientAddress: address,
          ...(client.clientId !== undefined ? { actor: client.clientId } : {}), detail: { reason: client.reason },
        });
        throw invalidClient();
      }
      const wait = perClient ? perClient.hit(client.clientId) : undefined;
      if (wait !== undefined) throw tooMany(wait, 'introspection requests from this client');

      const token = tokenField(request);
      let auth;
      try {
        auth = ctx.keygate.authorizeNow(token);
      } catch (error) {
        refused(reply, error);
        return undefined;
      }
      if (auth instanceof Promise) return auth.then((later) => active(reply, later), (error: unknown) => refused(reply, error));
      active(reply, auth);
      return undefined;
    },
  );
}
