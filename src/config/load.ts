import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { parseRedisSettings } from './redis.js';
import type { Allowlist, DevUser, KeygateConfig, RateLimit } from './types.js';

/** Every problem found in the environment, reported at once, each naming its variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_DEV_USERS: readonly DevUser[] = [
  { email: 'alice@example.com', password: 'alice', name: 'Alice Example' },
  { email: 'bob@example.com', password: 'bob', name: 'Bob Example' },
];
const HMAC_ALGORITHMS = new Set(['HS256', 'HS384', 'HS512']);
const ASYMMETRIC_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);
const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Reads and validates the configuration from an environment object (normally `process.env`).
 * Throws a ConfigError listing every problem; returns a frozen object otherwise.
 */
export function loadConfig(env: Env): KeygateConfig {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const value = read(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    problems.push(`${name}: expected true or false, got "${env[name]}"`);
    return fallback;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const value = read(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      problems.push(`${name}: expected a whole number from ${min} to ${max}, got "${value}"`);
      return fallback;
    }
    return n;
  };

  const authHost = read('AUTH_HOST');
  const issuerSetting = read('ISSUER_URL');
  const clientIdSetting = read('CLIENT_ID');
  const clientSecretSetting = read('CLIENT_SECRET');
  const mode: KeygateConfig['mode'] = authHost || issuerSetting || clientIdSetting ? 'provider' : 'dev';

  const host = read('HOST') ?? 'localhost';
  const port = int('PORT', 5000, 0, 65535);
  const debug = bool('DEBUG', mode === 'dev');

  // HOST: a host name, an IPv4 address or an IPv6 address (optionally in brackets); nothing else.
  const hostForUrl = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const hostOk =
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(host) ||
    (/^\[?[0-9a-f:.]+\]?$/i.test(host) && parseUrl(`http://${hostForUrl}/`) !== undefined);
  if (!hostOk) problems.push(`HOST: expected a host name or IP address, got "${host}"`);
  let baseUrl = new URL(hostOk ? `http://${hostForUrl}:${port}` : `http://localhost:${port}`);

  // BASE_URL: the public URL (callback, cookies). Defaults to http://HOST:PORT.
  const baseSetting = read('BASE_URL');
  if (baseSetting !== undefined) {
    const parsed = parseUrl(baseSetting);
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      problems.push(`BASE_URL: expected an absolute http(s) URL, got "${baseSetting}"`);
    } else if (parsed.search || parsed.hash || parsed.username || parsed.password) {
      problems.push('BASE_URL: must not carry a query, fragment or credentials');
    } else if (parsed.pathname !== '/') {
      problems.push(`BASE_URL: Keygate must be served at the root of its origin; a path ("${parsed.pathname}") is not supported`);
    } else if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname) && mode === 'provider') {
      problems.push(`BASE_URL: plain http is only allowed for loopback hosts; use https for "${parsed.host}"`);
    } else {
      baseUrl = new URL(parsed.origin);
    }
  } else if (mode === 'provider' && hostOk && !isLoopbackHost(host)) {
    problems.push(`BASE_URL: required (an https URL) when HOST "${host}" is not a loopback address, so that cookies are Secure and the callback URL is right`);
  }
  const secure = baseUrl.protocol === 'https:';

  // The provider.
  let issuerUrl = '';
  let auth0 = false;
  if (issuerSetting !== undefined) {
    const parsed = parseUrl(issuerSetting);
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
      problems.push(`ISSUER_URL: expected an absolute https URL, got "${issuerSetting}"`);
    } else if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
      problems.push(`ISSUER_URL: plain http is only allowed for loopback hosts; use https for "${parsed.host}"`);
    } else if (parsed.search || parsed.hash || parsed.username || parsed.password) {
      problems.push('ISSUER_URL: must not carry a query, fragment or credentials');
    } else {
      issuerUrl = parsed.href;
      auth0 = /\.auth0\.com$/i.test(parsed.hostname);
    }
  } else if (authHost !== undefined) {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/i.test(authHost)) {
      problems.push(`AUTH_HOST: expected a host name such as example.eu.auth0.com (no scheme, no path), got "${authHost}"`);
    } else {
      issuerUrl = `https://${authHost.toLowerCase()}/`;
      auth0 = true;
    }
  } else if (mode === 'provider') {
    problems.push('AUTH_HOST or ISSUER_URL: one is required when CLIENT_ID is set (or unset all three for the development provider)');
  }
  if (mode === 'dev') issuerUrl = `${baseUrl.href.replace(/\/$/, '')}/idp`;

  let clientId = clientIdSetting ?? 'keygate-dev';
  let clientSecret = clientSecretSetting ?? 'keygate-dev-secret-not-for-production';
  if (mode === 'provider') {
    if (clientIdSetting === undefined) problems.push('CLIENT_ID: required with AUTH_HOST or ISSUER_URL');
    if (clientSecretSetting === undefined) problems.push('CLIENT_SECRET: required with AUTH_HOST or ISSUER_URL');
    clientId = clientIdSetting ?? '';
    clientSecret = clientSecretSetting ?? '';
  }

  // AUDIENCE: absent means the API token is the ID token.
  const audienceSetting = env.AUDIENCE;
  let audience: string | undefined;
  if (audienceSetting !== undefined && audienceSetting.trim() === '' && audienceSetting !== '') {
    problems.push('AUDIENCE: set but blank; unset it to use the ID token, or give the API identifier');
  } else if (audienceSetting !== undefined && audienceSetting !== '') {
    audience = audienceSetting.trim();
    if (/\s/.test(audience)) problems.push(`AUDIENCE: must be one identifier without spaces, got "${audience}"`);
    else if (mode === 'dev' && !parseUrl(audience)) problems.push(`AUDIENCE: the development provider needs an absolute URI, got "${audience}"`);
  }

  let scope = read('SCOPE') ?? 'openid email';
  if (!scope.split(/\s+/).includes('openid')) problems.push(`SCOPE: must include "openid", got "${scope}"`);
  // REFRESH: keep a refresh token and renew the API token before it expires; it needs `offline_access` (Auth0).
  const refresh = bool('REFRESH', scope.split(/\s+/).includes('offline_access'));
  if (refresh && !scope.split(/\s+/).includes('offline_access')) scope = `${scope} offline_access`;
  const refreshBeforeSeconds = int('REFRESH_BEFORE_SECONDS', 60, 5, 3600);
  const requiredScopes = (read('REQUIRED_SCOPES') ?? '').split(/[\s,]+/).filter(Boolean);
  if (requiredScopes.length > 0 && audience === undefined) {
    problems.push('REQUIRED_SCOPES: only applies to access tokens; set AUDIENCE too');
  }

  const allowlist = parseAllowlist(read('ALLOWED_USERS') ?? read('USERS'), read('ALLOWED_USERS') ? 'ALLOWED_USERS' : 'USERS', problems);

  // SECRET_KEY: required outside dev mode, at least 32 characters each.
  const secretSetting = read('SECRET_KEY');
  let secretKeys: string[];
  if (secretSetting === undefined) {
    if (mode === 'provider') problems.push('SECRET_KEY: required outside the development mode (at least 32 random characters; comma list to rotate)');
    secretKeys = [randomBytes(32).toString('base64url')];
  } else {
    secretKeys = secretSetting.split(',').map((s) => s.trim()).filter(Boolean);
    if (secretKeys.length === 0) problems.push('SECRET_KEY: no key in the list');
    for (const [i, key] of secretKeys.entries()) {
      if (key.length < 32) problems.push(`SECRET_KEY: key #${i + 1} is ${key.length} characters long; at least 32 are needed`);
    }
  }

  const redisUrl = read('REDIS_URL');
  const redis = parseRedisSettings(read, problems);

  const corsSetting = read('CORS_ORIGINS');
  let corsOrigins: KeygateConfig['corsOrigins'] = '*';
  if (corsSetting !== undefined && corsSetting !== '*') {
    const origins: string[] = [];
    for (const entry of corsSetting.split(',').map((s) => s.trim()).filter(Boolean)) {
      const parsed = parseUrl(entry);
      if (!parsed || parsed.origin === 'null' || parsed.origin !== entry.replace(/\/$/, '')) {
        problems.push(`CORS_ORIGINS: "${entry}" is not an origin (scheme://host[:port])`);
      } else origins.push(parsed.origin);
    }
    corsOrigins = origins;
  }

  const algorithms = (read('TOKEN_ALGORITHMS') ?? 'RS256').split(/[\s,]+/).filter(Boolean);
  for (const alg of algorithms) {
    if (HMAC_ALGORITHMS.has(alg)) {
      if (clientSecret.length < 32) problems.push(`TOKEN_ALGORITHMS: ${alg} verifies with CLIENT_SECRET, which must then be at least 32 characters`);
    } else if (!ASYMMETRIC_ALGORITHMS.has(alg)) {
      problems.push(`TOKEN_ALGORITHMS: "${alg}" is not a supported JWS algorithm (none is never accepted)`);
    }
  }
  if (algorithms.length === 0) problems.push('TOKEN_ALGORITHMS: empty');

  const maxTokenLifetime = int('MAX_TOKEN_LIFETIME', 86_400, 60, 30 * 86_400);
  const clockTolerance = int('CLOCK_TOLERANCE', 30, 0, 60);
  const emailClaim = read('EMAIL_CLAIM') ?? 'email';
  const providerTimeoutMs = int('PROVIDER_TIMEOUT_MS', 10_000, 100, 10_000);
  const sessionMaxEntries = int('SESSION_MAX_ENTRIES', 100_000, 1, 10_000_000);
  const requireSession = bool('REQUIRE_SESSION', true);
  const tokenCacheSize = int('TOKEN_CACHE_SIZE', 10_000, 0, 10_000_000);

  let devUsers = DEFAULT_DEV_USERS;
  const devUsersSetting = read('DEV_USERS');
  if (devUsersSetting !== undefined) {
    if (mode !== 'dev') problems.push('DEV_USERS: only used by the development provider; unset it with AUTH_HOST/ISSUER_URL');
    devUsers = parseDevUsers(devUsersSetting, problems);
  }

  const logLevel = (read('LOG_LEVEL') ?? (debug ? 'debug' : 'info')).toLowerCase();
  if (!LOG_LEVELS.has(logLevel)) problems.push(`LOG_LEVEL: expected one of ${[...LOG_LEVELS].join(', ')}, got "${logLevel}"`);

  // Rate limits per client address, and which proxies may name that address.
  const rateLimitLogin = parseRateLimit('RATE_LIMIT_LOGIN', read('RATE_LIMIT_LOGIN') ?? '600/1m', problems);
  const rateLimitCallback = parseRateLimit('RATE_LIMIT_CALLBACK', read('RATE_LIMIT_CALLBACK') ?? '600/1m', problems);
  const rateLimitBearerFailures = parseRateLimit('RATE_LIMIT_BEARER_FAILURES', read('RATE_LIMIT_BEARER_FAILURES') ?? '600/1m', problems);
  const trustProxy = parseTrustProxy(read('TRUST_PROXY'), problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    mode, issuerUrl, auth0, clientId, clientSecret, audience, scope,
    requiredScopes: Object.freeze(requiredScopes), allowlist, secretKeys: Object.freeze(secretKeys),
    debug, host, port, baseUrl, secure, redisUrl, requireSession,
    corsOrigins: corsOrigins === '*' ? '*' : Object.freeze([...corsOrigins]),
    algorithms: Object.freeze(algorithms), maxTokenLifetime, clockTolerance, emailClaim, providerTimeoutMs,
    sessionMaxEntries, devUsers: Object.freeze([...devUsers]), logLevel,
    refresh, refreshBeforeSeconds,
    redis,
    rateLimitLogin, rateLimitCallback, rateLimitBearerFailures, trustProxy,
    tokenCacheSize,
  });
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000 };

