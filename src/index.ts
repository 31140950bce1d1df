/** Keygate's framework-free core: configuration, token verification, server-side sessions, errors. */
export { loadConfig, ConfigError, type KeygateConfig, type Allowlist, type DevUser, type Env } from './config/index.js';
export {
  KeygateError,
  BearerError,
  UnavailableError,
  LoginError,
  ProviderError,
  bearerChallenge,
} from './errors.js';
export { extractBearer, type BearerRequest } from './token/bearer.js';
export { createTokenVerifier, tokenKey, assertCanonical, type TokenVerifier, type TokenVerifierOptions, type VerifiedToken } from './token/verifier.js';
export { createAuthorizer, type Authorization, type AuthorizeDeps, type Profile } from './token/authorize.js';
export { isAllowed } from './policy/allowlist.js';
export type { Session, SessionStore } from './session/store.js';
export { MemoryStore, type MemoryStoreOptions } from './session/memory.js';
export { RedisStore, type RedisStoreOptions, type RedisClient } from './session/redis.js';
export { createRedisClient } from './session/redis-connect.js';
export { OidcProvider, type OidcDeps } from './oidc/provider.js';
export { buildApp, type AppDeps } from './http/app.js';
export { startKeygate, createStore, type RunningKeygate, type StartOptions } from './server.js';
