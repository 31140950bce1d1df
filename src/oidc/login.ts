import * as client from 'openid-client';
import type { ServerConfig } from '../config/types.js';
import { allowedAbsoluteUrl } from '../edge/redirect.js';
import type { RelyingParty } from './relying-party.js';

/** What the callback must check, kept in a short-lived sealed cookie between /login and /callback. */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
}

export function callbackUrl(config: ServerConfig): URL {
  return new URL(`${config.baseUrl.pathname.replace(/\/$/, '')}/callback`, config.baseUrl);
}

/**
 * Only same-origin relative paths: one leading `/`, no `//` or `/\` (protocol-relative), no control
 * characters or backslashes anywhere (browsers strip tabs/newlines and read `\` as `/`). An absolute URL only to
 * `allowedHosts` (ALLOWED_REDIRECT_HOSTS, see edge/redirect.ts). Anything else goes to `fallback`.
 */
export function safeReturnTo(value: unknown, allowedHosts: readonly string[] = [], fallback = '/key'): string {
  if (typeof value === 'string' && /^https?:/i.test(value)) return allowedAbsoluteUrl(value, allowedHosts) ?? fallback;
  if (typeof value !== 'string' || value.length > 512) return fallback;
  if (!/^\/(?![/\\])/.test(value) || /[\u0000-\u001f\u007f\\]|%(?:[01][0-9a-f]|7f|5c)/i.test(value)) return fallback;
  try {
    const parsed = new URL(value, 'http://keygate.invalid');
    const path = parsed.pathname + parsed.search + parsed.hash;
    // Dot segments can normalise "/..//evil.com" into "//evil.com": check the result, not only the input.
    if (parsed.origin !== 'http://keygate.invalid' || !/^\/(?![/\\])/.test(path)) return fallback;
    return path;
  } catch {
    return fallback;
  }
}

/** Builds the authorization request: code flow, PKCE S256, state and nonce always, `audience` when set. */
export async function startLogin(provider: RelyingParty, returnTo: unknown): Promise<{ url: URL; transaction: LoginTransaction }> {
  const { configuration } = await provider.discover();
  const { config } = provider;
  const transaction: LoginTransaction = {
    state: client.randomState(),
    nonce: client.randomNonce(),
    codeVerifier: client.randomPKCECodeVerifier(),
    returnTo: safeReturnTo(returnTo, config.allowedRedirectHosts, `${config.baseUrl.pathname.replace(/\/$/, '')}/key`),
  };
  const parameters: Record<string, string> = {
    response_type: 'code',
    redirect_uri: callbackUrl(config).href,
    scope: config.scope,
    state: transaction.state,
    nonce: transaction.nonce,
    code_challenge: await client.calculatePKCECodeChallenge(transaction.codeVerifier),
    code_challenge_method: 'S256',
  };
  if (config.audience !== undefined) {
    parameters.audience = config.audience;
    if (!config.auth0) parameters.resource = config.audience;
  }
  return { url: client.buildAuthorizationUrl(configuration, parameters), transaction };
}
