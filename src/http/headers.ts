import type { ServerConfig } from '../config/types.js';

/**
 * Security headers for every answer. Pages run under a strict CSP with no inline script or style; form posts may
 * redirect to the provider (logout), and Chromium applies `form-action` to that redirect, so the provider's origin
 * is allowed there.
 */
export function securityHeaders(config: Pick<ServerConfig, 'issuerUrl' | 'secure'>): Record<string, string> {
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
  const headers: Record<string, string> = {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
  };
  if (config.secure) headers['strict-transport-security'] = 'max-age=31536000';
  return headers;
}
