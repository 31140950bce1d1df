import type { FastifyRequest } from 'fastify';
import type { EdgeIdentity } from '../edge/decide.js';
import { KeygateError } from '../errors.js';
import { edgeParts } from '../http/routes/auth.js';
import type { RouteContext } from '../http/context.js';
import type { Identity } from './headers.js';

/** An allowed proxied request: who, and the normalised path that was decided (the one the upstream is asked for). */
export interface Admitted {
  allow: EdgeIdentity;
  identity: Identity;
  /** What the decision was given, so that an open WebSocket can be decided again (see registry.ts). */
  recheck: { uri: string; rawHeaders: string[]; sessionId: string | undefined };
}

/** The one Authorization header, when the client sent exactly one (the decision refuses several anyway). */
function authorizationOnly(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'authorization') out.push(rawHeaders[i]!, rawHeaders[i + 1] ?? '');
  return out;
}

/**
 * The edge decision (`createEdge`, the same one `/auth` uses) for a request the proxy received, and the identity
 * assertion for the upstream (audience: BASE_URL's origin, the public origin of the proxied application).
 * Returns the refusal as a `KeygateError` rather than throwing, so the door chooses between redirect and answer.
 */
export function proxyDecider(ctx: RouteContext): (request: FastifyRequest) => Promise<Admitted | KeygateError> {
  const { edge, assertionFor } = edgeParts(ctx);
  const audience = ctx.config.baseUrl.origin;
  return async (request) => {
    const rawHeaders = request.raw.rawHeaders;
    const sessionId = ctx.cookies.sessionId(request);
    const decision = await edge.decide({ method: request.method, uri: request.url, rawHeaders, sessionId });
    if (decision instanceof KeygateError) return decision;
    const { allow } = decision;
    const assertion = assertionFor(allow, audience);
    return {
      allow,
      identity: { sub: allow.sub, email: allow.email, assertion },
      recheck: { uri: request.url, rawHeaders: authorizationOnly(rawHeaders), sessionId: allow.credential === 'cookie' ? sessionId : undefined },
    };
  };
}

/** A top-level page load by a browser: the only request a login redirect helps (as `/auth?redirect=1` decides). */
export function isNavigation(request: FastifyRequest): boolean {
  return request.method === 'GET' && (request.headers.accept ?? '').includes('text/html') && request.headers.authorization === undefined;
}
