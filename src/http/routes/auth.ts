import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createAssertionSigner, type AssertionSigner } from '../../edge/assertion.js';
import { authorizationKind, createEdge, type Edge, type EdgeDecision, type EdgeIdentity } from '../../edge/decide.js';
import { originalRequest, type ForwardedOptions, type OriginalRequest } from '../../edge/forwarded.js';
import { invalidRequest, KeygateError, PolicyError } from '../../errors.js';
import type { CompiledPolicy } from '../../policy/route.js';
import type { RouteContext } from '../context.js';
import { bareAnswers, headerSafe } from '../headers.js';
import { trustedPeer } from '../trust.js';

/** The methods `/auth` answers: a proxy may forward the original method as its own (nginx's subrequest does). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];
const PARAMETERS = new Set(['redirect', 'scope', 'users', 'permissions']);

export interface EdgeParts {
  edge: Edge;
  assertions: AssertionSigner;
  /** `iss` of the assertions: BASE_URL without a trailing slash. */
  issuer: string;
  /** The identity assertion for an allowed request ('' on a public rule). */
  assertionFor(allow: EdgeIdentity, audience: string): string;
}

const built = new WeakMap<RouteContext, EdgeParts>();

/** The decision and the assertion signer of one app, built once and shared by every edge door (`/auth`, the proxy). */
export function edgeParts(ctx: RouteContext): EdgeParts {
  let parts = built.get(ctx);
  if (parts === undefined) {
    const issuer = ctx.config.baseUrl.href.replace(/\/$/, '');
    const assertions = createAssertionSigner({ secretKeys: ctx.config.secretKeys, issuer, now: ctx.now });
    parts = {
      edge: createEdge({ keygate: ctx.keygate, rules: ctx.config.routes }),
      assertions,
      issuer,
      assertionFor: (allow, audience) => (allow.auth === undefined ? '' : assertions.sign({ sub: allow.sub, email: allow.email, key: allow.auth.token.key }, audience)),
    };
    built.set(ctx, parts);
  }
  return parts;
}

interface AuthQuery {
  redirect: boolean;
  policy: CompiledPolicy | undefined;
}

/**
 * The proxy's per-location requirements (`/auth?scope=a,b&users=@example.com&permissions=p`), compiled once per
 * distinct query. Unknown or repeated parameters are refused: a typo must not silently drop a requirement.
 */
function queryReader(ctx: RouteContext): (url: string) => AuthQuery {
  const cache = new Map<string, AuthQuery>();
  return (url) => {
    const index = url.indexOf('?');
    const raw = index === -1 ? '' : url.slice(index + 1);
    const hit = cache.get(raw);
    if (hit !== undefined) return hit;
    const params = new URLSearchParams(raw);
    const seen = new Set<string>();
    for (const name of params.keys()) {
      if (!PARAMETERS.has(name)) throw invalidRequest(`/auth does not know the parameter "${name.slice(0, 40)}" (known: ${[...PARAMETERS].join(', ')}).`);
      if (seen.has(name)) throw invalidRequest(`The /auth parameter "${name}" is repeated; give one, with a comma list.`);
      seen.add(name);
    }
    const list = (name: string) => params.get(name)?.split(/[\s,]+/).filter(Boolean);
    const scopes = list('scope');
    const users = list('users');
    const permissions = list('permissions');
    let policy: CompiledPolicy | undefined;
    if (scopes || users || permissions) {
      try {
        policy = ctx.keygate.policy({ ...(scopes ? { scopes } : {}), ...(users ? { allowlist: users } : {}), ...(permissions ? { permissions } : {}) });
      } catch (error) {
        if (error instanceof PolicyError) throw invalidRequest(`The /auth parameters are invalid: ${error.problems.join('; ')}`, error);
        throw error;
      }
    }
    const redirect = params.get('redirect');
    if (redirect !== null && redirect !== '0' && redirect !== '1') throw invalidRequest('The /auth parameter "redirect" must be 0 or 1.');
    const answer = { redirect: redirect === '1', policy };
    if (cache.size >= 256) cache.delete(cache.keys().next().value!);
    cache.set(raw, answer);
    return answer;
  };
}

