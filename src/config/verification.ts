import { checkOptions, type KeygateOptions, type OptionNames } from '../keygate/options.js';
import { HMAC_ALGORITHMS } from '../keygate/validate.js';
import type { EnvReader } from './env.js';
import type { ServerConfig } from './types.js';

type Verification = Pick<
  ServerConfig,
  'issuerUrl' | 'algorithms' | 'clockTolerance' | 'maxTokenLifetime' | 'emailClaim' | 'providerTimeoutMs' | 'tokenCacheSize' | 'requireSession' | 'allowlist'
>;

/**
 * The settings the server shares with the library (`createKeygate`): read from the environment here, then checked
 * by the library's own `checkOptions`, so both accept and refuse the same values; problems name the variables.
 */
export function parseVerification(r: EnvReader, provider: Pick<ServerConfig, 'issuerUrl' | 'audience' | 'clientId' | 'clientSecret'>, issuerName: string): Verification {
  const algorithms = r.list('TOKEN_ALGORITHMS') ?? ['RS256'];
  const allowlistName = r.read('ALLOWED_USERS') !== undefined ? 'ALLOWED_USERS' : 'USERS';
  const allowlist = r.read(allowlistName)?.split(',').filter((entry) => entry.trim() !== '');
  const names: OptionNames = {
    issuer: issuerName,
    audience: provider.audience === undefined ? 'CLIENT_ID' : 'AUDIENCE',
    algorithms: 'TOKEN_ALGORITHMS',
    sharedSecret: 'CLIENT_SECRET',
    clockTolerance: 'CLOCK_TOLERANCE',
    maxTokenLifetime: 'MAX_TOKEN_LIFETIME',
    timeoutMs: 'PROVIDER_TIMEOUT_MS',
    tokenCacheSize: 'TOKEN_CACHE_SIZE',
    emailClaim: 'EMAIL_CLAIM',
    allowlist: allowlistName,
  };
  const options: KeygateOptions = {
    // Unset provider settings are reported by the provider group; a stand-in keeps them from being reported twice.
    issuer: provider.issuerUrl || 'https://issuer.invalid/',
    audience: provider.audience ?? (provider.clientId || 'client-id'),
    algorithms,
    ...(algorithms.some((alg) => HMAC_ALGORITHMS.has(alg)) ? { sharedSecret: provider.clientSecret } : {}),
    ...defined({
      clockTolerance: r.wholeNumber('CLOCK_TOLERANCE'),
      maxTokenLifetime: r.wholeNumber('MAX_TOKEN_LIFETIME'),
      timeoutMs: r.wholeNumber('PROVIDER_TIMEOUT_MS'),
      tokenCacheSize: r.wholeNumber('TOKEN_CACHE_SIZE'),
      emailClaim: r.read('EMAIL_CLAIM'),
      allowlist: allowlist !== undefined && allowlist.length > 0 ? allowlist : undefined,
    }),
  };
  const resolved = checkOptions(options, r.problems, names);
  return {
    issuerUrl: resolved.issuer,
    algorithms: resolved.algorithms,
    clockTolerance: resolved.clockTolerance,
    maxTokenLifetime: resolved.maxTokenLifetime,
    emailClaim: resolved.emailClaim,
    providerTimeoutMs: resolved.timeoutMs,
    tokenCacheSize: resolved.tokenCacheSize,
    requireSession: r.bool('REQUIRE_SESSION', true),
    allowlist: resolved.allowlist,
  };
}

function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
