import type { FastifyReply } from 'fastify';
import type { ServerConfig } from '../config/types.js';

/**
 * Replies that get none of Keygate's security headers: answers that are not Keygate's own (the upstream's, in the
 * proxy mode) and answers no browser renders (`/auth`'s empty 200 for the proxy, which sets its own cache-control).
 * A route marks a reply while it still may be one, and unmarks it when it turns into an answer of Keygate's (an
 * error). A symbol property of the reply, not a WeakSet: marking is on the hot path of `/auth` and the proxy.
 */
const BARE = Symbol('keygate.bareAnswer');
type Marked = FastifyReply & { [BARE]?: boolean };
export const bareAnswers = {
  add: (reply: FastifyReply): void => void ((reply as Marked)[BARE] = true),
  delete: (reply: FastifyReply): void => void ((reply as Marked)[BARE] = false),
  has: (reply: FastifyReply): boolean => (reply as Marked)[BARE] === true,
};

/**
 * An identity header value (`X-Auth-Request-User`, `-Email`) as both edge doors send it: ASCII as it is, anything
 * else percent-encoded rather than dropped or thrown on.
 */
export const headerSafe = (value: string): string => (/^[\x20-\x7e]*$/.test(value) ? value : encodeURIComponent(value));

type HeaderConfig = Pick<ServerConfig, 'issuerUrl' | 'secure'>;

/**
 * Security headers of pages and of every answer that is not JSON (HTML, static files, redirects, empty answers).
 * Pages run under a strict CSP with no inline script or style; form posts may redirect to the provider (logout),
 * and Chromium applies `form-action` to that redirect, so the provider's origin is allowed there.
 */
export function securityHeaders(config: HeaderConfig): Record<string, string> {
  const providerOrigin = new URL(config.issuerUrl).origin;
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    `form-action 'self' ${providerOrigin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  // The API set, with the page's own CSP in place of the API one.
  return { ...apiSecurityHeaders(config), 'content-security-policy': csp, 'x-frame-options': 'DENY', 'cross-origin-opener-policy': 'same-origin' };
}

/**
 * Security headers of JSON answers (`/protected`, API errors, JSON 404s): what still protects a document that runs
 * no script and holds no form. It is never cached (`no-store`), never sniffed into HTML (`nosniff`), inert and not
 * framable if a browser renders it (`default-src 'none'; frame-ancestors 'none'`), sends no referrer, and is not
 * readable by another origin's no-cors request (`cross-origin-resource-policy`); HSTS when served over https.
 * Left to pages: the page CSP's other directives (they only loosen `default-src 'none'` or govern forms and
 * `<base>`, which JSON has not), `x-frame-options` (replaced by `frame-ancestors` wherever CSP 2 is supported) and
 * `cross-origin-opener-policy` (isolates windows a page opens or is opened by).
 */
export function apiSecurityHeaders(config: Pick<HeaderConfig, 'secure'>): Record<string, string> {
  const headers: Record<string, string> = {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
  };
  if (config.secure) headers['strict-transport-security'] = 'max-age=31536000';
  return headers;
}
