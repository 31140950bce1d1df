import { KeygateOptionsError } from '../errors.js';
import type { SessionStore } from '../session/store.js';
import { allowlistOption, checkAlgorithms, checkAudience, checkIssuer, checkLimit, type Allowlist } from './validate.js';

/**
 * Options of `createKeygate` (and of the Fastify plugin and Express middleware): plain data, validated once.
 * The library reads no environment variable; the application passes what it wants.
 */
export interface KeygateOptions {
  /** The provider's issuer URL; discovery reads `<issuer>/.well-known/openid-configuration`. https, or http on loopback. */
  issuer: string;
  /**
   * The audience the tokens must carry: the API identifier (access tokens) or the client id (ID tokens). Several
   * (a non-empty array): a token is accepted when its `aud` names any of them.
   */
  audience: string | readonly string[];
  /** Accepted JWS algorithms. Default `['RS256']`. HS256/384/512 only with `sharedSecret`. */
  algorithms?: readonly string[];
  /** The shared secret (at least 32 characters) that verifies HS* tokens, when `algorithms` lists one (Auth0: the client secret). */
  sharedSecret?: string;
  /** Seconds of clock skew tolerated on exp/nbf/iat, 0 to 60. Default 30. */
  clockTolerance?: number;
  /** Longest accepted `exp - iat`, in seconds, 60 to 2 592 000. Default 86 400. */
  maxTokenLifetime?: number;
  /** When set, an `azp` claim (if present) must equal it. */
  authorizedParty?: string;
  /**
   * Server-side state: share Keygate's store (the same `MemoryStore` instance in one process, or the shared Redis
   * store) so that a logout through Keygate rejects the token here at once. Default: a private `MemoryStore`, which
   * only sees revocations made in this instance.
   */
  store?: SessionStore;
  /** `true`: accept a token only while the Keygate login that issued it is alive (needs a shared `store`). Default false. */
  requireSession?: boolean;
  /** E-mail addresses and `@domain` entries allowed on every route; absent means everyone. */
  allowlist?: readonly string[];
  /** Claim holding the e-mail address (Auth0 access tokens use a namespaced claim). Default `email`. */
  emailClaim?: string;
  /** Replaces `fetch` for discovery and the key set (tests inject network faults here). */
  fetch?: typeof fetch;
  /** Timeout of each call to the provider, in milliseconds, 100 to 60 000. Default 10 000. */
  timeoutMs?: number;
  /** After a key set refetch, an unknown `kid` waits this long (milliseconds, 0 to 300 000) before the next one. Default 30 000. */
  jwksCooldownMs?: number;
  /**
   * Most verified tokens kept in memory (shared per issuer), so a token seen again skips the signature check; the
   * store is still asked about every request. 0 turns the cache off. Default 10 000.
   */
  tokenCacheSize?: number;
  /** Clock in milliseconds, for tests. */
  now?: () => number;
}

/** The options after validation, with defaults applied; frozen. */
export interface ResolvedKeygateOptions {
  issuer: string;
  /** As given: one identifier, or a frozen copy of the list. */
  audience: string | readonly string[];
  algorithms: readonly string[];
  sharedSecret: string | undefined;
  clockTolerance: number;
  maxTokenLifetime: number;
  authorizedParty: string | undefined;
  store: SessionStore | undefined;
  requireSession: boolean;
  allowlist: Allowlist | undefined;
  emailClaim: string;
  fetch: typeof fetch | undefined;
  timeoutMs: number;
  jwksCooldownMs: number;
  tokenCacheSize: number;
  now: (() => number) | undefined;
}

const KNOWN = new Set([
  'issuer', 'audience', 'algorithms', 'sharedSecret', 'clockTolerance', 'maxTokenLifetime', 'authorizedParty', 'store',
  'requireSession', 'allowlist', 'emailClaim', 'fetch', 'timeoutMs', 'jwksCooldownMs', 'tokenCacheSize', 'now',
]);
const STORE_METHODS = ['getByToken', 'isRevoked', 'revokeToken', 'delete', 'close'] as const;

/** The name each option has in the caller's words: the option itself, or the environment variable it came from. */
export type OptionNames = Partial<Record<keyof KeygateOptions, string>>;

/**
 * Validates the options, collecting every problem into `problems` (named with `names`, so that the server reports
 * them as environment variables); returns the resolved options, meaningful only when no problem was added.
 * The one validation of the shared settings: the environment loader calls it too.
 */
