import type { Allowlist } from '../keygate/validate.js';
import { accessDenied, invalidToken, KeygateError, UnavailableError } from '../errors.js';
import { isAllowed } from '../policy/allowlist.js';
import type { Session, SessionStore } from '../session/store.js';
import type { TokenVerifier, VerifiedToken } from './verifier.js';

/** What `/protected` answers for a good token. */
export interface Profile {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  picture?: string;
  /** The token's expiry, seconds since the epoch. */
  exp: number;
}

export interface AuthorizeDeps {
  config: { requireSession: boolean; allowlist: Allowlist | undefined; emailClaim: string };
  store: SessionStore;
  /** Resolves the verifier (after discovery); rejects with a KeygateError when the provider is unreachable. */
  verifier: () => Promise<TokenVerifier>;
}

export interface Authorization {
  token: VerifiedToken;
  profile: Profile;
  session: Session | undefined;
}

/**
 * The whole decision for a bearer token, framework-free: verify the JWT, then check server-side state —
 * with `requireSession` the login that issued it must be alive, otherwise the token must not be revoked —
 * then the allowlist, re-applied on every request.
 */
export function createAuthorizer(deps: AuthorizeDeps): (token: string) => Promise<Authorization> {
  const { config, store } = deps;
  // Resolved once (after discovery succeeds), not on every request.
  let ready: TokenVerifier | undefined;
  return async function authorize(rawToken: string): Promise<Authorization> {
    const verify = ready ?? (ready = await deps.verifier());
    const token = await verify(rawToken);
    let session: Session | undefined;
    let profile: Profile;
    try {
      if (config.requireSession) {
        session = await store.getByToken(token.key);
        if (session === undefined) throw invalidToken('The login that issued this token has ended (logged out or expired). Please log in again.');
        profile = profileFromSession(session, token.claims.exp);
      } else {
        if (await store.isRevoked(token.key)) throw invalidToken('This token has been revoked (the user logged out). Please log in again.');
        profile = profileFromClaims(token.claims, config.emailClaim);
      }
    } catch (error) {
      if (error instanceof KeygateError) throw error;
      throw new UnavailableError('The session store cannot be reached.', error);
    }
    if (!isAllowed(config.allowlist, profile.email, profile.email_verified)) {
      throw accessDenied(
        profile.email === undefined
          ? 'The token carries no e-mail address, and only listed addresses are allowed.'
          : `The address ${profile.email} is not allowed to use this API.`,
      );
    }
    return { token, profile, session };
  };
}

export function profileFromSession(session: Session, exp: number): Profile {
  const profile: Profile = { sub: session.sub, exp };
  if (session.email !== undefined) profile.email = session.email;
  if (session.emailVerified !== undefined) profile.email_verified = session.emailVerified;
  if (session.name !== undefined) profile.name = session.name;
  if (session.picture !== undefined) profile.picture = session.picture;
  return profile;
}

export function profileFromClaims(claims: VerifiedToken['claims'], emailClaim: string): Profile {
  const profile: Profile = { sub: claims.sub, exp: claims.exp };
  const email = claims[emailClaim] ?? claims.email;
  if (typeof email === 'string') profile.email = email;
  if (typeof claims.email_verified === 'boolean') profile.email_verified = claims.email_verified;
  if (typeof claims.name === 'string') profile.name = claims.name;
  if (typeof claims.picture === 'string') profile.picture = claims.picture;
  return profile;
}
