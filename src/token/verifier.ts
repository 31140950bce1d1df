import { createHash } from 'node:crypto';
import * as jose from 'jose';
import { invalidToken, UnavailableError, KeygateError } from '../errors.js';
import { parseWellFormed } from './well-formed.js';
import { nodeJwtVerify, type NodeVerifyOptions } from './node-verify.js';

export interface TokenVerifierOptions {
  /** Exact expected `iss` (from the provider's discovered metadata). */
  issuer: string;
  /** Exact expected audience (or several, any of which the token's `aud` may name): the client id for ID tokens, the API identifier for access tokens. */
  audience: string | readonly string[];
  /** Accepted JWS algorithms; HS* only when `hmacSecret` is given. */
  algorithms: readonly string[];
  /** Keys of the issuer, normally `jose.createRemoteJWKSet(jwks_uri, …)`. */
  keys: jose.JWTVerifyGetKey;
  /** Shared secret for HS* algorithms (the client secret), when configured. */
  hmacSecret?: Uint8Array;
  /** Seconds of clock skew tolerated on exp/nbf/iat (at most 60). */
  clockTolerance: number;
  /** Longest accepted `exp - iat`, in seconds. */
  maxTokenLifetime: number;
  /** When set (ID tokens), an `azp` claim must equal it. */
  authorizedParty?: string;
  /** Clock, for tests. */
  now?: () => number;
}

export interface VerifiedToken {
  /** Canonical identity of the token: two strings that verify as the same token give the same key. */
  key: string;
  header: jose.ProtectedHeaderParameters;
  claims: jose.JWTPayload & { exp: number; iat: number; sub: string };
}

/**
 * Verifies a token (signature and claims). `peek`, when the verifier has one (a cache, `createCachedVerifier`),
 * answers without waiting for a token it accepted before and would accept again now, and undefined otherwise (then
 * call the verifier): the hot path of every door uses it to decide without a promise.
 */
export type TokenVerifier = ((token: string) => Promise<VerifiedToken>) & { peek?: (token: string) => VerifiedToken | undefined };

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const ACCEPTED_TYP = new Set(['jwt', 'at+jwt', 'application/jwt', 'application/at+jwt']);
const MAX_TOKEN_LENGTH = 16 * 1024;
/** Errors of the key lookup that are the token's fault (no or several matching keys, an unsupported alg). */
const TOKEN_FAULTS = [jose.errors.JWKSNoMatchingKey, jose.errors.JWKSMultipleMatchingKeys, jose.errors.JOSENotSupported, jose.errors.JOSEAlgNotAllowed, jose.errors.JWSInvalid, jose.errors.JWTInvalid];

/** The canonical key of a compact JWS whose segments are canonical base64url (see `assertCanonical`). */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * RFC 7515 §2 and §7.1: each segment is unpadded base64url. A segment that decodes but does not re-encode to
 * itself (padding, stray characters, non-zero trailing bits) is refused, so the raw string is canonical and
 * `tokenKey` maps every acceptable encoding of one token to one key.
 */
export function assertCanonical(token: string): void {
  if (token.length > MAX_TOKEN_LENGTH) throw invalidToken('The token is too long.');
  const parts = token.split('.');
  if (parts.length === 5) throw invalidToken('Encrypted tokens (JWE) are not accepted.');
  if (parts.length !== 3) throw invalidToken('The token is not a JWT (expected three dot-separated parts).');
  for (const part of parts) {
    if (!SEGMENT.test(part) || !zeroTrailingBits(part)) throw invalidToken('The token is damaged or not a JWT.');
  }
}

/** Values of the base64url alphabet, by char code (only called on strings that matched SEGMENT). */
const SEXTET = new Uint8Array(128);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) SEXTET[c.charCodeAt(0)] = i;

/**
 * True when an unpadded base64url string decodes and re-encodes to itself — the same answer as
 * `Buffer.from(s, 'base64url').toString('base64url') === s`, without the two copies: a length of 4n+1 cannot encode
 * whole bytes, and the bits of the last character beyond the last byte (4 bits at 4n+2, 2 bits at 4n+3) must be zero.
 */
function zeroTrailingBits(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 0) return true;
  if (rest === 1) return false;
  return (SEXTET[segment.charCodeAt(segment.length - 1)]! & (rest === 2 ? 0b1111 : 0b11)) === 0;
}

