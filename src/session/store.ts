/** A login that is alive on the server. The session cookie holds only its opaque `id`. */
export interface Session {
  /** Opaque random id (the session cookie's value). */
  id: string;
  sub: string;
  email?: string;
  emailVerified?: boolean;
  name?: string;
  picture?: string;
  /** The API token shown on the key page (ID token, or access token when AUDIENCE is set). */
  apiToken: string;
  tokenKind: 'id_token' | 'access_token';
  /** Canonical key of the API token (see token/verifier.ts `tokenKey`). */
  tokenKey: string;
  /** ID token, for the logout hint; omitted when it is the API token itself. */
  idToken?: string;
  /** Refresh token (REFRESH=true or `offline_access`); shared stores keep it encrypted. */
  refreshToken?: string;
  /** The provider's session id (`sid` claim of the ID token), for back-channel logout. */
  providerSid?: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch: the API token's expiry; the session ends with it. */
  expiresAt: number;
  /** The browser's `User-Agent` at login, cut to a bounded length (shown to the user, never trusted). */
  userAgent?: string;
  /** The client's address at login, as the server saw it (after TRUST_PROXY). */
  clientAddress?: string;
  /** Milliseconds since the epoch: when the session was last seen in use (see `SessionStore.touch`). */
  lastUsedAt?: number;
}

/** The new tokens of a session after a refresh (see `SessionStore.rotate`). */
export interface TokenRotation {
  apiToken: string;
  tokenKey: string;
  idToken?: string;
  refreshToken?: string;
  /** Milliseconds since the epoch: the new API token's expiry, and so the session's. */
  expiresAt: number;
}

/** One page of a listing (`SessionStore.listPage`). */
export interface SessionPage {
  sessions: Session[];
  /** Opaque; pass it back for the next page. Absent on the last page. */
  cursor?: string;
}

/** Which sessions `listPage` walks: all of one subject, or every live session of the store. */
export interface SessionQuery {
  /** Only this subject's sessions; every session when absent. */
  sub?: string;
  /** Most sessions in the page: an integer from 1 to `MAX_PAGE_LIMIT`. */
  limit: number;
  /** A cursor from the previous page; a malformed one rejects with `invalid_request`. */
  cursor?: string;
}

/**
 * Server-side state about logins. Every implementation passes `test/session/contract.ts`.
 * Failures to reach a shared store reject with `UnavailableError`.
 */
export interface SessionStore {
  /** Registers a live session and the token it issued, until `expiresAt`. */
  create(session: Session): Promise<void>;
  get(id: string): Promise<Session | undefined>;
  /** The live session that issued the token with this key. */
  getByToken(tokenKey: string): Promise<Session | undefined>;
  /** Ends a session and revokes its token until the token expires. True when the session was alive. */
  delete(id: string): Promise<boolean>;
  /** Revokes one token until `expiresAt` (ms), whether or not a session holds it. */
  revokeToken(tokenKey: string, expiresAt: number): Promise<void>;
  isRevoked(tokenKey: string): Promise<boolean>;
  /**
   * Optional, for the hot path: what `getByToken` would resolve to, when this store knows it without waiting (the
   * memory store always; Redis from its local cache while the invalidation channel is live): the session, or null
   * for none. Undefined: not known here, ask `getByToken`. Never an answer `getByToken` would not give.
   */
  peekByToken?(tokenKey: string): Session | null | undefined;
  /** Optional, as `peekByToken`: what `isRevoked` would resolve to when known without waiting; undefined: ask it. */
  peekRevoked?(tokenKey: string): boolean | undefined;
  /**
   * Records that the session was used at `at` (ms): `lastUsedAt` only moves forward, and the expiry is unchanged.
   * A session that is gone is left alone. Callers limit how often they write (at most once a minute per session).
   */
  touch(id: string, at: number): Promise<void>;
  /** The live session whose public id (`publicSessionId`) is this, if any. */
  getByPublicId(publicId: string): Promise<Session | undefined>;
  /**
   * One page of live sessions, ordered by expiry then public id, so that a cursor stays valid while sessions come
   * and go: a session alive for the whole walk is listed exactly once.
   */
  listPage(query: SessionQuery): Promise<SessionPage>;
  /** Live sessions of one subject (log out everywhere; back-channel logout by `sub`). */
  listBySubject(sub: string): Promise<Session[]>;
  /** Live sessions opened under one provider session (back-channel logout by `sid`). */
  listByProviderSid(providerSid: string): Promise<Session[]>;
  /**
   * Gives a live session its refreshed tokens: the new token finds the session, the old one is revoked until
   * its own expiry. Resolves to the updated session, or undefined (and changes nothing) when the session is gone.
   */
  rotate(id: string, next: TokenRotation): Promise<Session | undefined>;
  /**
   * Runs `fn` while holding the exclusive lock `name`, shared by every instance using this store; the lock is
   * released when `fn` settles, or lapses after `ttlMs` if the holder dies. Waits at most `ttlMs` for it, then
   * rejects with `UnavailableError`.
   */
  withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<T>;
  /** Resolves when the store can serve requests. */
  ping(): Promise<void>;
  /** Counts, for health and tests. */
  stats(): Promise<{ sessions: number; revoked: number }>;
  /**
   * Counts one hit of `key` in a fixed window of `windowMs` shared by every instance on this store (the rate limits),
   * resolving to the count so far in the window and the milliseconds until it ends. Absent on a store that one
   * process owns (memory): the limits then count per process.
   */
  countHit?(limit: string, key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  close(): Promise<void>;
}
