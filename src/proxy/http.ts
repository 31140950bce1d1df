import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import replyFrom from '@fastify/reply-from';
import { invalidRequest, KeygateError } from '../errors.js';
import type { RouteContext } from '../http/context.js';
import { bareAnswers } from '../http/headers.js';
import { isNavigation, proxyDecider, type Admitted } from './decide.js';
import { upstreamHeaders, withoutOwnSetCookies, type OwnCookie } from './headers.js';
import { upgradeOf, type WebSocketDoor } from './websocket.js';

/** Methods the proxy passes on. CONNECT and TRACE are not proxied (Fastify does not route them). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** Timeouts, a cut connection and anything that is not HTTP from the upstream, as Keygate's own error codes. */
function upstreamError(error: unknown): KeygateError {
  const seen = new Set<unknown>();
  for (let e: unknown = error; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (/TIMEOUT/i.test(code) || /Timeout/.test(e.name) || (e as { statusCode?: number }).statusCode === 504) {
      return new KeygateError({ code: 'gateway_timeout', description: 'The upstream did not answer in time.', cause: error, expose: true });
    }
  }
  return new KeygateError({ code: 'bad_gateway', description: 'The upstream could not be reached or answered something that is not HTTP.', cause: error, expose: true });
}

/**
 * The reverse-proxy door: every request that no Keygate route takes is decided by the edge decision, then streamed
 * to `UPSTREAM` and back by `@fastify/reply-from` (undici). Bodies are never parsed nor buffered here, so Keygate's
 * own small body limit does not apply to them.
 */
export async function proxyRoutes(app: FastifyInstance, ctx: RouteContext, websockets: WebSocketDoor): Promise<void> {
  const upstream = ctx.config.upstream;
  if (upstream === undefined) return;
  const decide = proxyDecider(ctx);
  const timeout = ctx.config.upstreamTimeoutMs;
  const owns: OwnCookie = (name) => ctx.cookies.owns(name);
  const loginPath = `${ctx.config.baseUrl.pathname.replace(/\/$/, '')}/login`;

  await app.register(async (scope) => {
    await scope.register(replyFrom, {
      base: upstream.origin,
      disableRequestLogging: true,
      // Nothing is retried: a request may not be idempotent, and an upload is streamed once (it cannot be replayed).
      retryMethods: [],
      undici: { connections: 256, pipelining: 1, keepAliveTimeout: 30_000, headersTimeout: timeout, bodyTimeout: timeout, connectTimeout: Math.min(timeout, 10_000) },
    });
    // Bodies stay unread streams (reply-from pipes them): no parser, no buffering, no body limit of Keygate's own.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    scope.route({
      method: METHODS,
      url: '/*',
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const upgrade = upgradeOf(request.raw);
        if (upgrade !== undefined && (request.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
          throw invalidRequest('Only WebSocket upgrades are proxied.');
        }
        const admitted = await decide(request);
        if (admitted instanceof KeygateError) {
          if (admitted.status === 401 && upgrade === undefined && isNavigation(request)) {
            const target = `${loginPath}?returnTo=${encodeURIComponent(request.url)}`;
            return reply.header('cache-control', 'no-store').redirect(target, 302);
          }
          throw admitted;
        }
        if (upgrade !== undefined) return websockets.open(request, reply, admitted, upgrade, (headers) => upstreamHeaders(request, headers, admitted.identity, owns));
        return forward(request, reply, admitted, timeout, owns);
      },
    });
  });
}

function forward(request: FastifyRequest, reply: FastifyReply, admitted: Admitted, timeout: number, owns: OwnCookie): FastifyReply {
  // Headers and body are the upstream's: Keygate's page headers (its strict CSP…) stay off them.
  bareAnswers.add(reply);
  try {
    // The normalised path is what was decided, so it is what the upstream is asked for (the query follows as sent).
    return reply.from(admitted.allow.path, {
      timeout,
      rewriteRequestHeaders: (req, headers) => upstreamHeaders(req as FastifyRequest, headers, admitted.identity, owns),
      rewriteHeaders: (headers) => withoutOwnSetCookies(headers as IncomingHttpHeaders, owns),
      onError: (r, { error }) => {
        bareAnswers.delete(r as FastifyReply);
        r.send(upstreamError(error));
      },
    });
  } catch (error) {
    // reply-from refuses some paths itself (e.g. escapes it cannot decode): the client's mistake.
    bareAnswers.delete(reply);
    throw invalidRequest('The path cannot be passed to the upstream.', error);
  }
}
