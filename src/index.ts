/**
 * `keygate`: the framework-free core — verification, the store check, policies, errors, the store interface and
 * the memory store. It loads no web server, logger, metrics, Redis client or OpenID Provider: those live in
 * `keygate/server`, `keygate/redis`, `keygate/fastify` and `keygate/express`.
 */
export { createKeygate, type Keygate, type KeygateAuth, type SessionInfo, type AuthRequest, type LogoutResult } from './keygate/create.js';
export { resolveOptions, type KeygateOptions, type ResolvedKeygateOptions } from './keygate/options.js';
export type { Allowlist } from './keygate/validate.js';
export { compilePolicy, type RoutePolicy, type CompiledPolicy } from './policy/route.js';
export type { ClaimRule } from './policy/claims.js';
export type { PolicySubject } from './policy/types.js';
export { isAllowed } from './policy/allowlist.js';
export {
  ERROR_CODES,
  errorAnswer,
  bearerChallenge,
  KeygateError,
  BearerError,
  UnavailableError,
  LoginError,
  ProviderError,
  RateLimitedError,
  RefreshRejectedError,
  ProblemsError,
  ConfigError,
  KeygateOptionsError,
  PolicyError,
  type ErrorCode,
  type ErrorAnswer,
  type KeygateErrorOptions,
} from './errors.js';
export { extractBearer, bearerOf, carriesToken, hasCredentials, type BearerRequest } from './token/bearer.js';
export { createTokenVerifier, tokenKey, assertCanonical, type TokenVerifier, type TokenVerifierOptions, type VerifiedToken } from './token/verifier.js';
export { createAuthorizer, type Authorization, type AuthorizeDeps, type Profile } from './token/authorize.js';
export type { Session, SessionPage, SessionQuery, SessionStore, TokenRotation } from './session/store.js';
export { publicSessionId } from './session/public-id.js';
export { MAX_PAGE_LIMIT } from './session/cursor.js';
export { MemoryStore, type MemoryStoreOptions } from './session/memory.js';
