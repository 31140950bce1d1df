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
 * A bearer token's authorization. Called, it resolves or rejects as any async function. `now` is the same decision
 * for a hot path: it answers with a value when everything is at hand (the verifier has the token in its cache and the
 * store answers without waiting, `SessionStore.peekByToken`/`peekRevoked`), and with a promise otherwise; it may
 * throw instead of rejecting. Both give the same answers.
 */
export interface Authorizer {
  (token: string): Promise<Authorization>;
  now(token: string): Authorization | Promise<Authorization>;
}

/**
 * The whole decision for a bearer token, framework-free: verify the JWT, then check server-side state —
 * with `requireSession` the login that issued it must be alive, otherwise the token must not be revoked —
 * then the allowlist, re-applied on every request.
 */
export function createAuthorizer(deps: AuthorizeDeps): Authorizer {
  const { config, store } = deps;
  // Resolved once (after discovery succeeds), not on every request.
  let ready: TokenVerifier | undefined;

  /** The server-side state of a verified token, as the store answers without waiting; undefined: not known. */
  function stateNow(token: VerifiedToken): Authorization | undefined {
    let session: Session | null | undefined;
    let revoked: boolean | undefined;
    try {
      if (config.requireSession) session = store.peekByToken?.(token.key);
      else revoked = store.peekRevoked?.(token.key);
    } catch (error) {
      throw storeFault(error);
    }
    if (session === undefined && revoked === undefined) return undefined;
    return decided(token, session ?? undefined, revoked === true);
  }

  async function stateLater(token: VerifiedToken): Promise<Authorization> {
    let session: Session | undefined;
    let revoked = false;
    try {
      if (config.requireSession) session = await store.getByToken(token.key);
      else revoked = await store.isRevoked(token.key);
    } catch (error) {
      throw storeFault(error);
    }
    return decided(token, session, revoked);
  }

  function decided(token: VerifiedToken, session: Session | undefined, revoked: boolean): Authorization {
    let profile: Profile;
    if (config.requireSession) {
      if (session === undefined) throw invalidToken('The login that issued this token has ended (logged out or expired). Please log in again.');
      profile = profileFromSession(session, token.claims.exp);
    } else {
      if (revoked) throw invalidToken('This token has been revoked (the user logged out). Please log in again.');
      profile = profileFromClaims(token.claims, config.emailClaim);
    }
    if (!isAllowed(config.allowlist, profile.email, profile.email_verified)) {
      throw accessDenied(
        profile.email === undefined
          ? 'The token carries no e-mail address, and only listed addresses are allowed.'
          : `The address ${profile.email} is not allowed to use this API.`,
      );
    }
    return { token, profile, session };
  }

  async function later(rawToken: string): Promise<Authorization> {
    const verify = ready ?? (ready = await deps.verifier());
    const token = await verify(rawToken);
    return stateNow(token) ?? stateLater(token);
  }

  function now(rawToken: string): Authorization | Promise<Authorization> {
    const known = ready?.peek?.(rawToken);
    if (known === undefined) return later(rawToken);
    return stateNow(known) ?? stateLater(known);
  }

  const authorize = async (rawToken: string): Promise<Authorization> => now(rawToken);
  return Object.assign(authorize, { now });
}

/** A store that cannot answer is 503; its own KeygateErrors pass as they are. */
function storeFault(error: unknown): KeygateError {
  return error instanceof KeygateError ? error : new UnavailableError('The session store cannot be reached.', error);
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
