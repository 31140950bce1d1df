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
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch: the API token's expiry; the session ends with it. */
  expiresAt: number;
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
  /** Resolves when the store can serve requests. */
  ping(): Promise<void>;
  /** Counts, for health and tests. */
  stats(): Promise<{ sessions: number; revoked: number }>;
  close(): Promise<void>;
}
