import { UnavailableError, KeygateError } from '../errors.js';
import { compilePolicy, type CompiledPolicy, type RoutePolicy } from '../policy/route.js';
import { grantedPermissions } from '../policy/permissions.js';
import { MemoryStore } from '../session/memory.js';
import type { Session, SessionStore } from '../session/store.js';
import { createAuthorizer, type Authorization, type Profile } from '../token/authorize.js';
import { bearerOf, hasCredentials, type AuthRequest } from '../token/bearer.js';

export type { AuthRequest };
import { grantedScopes, type TokenVerifier, type VerifiedToken } from '../token/verifier.js';
import { issuerClient, type IssuerClient } from './issuer.js';
import { resolveOptions, type KeygateOptions, type ResolvedKeygateOptions } from './options.js';

/** The Keygate login behind a token, without its secrets (no session id, which is a cookie, and no tokens). */
export interface SessionInfo {
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** Milliseconds since the epoch: the login ends with its API token. */
  expiresAt: number;
  tokenKind: 'id_token' | 'access_token';
}

/**
 * What a protected route knows about its caller (`request.auth` / `req.auth`). Safe to log or answer: it holds no
 * raw token, no session id and no refresh token.
 */
export interface KeygateAuth {
  profile: Profile;
  /** The verified token: its canonical `key` (a hash), protected `header` and `claims`. */
  token: VerifiedToken;
  /** Scopes granted by the token (`scope` and `scp`). */
  scopes: readonly string[];
  /** Auth0 RBAC permissions of the token (`permissions`). */
  permissions: readonly string[];
  /** With `requireSession`: the live login that issued the token; otherwise undefined. */
  session: SessionInfo | undefined;
}

/** What a logout through a bearer token did. */
export interface LogoutResult {
  /** True when a live login ended or a valid token was newly revoked. */
  ended: boolean;
  sub: string;
  /** The login that issued the token, when one did (it has now ended). */
  session: Session | undefined;
}

export interface Keygate {
  readonly options: ResolvedKeygateOptions;
  readonly store: SessionStore;
  /** Validates a route policy once; pass the result (or a plain policy) to `authenticate`/`authorize`. */
  policy(policy?: RoutePolicy): CompiledPolicy;
  /** Finds the bearer token of a request (Authorization header only) and authorizes it. */
  authenticate(request: AuthRequest, policy?: CompiledPolicy): Promise<KeygateAuth>;
  /**
   * `authenticate` for a route that may be anonymous: resolves undefined for a request without any credentials when
   * the policy says `authRequired: false`; any credentials sent are checked exactly as `authenticate` checks them.
   */
  authenticateOptional(request: AuthRequest, policy?: CompiledPolicy): Promise<KeygateAuth | undefined>;
  /** Verifies the token, checks the store (revocation or live session) and the allowlist, then the route policy. */
  authorize(token: string, policy?: CompiledPolicy): Promise<KeygateAuth>;
  /**
   * `authorize` for a hot path, with the same answers: a value at once when everything is at hand (the token verified
   * before, the store able to answer without waiting: memory, or Redis's local cache), else a promise. It may throw
   * instead of rejecting.
   */
  authorizeNow(token: string, policy?: CompiledPolicy): KeygateAuth | Promise<KeygateAuth>;
  /** Verifies the token only (signature and claims), with the same answers as `authorize`; no store, no policy. */
  verify(token: string): Promise<VerifiedToken>;
  /**
   * Ends the login that issued a valid token (and so every use of its tokens), or revokes the token itself when no
   * login holds it. A bad token is refused exactly as `authorize` refuses it.
   */
  logout(token: string): Promise<LogoutResult>;
  /** The verifier of this instance's issuer, after discovery (shared with every instance of the same issuer). */
  verifier(): Promise<TokenVerifier>;
  /** The provider as every door of this issuer sees it: one discovery, one key set. */
  readonly issuer: IssuerClient;
  /** Closes the store when this instance created it; a store passed in is left to its owner. */
  close(): Promise<void>;
}