/** A top-level page load by a browser (no bearer token; a Basic header is the application's): a login can help it. */
function isNavigation(request: FastifyRequest, method: string): boolean {
  return method === 'GET' && (request.headers.accept ?? '').includes('text/html') && authorizationKind(request.raw.rawHeaders) !== 'bearer';
}

/** `/auth` answers nothing else: its own parameters, and no original request of its own. */
const NO_QUERY: AuthQuery = { redirect: false, policy: undefined };

/** Any method `/auth` (forward auth for nginx, Caddy, Traefik, Envoy) and `GET /.well-known/jwks.json`. */
export async function authRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { edge, assertions, assertionFor } = edgeParts(ctx);
  const readQuery = queryReader(ctx);
  const fallbackProto = ctx.config.secure ? 'https' : 'http';
  const loginUrl = new URL(`${ctx.config.baseUrl.pathname.replace(/\/$/, '')}/login`, ctx.config.baseUrl);

  app.get('/.well-known/jwks.json', { config: { errorFormat: 'json' } }, async (_request, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return assertions.jwks;
  });

  await app.register(async (scope) => {
    // The body is never read: whatever a client sends with the original request is the upstream's business.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    const trusted = trustedPeer(ctx.config.trustProxy);
    // Without TRUST_PROXY the peer's address is not even looked up.
    const trustsSome = ctx.config.trustProxy !== false;
    const authPath = `${ctx.config.baseUrl.pathname.replace(/\/$/, '')}/auth`;

    /** The answer to a decision: 200 with the identity, a redirect to the login, or the refusal (thrown). */
    const answer = (request: FastifyRequest, reply: FastifyReply, query: AuthQuery, original: OriginalRequest, decision: EdgeDecision) => {
      if (decision instanceof KeygateError) {
        if (query.redirect && decision.status === 401 && isNavigation(request, original.method)) {
          const target = new URL(loginUrl);
          target.searchParams.set('returnTo', `${original.origin}${original.uri}`);
          return reply.header('cache-control', 'no-store').redirect(target.href, 302);
        }
        throw decision;
      }
      const { allow } = decision;
      const assertion = assertionFor(allow, original.origin);
      // Read by the proxy, never rendered: no security headers but cache-control (headers.ts, `bareAnswers`).
      bareAnswers.add(reply);
      return reply
        .header('cache-control', 'no-store')
        .header('x-auth-request-user', headerSafe(allow.sub))
        .header('x-auth-request-email', headerSafe(allow.email))
        .header('x-keygate-assertion', assertion)
        .send();
    };

    /**
     * `/auth` reads its query as its own parameters; `/auth/*` (Envoy's ext_authz, which asks at `path_prefix` +
     * the original path and query) takes the original URI from its path, and has no parameters of its own.
     * Not an async handler: when the decision is at hand (`Edge.decide`), the answer leaves without a promise.
     */
    const handler = (fromPath: boolean) => (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> | undefined => {
      const query = fromPath ? NO_QUERY : readQuery(request.url);
      const forwarded: ForwardedOptions = { trustForwarded: trustsSome && trusted(request.raw.socket?.remoteAddress) };
      if (fromPath) forwarded.uriFromPath = request.url.slice(authPath.length);
      const original = originalRequest(request.raw.rawHeaders, request.method, fallbackProto, forwarded);
      const decision = edge.decide({
        method: original.method,
        uri: original.uri,
        rawHeaders: request.raw.rawHeaders,
        sessionId: ctx.cookies.sessionId(request),
        policy: query.policy,
      });
      if (decision instanceof Promise) return decision.then((later) => answer(request, reply, query, original, later));
      answer(request, reply, query, original, decision);
      return undefined;
    };
    const config = { errorFormat: 'json' } as const;
    scope.route({ method: METHODS, url: '/auth', config, handler: handler(false) });
    scope.route({ method: METHODS, url: '/auth/*', config, handler: handler(true) });
  });
}
