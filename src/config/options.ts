import type { KeygateOptions } from '../keygate/options.js';
import { allowlistEntries, HMAC_ALGORITHMS } from '../keygate/validate.js';
import type { ServerConfig } from './types.js';

/**
 * The library options of Keygate's own server: the same core every door uses (`createKeygate`), configured from
 * the environment. Without `AUDIENCE` the API token is the ID token: its audience is the client id, and an `azp`,
 * when present, must name this client. `REQUIRED_SCOPES` is not here: it is the `/protected` route's policy.
 */
export function keygateOptionsFrom(config: ServerConfig): KeygateOptions {
  return {
    issuer: config.issuerUrl,
    audience: config.audience ?? config.clientId,
    algorithms: config.algorithms,
    ...(config.algorithms.some((alg) => HMAC_ALGORITHMS.has(alg)) ? { sharedSecret: config.clientSecret } : {}),
    ...(config.audience === undefined ? { authorizedParty: config.clientId } : {}),
    clockTolerance: config.clockTolerance,
    maxTokenLifetime: config.maxTokenLifetime,
    requireSession: config.requireSession,
    ...(config.allowlist !== undefined ? { allowlist: allowlistEntries(config.allowlist) } : {}),
    emailClaim: config.emailClaim,
    timeoutMs: config.providerTimeoutMs,
    tokenCacheSize: config.tokenCacheSize,
  };
}
