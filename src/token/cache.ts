import type { TokenVerifier, VerifiedToken } from './verifier.js';

export interface TokenCacheOptions {
  /** Most verified tokens kept; the least recently used goes first. Must be at least 1 (0 means: do not wrap). */
  maxEntries: number;
  /** Seconds of clock skew tolerated on exp/nbf/iat, the same value the wrapped verifier uses. */
  clockTolerance: number;
  /** Longest accepted token age (`now - iat`), in seconds, the same value the wrapped verifier uses. */
  maxTokenLifetime: number;
  /**
   * Longest time, in milliseconds, a verification result is reused before the token is verified again
   * (default 5 minutes): a key withdrawn from the issuer's JWKS stops being trusted within that time, as it does
   * through the JWKS cache itself.
   */
  maxAgeMs?: number;
  /** Clock in milliseconds, for tests; the same clock the wrapped verifier uses. */
  now?: () => number;
}

interface Entry {
  /** The token exactly as it was accepted: a lookup hits only when the presented string equals it. */
  raw: string;
  token: VerifiedToken;
  /** First second (inclusive) in which the wrapped verifier would accept the token: nbf and iat less the tolerance. */
  from: number;
  /** First second (exclusive) in which it would refuse it: exp (or iat + max lifetime) plus the tolerance. */
  until: number;
  /** Milliseconds: when this entry must be verified again, whatever the token's own times. */
  staleAt: number;
  /** Set by a hit; eviction gives such an entry a second chance instead of dropping it. */
  used: boolean;
}

const DEFAULT_MAX_AGE_MS = 5 * 60_000;
/** Longer strings are never cached (the verifier refuses them). */
const MAX_TOKEN_LENGTH = 16 * 1024;
/**
 * Characters at the end of a token that key the Map: the end of its signature (43 characters are a whole HS256
 * signature and a part of any RS/PS/ES one), as good as unique among accepted tokens and cheap to hash; a whole
 * token, a new string on every request, would be hashed character by character at each lookup.
 */
const KEY_LENGTH = 43;
const keyOf = (raw: string): string => (raw.length > KEY_LENGTH ? raw.slice(-KEY_LENGTH) : raw);

/**
 * A bounded cache of verified tokens (least recently used out first, by second chance) in front of a `TokenVerifier`. Only what the verifier checks is cached:
 * a session or revocation check stays the caller's job on every request (see `createAuthorizer`), so a cached token
 * never outlives a logout.
 *
 * - Found by the token's last characters (`KEY_LENGTH`) and used only when the whole presented string equals the
 *   accepted one: the verifier only accepts canonical base64url (`assertCanonical`), so one token has exactly one
 *   accepted spelling, and a string that is in the cache was accepted as it is. Another string with the same end
 *   (a forged or damaged token) is a miss: it is verified, and only if it verifies does it take the slot.
 * - An entry is used only inside the time window in which the wrapped verifier would accept the token again (exp,
 *   nbf, iat and the token age, each with the same clock tolerance, in whole seconds as jose counts them); outside it
 *   the token is verified again and refused for the right reason.
 * - Failures are not cached: most are cheaper to repeat than to remember (malformed, wrong issuer), some are
 *   transient (keys unreachable, a kid not yet published), and caching them would let a flood of bad tokens push
 *   good ones out.
 */
/** A verifier with a cache in front; `cacheSize()` tells how many tokens it holds (for tests and metrics). */
export type CachedTokenVerifier = TokenVerifier & { peek(token: string): VerifiedToken | undefined; cacheSize(): number };

export function createCachedVerifier(verify: TokenVerifier, options: TokenCacheOptions): CachedTokenVerifier {
  if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
  const max = options.maxEntries;
  const tolerance = options.clockTolerance;
  const lifetime = options.maxTokenLifetime;
  const maxAge = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  /**
   * LRU by second chance (CLOCK): a hit only sets a flag (no Map writes on the hot path); eviction walks from the
   * oldest insertion, moving flagged entries to the end with the flag cleared, and drops the first unflagged one —
   * never the entry just added (`keep`), which would otherwise be the first unflagged one met when every older entry
   * was used. Each pass clears the flags it meets, so the walk ends within one lap.
   */
  const evictOne = (keep: string) => {
    for (const [key, entry] of entries) {
      if (key === keep) continue;
      entries.delete(key);
      if (!entry.used) return;
      entry.used = false;
      entries.set(key, entry);
    }
  };

  /** The cached result, when the token is in the cache and inside its window; a stale entry is dropped. */
  const peek = (raw: string): VerifiedToken | undefined => {
    if (raw.length > MAX_TOKEN_LENGTH) return undefined;
    const key = keyOf(raw);
    const entry = entries.get(key);
    if (entry === undefined || entry.raw !== raw) return undefined;
    const t = now();
    const seconds = Math.floor(t / 1000);
    if (seconds >= entry.from && seconds < entry.until && t < entry.staleAt) {
      entry.used = true;
      return entry.token;
    }
    entries.delete(key);
    return undefined;
  };

  const cachedVerify = async (raw: string): Promise<VerifiedToken> => {
    const hit = peek(raw);
    if (hit !== undefined) return hit;
    const t = now();
    const key = keyOf(raw);
    const token = await verify(raw);
    const { exp, iat, nbf } = token.claims;
    const entry: Entry = {
      raw,
      token: freeze(token),
      from: Math.max(typeof nbf === 'number' ? nbf : -Infinity, iat) - tolerance,
      until: Math.min(exp + tolerance, iat + lifetime + tolerance + 1),
      staleAt: t + maxAge,
      used: false,
    };
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > max) evictOne(key);
    return token;
  };
  return Object.assign(cachedVerify, { peek, cacheSize: () => entries.size });
}

/** The cached result is shared by every request that presents the token: nobody may change it. */
function freeze(token: VerifiedToken): VerifiedToken {
  Object.freeze(token.header);
  Object.freeze(token.claims);
  return Object.freeze(token);
}