/** Creates the verifier of API tokens: signature, algorithm allowlist, iss, aud, exp, nbf, iat, lifetime, typ, azp. It verifies; policies authorize. */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const algorithms = [...options.algorithms];
  const hmac = options.hmacSecret;
  const getKey: jose.JWTVerifyGetKey = (header, token) => {
    if (header.alg?.startsWith('HS')) {
      if (!hmac) throw invalidToken(`The ${header.alg} algorithm is not accepted.`);
      return hmac;
    }
    // Failing to reach the key set is the provider's fault (503); anything jose says about the key it then
    // gets (too short an RSA modulus, wrong type) is the token's (401): keep the two apart here.
    return Promise.resolve(options.keys(header, token)).catch((error: unknown) => {
      if (error instanceof KeygateError || error instanceof jose.errors.JWKSTimeout || TOKEN_FAULTS.some((type) => error instanceof type)) throw error;
      // An HTTP error status, an invalid key set or a network failure: the provider's fault, fail closed.
      throw new UnavailableError('The provider\'s signing keys could not be fetched.', error);
    });
  };
  const allowed: ReadonlySet<string> = new Set(algorithms);
  const verifyOptions: NodeVerifyOptions = {
    issuer: options.issuer,
    audience: typeof options.audience === 'string' ? options.audience : [...options.audience],
    algorithms,
    clockTolerance: options.clockTolerance,
    maxTokenAge: options.maxTokenLifetime,
    requiredClaims: ['iss', 'aud', 'exp', 'iat', 'sub'],
  };

  return async function verify(token: string): Promise<VerifiedToken> {
    assertCanonical(token);
    const first = token.indexOf('.');
    // Header and payload decoded and parsed once here; the header is handed on, not decoded again.
    const { header } = parseWellFormed(token, first, token.indexOf('.', first + 1));
    let result: jose.JWTVerifyResult;
    try {
      // jose's checks, with RS/PS/ES signatures verified by node:crypto (see node-verify.ts).
      result = await nodeJwtVerify(token, getKey, options.now ? { ...verifyOptions, currentDate: new Date(options.now()) } : verifyOptions, allowed, header);
    } catch (error) {
      throw mapJoseError(error);
    }
    const { payload, protectedHeader } = result;
    if (protectedHeader.typ !== undefined && !ACCEPTED_TYP.has(String(protectedHeader.typ).toLowerCase())) {
      const typ = String(protectedHeader.typ);
      throw invalidToken(`Tokens of type "${typ.length > 40 ? `${typ.slice(0, 40)}…` : typ}" are not accepted.`);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '') throw invalidToken('The token has no subject (sub).');
    const exp = payload.exp!;
    const iat = payload.iat!;
    if (exp - iat > options.maxTokenLifetime) {
      throw invalidToken(`The token lives longer than the ${options.maxTokenLifetime} s this API accepts.`);
    }
    if (options.authorizedParty !== undefined && payload.azp !== undefined && payload.azp !== options.authorizedParty) {
      throw invalidToken('The token was issued to another client (azp).');
    }
    return { key: tokenKey(token), header: protectedHeader, claims: payload as VerifiedToken['claims'] };
  };
}

/** The scopes a token grants: the space-separated `scope` string and the `scp` array, together. */
export function grantedScopes(payload: jose.JWTPayload): Set<string> {
  const scopes = new Set<string>();
  if (typeof payload.scope === 'string') for (const s of payload.scope.split(' ')) if (s) scopes.add(s);
  if (Array.isArray(payload.scp)) for (const s of payload.scp) if (typeof s === 'string') scopes.add(s);
  return scopes;
}

/** Turns jose's errors into RFC 6750 answers; failures to reach the keys fail closed with 503. */
export function mapJoseError(error: unknown): KeygateError {
  if (error instanceof KeygateError) return error;
  if (error instanceof jose.errors.JWTExpired) return invalidToken('The token has expired.', error);
  if (error instanceof jose.errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    const reason = error.reason;
    const text: Record<string, string> = {
      iss: 'The token was issued by another issuer (iss).',
      aud: 'The token is not meant for this API (aud).',
      nbf: 'The token is not valid yet (nbf).',
      iat: 'The token was issued in the future or too long ago (iat).',
      exp: 'The token has an invalid expiry (exp).',
      sub: 'The token has an invalid subject (sub).',
    };
    if (reason === 'missing') return invalidToken(`The token lacks the required "${claim}" claim.`, error);
    return invalidToken(text[claim] ?? `The token's "${claim}" claim is invalid.`, error);
  }
  if (error instanceof jose.errors.JWSSignatureVerificationFailed) return invalidToken('The token signature is invalid.', error);
  if (error instanceof jose.errors.JOSEAlgNotAllowed) return invalidToken('The token is signed with an algorithm this API does not accept.', error);
  if (error instanceof jose.errors.JWKSNoMatchingKey) return invalidToken('No key of the issuer matches the token (kid).', error);
  if (error instanceof jose.errors.JWKSMultipleMatchingKeys) return invalidToken('Several keys of the issuer match the token; it must name one (kid).', error);
  if (error instanceof jose.errors.JWKSTimeout) return new UnavailableError('The provider\'s signing keys could not be fetched in time.', error);
  if (error instanceof jose.errors.JWKSInvalid) return new UnavailableError('The provider published an invalid key set.', error);
  if (error instanceof jose.errors.JOSENotSupported) return invalidToken('The token uses a feature this API does not support.', error);
  if (error instanceof jose.errors.JWTInvalid || error instanceof jose.errors.JWSInvalid) return invalidToken('The token is damaged or not a JWT.', error);
  if (error instanceof jose.errors.JOSEError) return invalidToken('The token could not be verified.', error);
  // jose refusing a key it was handed (an RSA modulus under 2048 bits, an unusable key type) is the token's fault.
  if (error instanceof TypeError && /modulusLength|key/i.test(error.message) && !/fetch/i.test(error.message)) {
    return invalidToken('The token could not be verified with the issuer\'s keys.', error);
  }
  // Anything else is a failure to reach the key set (network error, refused connection): fail closed.
  return new UnavailableError('The provider\'s signing keys could not be fetched.', error);
}
