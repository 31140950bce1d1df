/** The server's validated, frozen configuration. Only `src/config/` reads the environment to build it. */
import type { Allowlist } from '../keygate/validate.js';
import type { RedisConnectionOptions, RedisNode } from '../session/redis-connect.js';
import type { RouteRule } from '../edge/rules.js';

export interface DevUser {
  email: string;
  password: string;
  name: string;
  /** Auth0-style `permissions` claim of this user's access tokens (development provider, with AUDIENCE). */
  permissions?: readonly string[];
  /** False: the provider says this address is not verified (`email_verified: false`); verified otherwise. */
  emailVerified?: boolean;
}

export type { Allowlist };

/** At most `max` requests per `windowMs` from one client address. */
export interface RateLimit {
  max: number;
  windowMs: number;
}

/** A service allowed to call `POST /introspect` (HTTP Basic, RFC 7662 §2.1). */
export interface IntrospectionClient {
  id: string;
  secret: string;
}

/** Where and how the Redis store connects (`REDIS_URL`, `REDIS_CLUSTER_NODES`, `REDIS_SENTINELS`, …), and its key prefix (`REDIS_PREFIX`). */
export type RedisSettings = RedisConnectionOptions & { prefix: string; timeoutMs: number };
export type { RedisNode };

export interface ServerConfig {
  /** `dev`: embedded development provider; `provider`: a real OpenID Provider (Auth0 or any issuer). */
  mode: 'dev' | 'provider';
  /** The issuer URL used for discovery (exact `iss` comes from the discovered metadata). */
  issuerUrl: string;
  /** True when configured through `AUTH_HOST` (Auth0 logout fallback, `audience` parameter). */
  auth0: boolean;
  clientId: string;
  clientSecret: string;
  /** API identifier: when set, the API token is the access token for this audience; else the ID token. */
  audience: string | undefined;
  scope: string;
  /** Scopes a token must carry at `/protected` (empty: none). */
  requiredScopes: readonly string[];
  allowlist: Allowlist | undefined;
  /** Keys for cookies and sealed values; the first signs, all verify. */
  secretKeys: readonly string[];
  debug: boolean;
  host: string;
  port: number;
  baseUrl: URL;
  /** Whether Keygate is served over https (Secure cookies, `__Host-` prefix). */
  secure: boolean;
  redisUrl: string | undefined;
  requireSession: boolean;
  /** `*` or an exact list of origins. */
  corsOrigins: '*' | readonly string[];
  /** JWS algorithms accepted for API tokens. HS* only when configured explicitly. */
  algorithms: readonly string[];
  /** Longest accepted `exp - iat`, in seconds. */
  maxTokenLifetime: number;
  /** Clock skew tolerated on `exp`/`nbf`/`iat`, in seconds (at most 60). */
  clockTolerance: number;
  /** Claim that holds the e-mail in API tokens (Auth0 access tokens use a namespaced claim). */
  emailClaim: string;
  /** Timeout of every call to the provider, in milliseconds. */
  providerTimeoutMs: number;
  /** Upper bound of live sessions kept by the memory store. */
  sessionMaxEntries: number;
  /** Demo users of the embedded provider (dev mode only). */
  devUsers: readonly DevUser[];
  logLevel: string;
  /** `LOG_FORMAT`: `pretty` (human lines), `json` (one JSON object a line), or `auto`: pretty on a terminal, JSON otherwise. */
  logFormat: 'auto' | 'pretty' | 'json';

  // Refresh tokens.
  /** Keep the refresh token and renew the API token through `POST /refresh` (REFRESH, or `offline_access` in SCOPE). */
  refresh: boolean;
  /** The key page renews the API token this many seconds before it expires. */
  refreshBeforeSeconds: number;

  // The Redis store.
  /** Set when REDIS_URL, REDIS_CLUSTER_NODES or REDIS_SENTINELS is: the shared Redis store; unset: the memory store. */
  redis: RedisSettings | undefined;

  // Rate limits per client address; undefined = off.
  /** `GET /login` per client address (`RATE_LIMIT_LOGIN`). */
  rateLimitLogin: RateLimit | undefined;
  /** `GET /callback` per client address (`RATE_LIMIT_CALLBACK`). */
  rateLimitCallback: RateLimit | undefined;
  /** Failed bearer attempts (400/401) at `/protected` per client address (`RATE_LIMIT_BEARER_FAILURES`). */
  rateLimitBearerFailures: RateLimit | undefined;
  /** Fastify's `trustProxy`: whether and which proxies' X-Forwarded-For names the client address (`TRUST_PROXY`). */
  trustProxy: boolean | number | readonly string[];

  // The verified-token cache.
  /** Most verified tokens kept in memory (LRU); 0 disables the cache. The session/revocation check runs regardless. */
  tokenCacheSize: number;

  // Token introspection (docs/introspection-audit.md).
  /** `INTROSPECTION_CLIENTS`: who may call `POST /introspect`; empty: the route does not exist. */
  introspectionClients: readonly IntrospectionClient[];
  /** `POST /introspect` per authenticated client (`RATE_LIMIT_INTROSPECTION`). */
  rateLimitIntrospection: RateLimit | undefined;
  /** `INTROSPECTION_CACHE_SECONDS`: how long a caller may cache an active answer (0: `no-store`, the default). */
  introspectionCacheSeconds: number;

  // The edge (docs/edge.md).
  /** `ROUTES`: route rules of `/auth` and the proxy, first match wins (empty: any logged-in user everywhere). */
  routes: readonly RouteRule[];
  /** `ALLOWED_REDIRECT_HOSTS`: `host` or `host:port` entries an absolute login `returnTo` may lead to. */
  allowedRedirectHosts: readonly string[];
  /** `COOKIE_DOMAIN`: the session cookie's `Domain`, shared with sibling hosts; undefined: a host-only cookie. */
  cookieDomain: string | undefined;

  // Metrics.
  /** `METRICS_ADDRESS`: a separate listener for `GET /metrics` (not served on the public port then); undefined: the public port. */
  metricsAddress: { host: string; port: number } | undefined;
  // Reverse-proxy mode (docs/edge.md "Reverse-proxy mode").
  /** `UPSTREAM`: the origin every request outside Keygate's own routes is proxied to; undefined: no proxy. */
  upstream: URL | undefined;
  /** `UPSTREAM_TIMEOUT_MS`: longest wait for the upstream's answer (and between its body's chunks). */
  upstreamTimeoutMs: number;
  // Sessions you can see and end (docs/sessions.md).
  /** `TRACK_LAST_USED`: record each session's last use (at most one store write a minute per session). */
  trackLastUsed: boolean;
  /** `ADMIN_USERS`: lower-case e-mails and `@domain` entries whose verified e-mail makes an administrator. */
  adminUsers: readonly string[];
  /** `ADMIN_SCOPE`: a scope or Auth0 permission that makes an API token's holder an administrator. */
  adminScope: string | undefined;
}

/** The former name of `ServerConfig`. */
export type KeygateConfig = ServerConfig;