export function checkOptions(input: KeygateOptions, problems: string[], names: OptionNames = {}): ResolvedKeygateOptions {
  const options = input as unknown as Record<string, unknown>;
  const name = (key: keyof KeygateOptions): string => names[key] ?? key;
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) problems.push(`${key}: unknown option`);

  let issuer = '';
  if (typeof options.issuer !== 'string' || options.issuer === '') problems.push(`${name('issuer')}: required, the provider's issuer URL`);
  else issuer = checkIssuer(name('issuer'), options.issuer, problems) ?? '';

  const audience = audienceOption(name('audience'), options.audience, problems);

  const sharedSecret = optionalString(options, 'sharedSecret', name, problems);
  const algorithms =
    options.algorithms === undefined
      ? Object.freeze(['RS256'])
      : checkAlgorithms(name('algorithms'), options.algorithms, { name: name('sharedSecret'), value: sharedSecret }, problems);
  const clockTolerance = checkLimit(name('clockTolerance'), 'clockTolerance', options.clockTolerance, problems);
  const maxTokenLifetime = checkLimit(name('maxTokenLifetime'), 'maxTokenLifetime', options.maxTokenLifetime, problems);
  const timeoutMs = checkLimit(name('timeoutMs'), 'timeoutMs', options.timeoutMs, problems);
  const jwksCooldownMs = checkLimit(name('jwksCooldownMs'), 'jwksCooldownMs', options.jwksCooldownMs, problems);
  const tokenCacheSize = checkLimit(name('tokenCacheSize'), 'tokenCacheSize', options.tokenCacheSize, problems);
  const authorizedParty = optionalString(options, 'authorizedParty', name, problems);
  const emailClaim = optionalString(options, 'emailClaim', name, problems) ?? 'email';

  const store = options.store as SessionStore | undefined;
  if (store !== undefined) {
    const missing = STORE_METHODS.filter((m) => typeof (store as unknown as Record<string, unknown>)?.[m] !== 'function');
    if (missing.length > 0) problems.push(`${name('store')}: not a SessionStore (missing ${missing.join(', ')})`);
  }
  if (options.requireSession !== undefined && typeof options.requireSession !== 'boolean') problems.push(`${name('requireSession')}: true or false`);
  const requireSession = options.requireSession === true;
  if (requireSession && store === undefined) {
    problems.push(`${name('requireSession')}: needs the store Keygate writes its logins to (pass \`store\`); a private store holds no login`);
  }

  const allowlist = options.allowlist === undefined ? undefined : allowlistOption(name('allowlist'), options.allowlist, problems);
  for (const key of ['fetch', 'now'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') problems.push(`${name(key)}: must be a function`);
  }

  return Object.freeze({
    issuer, audience, algorithms, sharedSecret, clockTolerance, maxTokenLifetime,
    authorizedParty, store, requireSession, allowlist, emailClaim,
    fetch: options.fetch as typeof fetch | undefined, timeoutMs, jwksCooldownMs, tokenCacheSize, now: options.now as (() => number) | undefined,
  });
}

/** Validates the options; throws one `KeygateOptionsError` listing every problem. */
export function resolveOptions(input: KeygateOptions): ResolvedKeygateOptions {
  if (typeof input !== 'object' || input === null) throw new KeygateOptionsError(['options: must be an object']);
  const problems: string[] = [];
  const resolved = checkOptions(input, problems);
  if (problems.length > 0) throw new KeygateOptionsError(problems);
  return resolved;
}

/** One audience, or a non-empty list of them (a token may carry any one). */
function audienceOption(name: string, value: unknown, problems: string[]): string | readonly string[] {
  if (value === undefined || value === '') {
    problems.push(`${name}: required, the API identifier or client id tokens are issued for (a string, or an array of them)`);
    return '';
  }
  if (typeof value === 'string') {
    checkAudience(name, value, problems);
    return value;
  }
  if (!Array.isArray(value)) {
    problems.push(`${name}: a string or an array of strings, got ${typeof value}`);
    return '';
  }
  if (value.length === 0) problems.push(`${name}: an empty array accepts no token; give at least one audience`);
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string' || entry === '') problems.push(`${name}[${i}]: a non-empty string`);
    else checkAudience(`${name}[${i}]`, entry, problems);
  });
  return Object.freeze(value.map(String));
}

function optionalString(options: Record<string, unknown>, key: keyof KeygateOptions, name: (key: keyof KeygateOptions) => string, problems: string[]): string | undefined {
  const value = options[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') problems.push(`${name(key)}: a non-empty string`);
  return typeof value === 'string' ? value : undefined;
}
export { KeygateOptionsError } from '../errors.js';