/** `count/window` (`600/1m`, `20/30s`, `1000/h`, `5/10` in seconds) or `off`. */
export function parseRateLimit(name: string, value: string, problems: string[]): RateLimit | undefined {
  const text = value.trim().toLowerCase();
  if (['off', 'false', 'none', '0'].includes(text)) return undefined;
  const match = /^(\d{1,7})\s*\/\s*(\d{0,6})\s*(s|m|h)?$/.exec(text);
  const max = match ? Number(match[1]) : NaN;
  const windowMs = match ? Number(match[2] || '1') * UNITS[match[3] ?? 's']! : NaN;
  if (!match || max < 1 || windowMs < 1_000 || windowMs > 86_400_000 || (match[2] === '' && match[3] === undefined)) {
    problems.push(`${name}: expected "count/window" such as 600/1m, 20/30s or 1000/h (window 1 s to 24 h), or off; got "${value}"`);
    return undefined;
  }
  return Object.freeze({ max, windowMs });
}

/** `TRUST_PROXY`: off (default), true (any proxy), a hop count, or a comma list of proxy addresses / CIDR ranges. */
export function parseTrustProxy(value: string | undefined, problems: string[]): KeygateConfig['trustProxy'] {
  const text = value?.trim().toLowerCase();
  if (text === undefined || ['off', 'false', 'no', '0'].includes(text)) return false;
  if (['true', 'on', 'yes'].includes(text)) return true;
  if (/^\d{1,2}$/.test(text)) return Number(text);
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = entries.filter((entry) => {
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address ?? '');
    if (family === 0 || rest.length > 0) return true;
    return prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128));
  });
  if (entries.length === 0 || bad.length > 0) {
    problems.push(`TRUST_PROXY: expected off, true, a hop count, or a comma list of proxy IP addresses or CIDR ranges; "${bad.join(', ') || value}" is not`);
    return false;
  }
  return Object.freeze(entries);
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** `ALLOWED_USERS`: comma list of e-mail addresses and `@domain` entries; empty means everyone. */
export function parseAllowlist(value: string | undefined, name: string, problems: string[]): Allowlist | undefined {
  if (value === undefined) return undefined;
  const emails = new Set<string>();
  const domains = new Set<string>();
  for (const raw of value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (/^@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(raw)) domains.add(raw.slice(1));
    else if (/^[^@\s,]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(raw)) emails.add(raw);
    else problems.push(`${name}: "${raw}" is neither an e-mail address nor an @domain entry`);
  }
  if (emails.size === 0 && domains.size === 0) return undefined;
  return Object.freeze({ emails, domains });
}

/** `DEV_USERS`: comma list of `email:password[:name]`. */
function parseDevUsers(value: string, problems: string[]): DevUser[] {
  const users: DevUser[] = [];
  for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [email, password, ...nameParts] = entry.split(':');
    if (!email || !password || !/^[^@\s]+@[^@\s]+$/.test(email)) {
      problems.push(`DEV_USERS: "${entry}" is not email:password[:name]`);
      continue;
    }
    users.push({ email: email.toLowerCase(), password, name: nameParts.join(':') || email.split('@')[0]! });
  }
  if (users.length === 0) problems.push('DEV_USERS: no user in the list');
  return users;
}

/**
 * The process's configuration: `.env` in the working directory (when present; real environment variables win),
 * then `process.env`. The only place Keygate reads the environment.
 */
export function loadConfigFromProcess(envFile = '.env'): KeygateConfig {
  const fromFile: Record<string, string> = {};
  try {
    const before = { ...process.env };
    process.loadEnvFile(envFile);
    for (const [name, value] of Object.entries(process.env)) {
      if (before[name] === undefined && value !== undefined) fromFile[name] = value;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError([`${envFile}: cannot be read (${(error as Error).message})`]);
  }
  return loadConfig({ ...fromFile, ...process.env });
}