const EMPTY = compilePolicy({});

/**
 * `KeygateAuth` as `authorize` builds it on every request: scopes and permissions are read from the claims when first
 * asked (most routes never ask), then kept. They are getters of the class, so `toJSON` lists them for logs and
 * answers; a spread copy (`{ ...auth }`) has profile, token and session only.
 */
class Auth implements KeygateAuth {
  #scopes: readonly string[] | undefined;
  #permissions: readonly string[] | undefined;

  constructor(
    readonly profile: Profile,
    readonly token: VerifiedToken,
    readonly session: SessionInfo | undefined,
  ) {}

  get scopes(): readonly string[] {
    return (this.#scopes ??= [...grantedScopes(this.token.claims)]);
  }

  get permissions(): readonly string[] {
    return (this.#permissions ??= [...grantedPermissions(this.token.claims)]);
  }

  toJSON(): KeygateAuth {
    return { profile: this.profile, token: this.token, scopes: this.scopes, permissions: this.permissions, session: this.session };
  }
}

/** The route policy over an authorized token, and what the route gets to know. */
function admit({ token, profile, session }: Authorization, policy: CompiledPolicy): KeygateAuth {
  policy.check({ claims: token.claims, profile });
  return new Auth(profile, token, session && { createdAt: session.createdAt, expiresAt: session.expiresAt, tokenKind: session.tokenKind });
}

/**
 * Creates a verifier/authorizer for your own API from plain options, validated now (every problem at once).
 * Discovery is lazy (first request) and the provider's key set is shared per issuer across instances.
 */
export function createKeygate(input: KeygateOptions): Keygate {
  const options = resolveOptions(input);
  const ownStore = options.store === undefined;
  const store = options.store ?? new MemoryStore({ maxEntries: 100_000, ...(options.now ? { now: options.now } : {}) });
  const issuer = issuerClient(options);
  const verifier = () => issuer.verifierFor(options);
  const authorizeToken = createAuthorizer({
    config: { requireSession: options.requireSession, allowlist: options.allowlist, emailClaim: options.emailClaim },
    store,
    verifier,
  });

  function authorizeNow(token: string, policy: CompiledPolicy = EMPTY): KeygateAuth | Promise<KeygateAuth> {
    const authorization = authorizeToken.now(token);
    return authorization instanceof Promise ? authorization.then((known) => admit(known, policy)) : admit(authorization, policy);
  }

  async function authorize(token: string, policy?: CompiledPolicy): Promise<KeygateAuth> {
    return authorizeNow(token, policy);
  }

  function authenticate(request: AuthRequest, policy?: CompiledPolicy): Promise<KeygateAuth> {
    try {
      return authorize(bearerOf(request), policy);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  return Object.freeze({
    options,
    store,
    policy: (policy?: RoutePolicy) => compilePolicy(policy),
    authenticate,
    authenticateOptional(request: AuthRequest, policy: CompiledPolicy = EMPTY) {
      if (!policy.authRequired && !hasCredentials(request)) return Promise.resolve(undefined);
      return authenticate(request, policy);
    },
    authorize,
    authorizeNow,
    async verify(token: string) {
      return (await verifier())(token);
    },
    async logout(token: string): Promise<LogoutResult> {
      const verified = await (await verifier())(token);
      try {
        const session = await store.getByToken(verified.key);
        if (session !== undefined) return { ended: await store.delete(session.id), sub: session.sub, session };
        // A valid token that no login holds (REQUIRE_SESSION=false accepts those): revoke the token itself.
        const ended = !(await store.isRevoked(verified.key));
        await store.revokeToken(verified.key, verified.claims.exp * 1000);
        return { ended, sub: verified.claims.sub, session: undefined };
      } catch (error) {
        if (error instanceof KeygateError) throw error;
        throw new UnavailableError('The session store cannot be reached.', error);
      }
    },
    verifier,
    issuer,
    async close() {
      if (ownStore) await store.close();
    },
  });
}
