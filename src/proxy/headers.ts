import type { FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { headerSafe } from '../http/headers.js';

/** Who the upstream is told it serves: empty strings on a public rule, where nobody is identified. */
export interface Identity {
  sub: string;
  email: string;
  /** The signed identity assertion (`X-Keygate-Assertion`), '' on a public rule. */
  assertion: string;
}

/**
 * Headers the client must not choose for the upstream: identity headers are Keygate's to set; method overrides
 * would let a request that was decided as GET run as DELETE at an upstream that honours them; forwarding headers
 * are rebuilt from what Keygate saw; hop-by-hop headers belong to the client's connection (the HTTP client sets its own).
 */
const DROPPED = new Set([
  'x-http-method-override', 'x-http-method', 'x-method-override',
  'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-prefix', 'x-real-ip',
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade',
]);
const DROPPED_PREFIXES = ['x-auth-request-', 'x-keygate-'];

/** Whether a cookie name is one of Keygate's own (`Cookies.owns`: its session or a login transaction). */
export type OwnCookie = (name: string) => boolean;

/** The `Cookie` header without Keygate's own cookies; undefined when nothing is left. */
export function withoutCookies(header: string | undefined, owns: OwnCookie): string | undefined {
  if (header === undefined) return header;
  const kept = header.split(';').filter((pair) => {
    const eq = pair.indexOf('=');
    return !owns((eq === -1 ? pair : pair.slice(0, eq)).trim());
  });
  const joined = kept.map((pair) => pair.trim()).filter(Boolean).join('; ');
  return joined === '' ? undefined : joined;
}

/**
 * The request headers the upstream receives: the client's, less what it must not forge (above) and Keygate's
 * cookies, plus the identity headers and `X-Forwarded-For/-Proto/-Host`. `Authorization` passes on unchanged.
 * `X-Forwarded-For` keeps only the hops that TRUST_PROXY trusts (Fastify's `request.ips`), then the peer.
 */
export function upstreamHeaders(request: FastifyRequest, headers: IncomingHttpHeaders, identity: Identity, owns: OwnCookie): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (DROPPED.has(name) || DROPPED_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    out[name] = value;
  }
  const cookie = withoutCookies(typeof headers.cookie === 'string' ? headers.cookie : undefined, owns);
  if (cookie === undefined) delete out.cookie;
  else out.cookie = cookie;
  const chain = request.ips ?? [request.ip];
  out['x-forwarded-for'] = [...chain].reverse().join(', ');
  out['x-forwarded-proto'] = request.protocol;
  if (request.host !== '') out['x-forwarded-host'] = request.host;
  out['x-auth-request-user'] = headerSafe(identity.sub);
  out['x-auth-request-email'] = headerSafe(identity.email);
  out['x-keygate-assertion'] = identity.assertion;
  return out;
}

/**
 * The upstream's answer headers without any `Set-Cookie` for a cookie of Keygate's (its session or a login
 * transaction): an application behind the proxy must not be able to set, replace or clear Keygate's session in the
 * user's browser (a session fixation, or a logout Keygate never saw). Its other cookies pass unchanged.
 */
export function withoutOwnSetCookies(headers: IncomingHttpHeaders, owns: OwnCookie): IncomingHttpHeaders {
  const cookies = headers['set-cookie'];
  if (cookies === undefined) return headers;
  const kept = cookies.filter((cookie) => !owns(cookie.slice(0, Math.max(0, cookie.indexOf('='))).trim()));
  if (kept.length === cookies.length) return headers;
  const { 'set-cookie': _dropped, ...rest } = headers;
  return kept.length > 0 ? { ...rest, 'set-cookie': kept } : rest;
}
