import type { ServerConfig } from '../config/types.js';

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
