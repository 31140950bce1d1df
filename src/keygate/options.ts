import type { Allowlist } from '../config/types.js';
import { isLoopbackHost } from '../config/load.js';
import { allowlistOption } from '../policy/route.js';
import type { SessionStore } from '../session/store.js';

/**
 * Options of `createKeygate` (and of the Fastify plugin and Express middleware): plain data, validated once.
 * The library reads no environment variable; the application passes what it wants.
 */
export interface KeygateOptions {
  /** The provider's issuer URL; discovery reads `<issuer>/.well-known/openid-configuration`. https, or http on loopback. */
  issuer: string;
  /** The audience the tokens must carry: the API identifier (access tokens) or the client id (ID tokens). */
  audience: string;
  /** Accepted JWS algorithms (asymmetric only). Default `['RS256']`. */
  algorithms?: readonly string[];
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
  audience: string;
  algorithms: readonly string[];
  clockTolerance: number;
  maxTokenLifetime: number;
  authorizedParty: string | undefined;
  store: SessionStore | undefined;
  requireSession: boolean;
  allowlist: Allowlist | undefined;
  emailClaim: string;
  fetch: typeof fetch | undefined;
  timeoutMs: number;
  tokenCacheSize: number;
  now: (() => number) | undefined;
}

/** Options given to `createKeygate` or an adapter are invalid: every problem, at once. */
export class KeygateOptionsError extends TypeError {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Keygate options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'KeygateOptionsError';
  }
}

const ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);
const KNOWN = new Set([
  'issuer', 'audience', 'algorithms', 'clockTolerance', 'maxTokenLifetime', 'authorizedParty', 'store',
  'requireSession', 'allowlist', 'emailClaim', 'fetch', 'timeoutMs', 'tokenCacheSize', 'now',
]);
const STORE_METHODS = ['getByToken', 'isRevoked', 'close'] as const;

/** Validates the options, collecting every problem; throws one `KeygateOptionsError` listing them all. */
export function resolveOptions(input: KeygateOptions): ResolvedKeygateOptions {
  if (typeof input !== 'object' || input === null) throw new KeygateOptionsError(['options: must be an object']);
  const options = input as unknown as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) problems.push(`${key}: unknown option`);

  let issuer = '';
  if (typeof options.issuer !== 'string' || options.issuer === '') problems.push('issuer: required, the provider\'s issuer URL');
  else {
    const url = URL.canParse(options.issuer) ? new URL(options.issuer) : undefined;
    if (url === undefined) problems.push(`issuer: not a URL: "${options.issuer}"`);
    else if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      problems.push(`issuer: must use https (plain http only on a loopback host), got "${options.issuer}"`);
    } else if (url.search !== '' || url.hash !== '') problems.push('issuer: must have no query or fragment');
    else issuer = options.issuer;
  }

  if (typeof options.audience !== 'string' || options.audience.trim() === '') problems.push('audience: required, the API identifier or client id tokens are issued for');
  else if (/\s/.test(options.audience)) problems.push(`audience: one identifier without spaces, got "${options.audience}"`);

  let algorithms: readonly string[] = ['RS256'];
  if (options.algorithms !== undefined) {
    if (!Array.isArray(options.algorithms) || options.algorithms.length === 0) problems.push('algorithms: a non-empty array of JWS algorithms');
    else {
      for (const alg of options.algorithms) {
        if (typeof alg === 'string' && alg.startsWith('HS')) problems.push(`algorithms: ${alg} needs a shared secret; only asymmetric algorithms are accepted here`);
        else if (typeof alg !== 'string' || !ALGORITHMS.has(alg)) problems.push(`algorithms: "${String(alg)}" is not a supported JWS algorithm (none is never accepted)`);
      }
      algorithms = options.algorithms as string[];
    }
  }

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const value = options[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  };
  const clockTolerance = int('clockTolerance', 30, 0, 60);
  const maxTokenLifetime = int('maxTokenLifetime', 86_400, 60, 30 * 86_400);
  const timeoutMs = int('timeoutMs', 10_000, 100, 60_000);
  const tokenCacheSize = int('tokenCacheSize', 10_000, 0, 10_000_000);

  const optionalString = (name: string): string | undefined => {
    const value = options[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') problems.push(`${name}: a non-empty string`);
    return typeof value === 'string' ? value : undefined;
  };
  const authorizedParty = optionalString('authorizedParty');
  const emailClaim = optionalString('emailClaim') ?? 'email';

  const store = options.store as SessionStore | undefined;
  if (store !== undefined) {
    const missing = STORE_METHODS.filter((m) => typeof (store as unknown as Record<string, unknown>)?.[m] !== 'function');
    if (missing.length > 0) problems.push(`store: not a SessionStore (missing ${missing.join(', ')})`);
  }
  if (options.requireSession !== undefined && typeof options.requireSession !== 'boolean') problems.push('requireSession: true or false');
  const requireSession = options.requireSession === true;
  if (requireSession && store === undefined) {
    problems.push('requireSession: needs the store Keygate writes its logins to (pass `store`); a private store holds no login');
  }

  const allowlist = options.allowlist === undefined ? undefined : allowlistOption('allowlist', options.allowlist, problems);
  for (const name of ['fetch', 'now']) {
    if (options[name] !== undefined && typeof options[name] !== 'function') problems.push(`${name}: must be a function`);
  }

  if (problems.length > 0) throw new KeygateOptionsError(problems);
  return Object.freeze({
    issuer, audience: options.audience as string, algorithms: Object.freeze([...algorithms]), clockTolerance, maxTokenLifetime,
    authorizedParty, store, requireSession, allowlist, emailClaim,
    fetch: options.fetch as typeof fetch | undefined, timeoutMs, tokenCacheSize, now: options.now as (() => number) | undefined,
  });
}
