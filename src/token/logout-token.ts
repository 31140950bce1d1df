import * as jose from 'jose';
import { KeygateError } from '../errors.js';
import { assertCanonical, mapJoseError } from './verifier.js';

/** OpenID Connect Back-Channel Logout 1.0 §2.4: the event a logout token must carry. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

export interface LogoutTokenOptions {
  issuer: string;
  /** The client id: the logout token's `aud` must contain it. */
  audience: string;
  algorithms: readonly string[];
  keys: jose.JWTVerifyGetKey;
  clockTolerance: number;
  /** Oldest accepted `iat`, in seconds before now. */
  maxAge: number;
  now?: () => number;
}

/** Whom a valid logout token logs out: the provider session (`sid`), the user (`sub`), or both. */
export interface LogoutTarget {
  sub?: string;
  sid?: string;
}

/** §2.8: a logout token that fails validation is answered with 400 and an OAuth error body. */
const invalid = (description: string, cause?: unknown) =>
  new KeygateError({ code: 'invalid_request', description, cause, headers: { 'cache-control': 'no-store' } });

const ACCEPTED_TYP = new Set(['logout+jwt', 'application/logout+jwt', 'jwt', 'application/jwt']);

/**
 * Validates a logout token as §2.6 requires: the signature from the provider's keys under the algorithm allowlist,
 * `iss` exact, `aud` containing the client id, `iat` present and recent, `exp` when present, the back-channel
 * `events` member holding a JSON object, no `nonce` (so an ID token cannot pass for one), and `sid` or `sub`.
 */
export async function verifyLogoutToken(token: string, options: LogoutTokenOptions): Promise<LogoutTarget> {
  try {
    assertCanonical(token);
  } catch (error) {
    throw invalid(`The logout token is malformed: ${(error as Error).message}`, error);
  }
  const now = options.now ?? Date.now;
  let payload: jose.JWTPayload;
  let header: jose.ProtectedHeaderParameters;
  try {
    ({ payload, protectedHeader: header } = await jose.jwtVerify(token, options.keys, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: options.algorithms.filter((alg) => !alg.startsWith('HS')),
      clockTolerance: options.clockTolerance,
      maxTokenAge: options.maxAge,
      requiredClaims: ['iss', 'aud', 'iat'],
      currentDate: new Date(now()),
    }));
  } catch (error) {
    // Keys out of reach stay a 503 (the provider retries); every fault of the token itself is §2.8's 400.
    const mapped = mapJoseError(error);
    if (mapped.status >= 500) throw mapped;
    throw invalid(`The logout token is not valid: ${mapped.description}`, error);
  }
  if (header.typ !== undefined && !ACCEPTED_TYP.has(header.typ.toLowerCase())) {
    throw invalid(`The logout token has the wrong type (typ "${header.typ}").`);
  }
  const events = payload.events;
  if (typeof events !== 'object' || events === null || Array.isArray(events)) {
    throw invalid('The logout token has no events claim.');
  }
  const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw invalid('The logout token\'s events claim does not hold the back-channel logout event.');
  }
  if ('nonce' in payload) throw invalid('A logout token must not carry a nonce.');
  const target: LogoutTarget = {};
  if (payload.sub !== undefined) {
    if (typeof payload.sub !== 'string' || payload.sub === '') throw invalid('The logout token\'s sub is not a string.');
    target.sub = payload.sub;
  }
  if (payload.sid !== undefined) {
    if (typeof payload.sid !== 'string' || payload.sid === '') throw invalid('The logout token\'s sid is not a string.');
    target.sid = payload.sid;
  }
  if (target.sub === undefined && target.sid === undefined) throw invalid('The logout token names neither a sid nor a sub.');
  return target;
}
