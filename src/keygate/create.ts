import { KeygateError } from '../errors.js';
import { compilePolicy, type CompiledPolicy, type RoutePolicy } from '../policy/route.js';
import { grantedPermissions } from '../policy/permissions.js';
import { MemoryStore } from '../session/memory.js';
import type { SessionStore } from '../session/store.js';
import { createAuthorizer, type Profile } from '../token/authorize.js';
import { carriesToken, extractBearer } from '../token/bearer.js';
import { grantedScopes, type TokenVerifier, type VerifiedToken } from '../token/verifier.js';
import { issuerEntry } from './issuers.js';
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

/** The parts of an HTTP request that decide where its token is: raw headers, parsed query and body. */
export interface AuthRequest {
  rawHeaders: readonly string[];
  query?: unknown;
  body?: unknown;
}

/** The answer for a refused request, the same in every adapter: status, headers, RFC 6750 JSON body. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

export interface Keygate {
  readonly options: ResolvedKeygateOptions;
  readonly store: SessionStore;
  /** Validates a route policy once; pass the result (or a plain policy) to `authenticate`/`authorize`. */
  policy(policy?: RoutePolicy): CompiledPolicy;
  /** Finds the bearer token of a request (Authorization header only) and authorizes it. */
  authenticate(request: AuthRequest, policy?: CompiledPolicy): Promise<KeygateAuth>;
  /** Verifies the token, checks the store (revocation or live session) and the allowlist, then the route policy. */
  authorize(token: string, policy?: CompiledPolicy): Promise<KeygateAuth>;
  /** The verifier of this instance's issuer, after discovery (shared with every instance of the same issuer). */
  verifier(): Promise<TokenVerifier>;
  /** Closes the store when this instance created it; a store passed in is left to its owner. */
  close(): Promise<void>;
}

/** Turns a KeygateError into the answer every adapter sends; anything else is not an answer (the caller rethrows). */
export function errorAnswer(error: KeygateError): ErrorAnswer {
  return {
    status: error.status,
    headers: { ...error.headers, 'cache-control': 'no-store' },
    body: { error: error.code, error_description: error.expose ? error.description : 'Internal error.' },
  };
}

const EMPTY = compilePolicy({});

/**
 * Creates a verifier/authorizer for your own API from plain options, validated now (every problem at once).
 * Discovery is lazy (first request) and the provider's key set is shared per issuer across instances.
 */
export function createKeygate(input: KeygateOptions): Keygate {
  const options = resolveOptions(input);
  const ownStore = options.store === undefined;
  const store = options.store ?? new MemoryStore({ maxEntries: 100_000, ...(options.now ? { now: options.now } : {}) });
  const entry = issuerEntry(options);
  const verifier = () => entry.verifierFor(options);
  const authorizeToken = createAuthorizer({
    config: { requireSession: options.requireSession, allowlist: options.allowlist, emailClaim: options.emailClaim },
    store,
    verifier,
  });

  async function authorize(token: string, policy: CompiledPolicy = EMPTY): Promise<KeygateAuth> {
    const { token: verified, profile, session } = await authorizeToken(token);
    const { claims } = verified;
    policy.check({ claims, profile });
    return {
      profile,
      token: verified,
      scopes: [...grantedScopes(claims)],
      permissions: [...grantedPermissions(claims)],
      session: session && { createdAt: session.createdAt, expiresAt: session.expiresAt, tokenKind: session.tokenKind },
    };
  }

  return Object.freeze({
    options,
    store,
    policy: (policy?: RoutePolicy) => compilePolicy(policy),
    authenticate(request: AuthRequest, policy?: CompiledPolicy) {
      try {
        const token = extractBearer({ rawHeaders: request.rawHeaders, queryHasToken: carriesToken(request.query), bodyHasToken: carriesToken(request.body) });
        return authorize(token, policy);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    authorize,
    verifier,
    async close() {
      if (ownStore) await store.close();
    },
  });
}
