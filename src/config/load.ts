import { ConfigError } from '../errors.js';
import { parseEdge } from './edge.js';
import { parseAdmin } from './admin.js';
import { EnvReader, type Env } from './env.js';
import { parseIntrospection } from './introspection.js';
import { parseLimits } from './limits.js';
import { parseListen } from './listen.js';
import { parseMetricsAddress } from './metrics.js';
import { modeOf, parseProvider } from './provider.js';
import { parseProxy } from './proxy.js';
import { parseRedisSettings } from './redis.js';
import { parseSecretKeys } from './secrets.js';
import { parseSessions } from './sessions.js';
import type { ServerConfig } from './types.js';
import { parseVerification } from './verification.js';

export { ConfigError, type Env };

/**
 * Reads and validates the server's configuration from an environment object (normally `process.env`), group by
 * group; throws one ConfigError listing every problem, each naming its variable; returns a frozen object otherwise.
 */
export function loadConfig(env: Env): ServerConfig {
  const r = new EnvReader(env);
  const mode = modeOf(r);
  const listen = parseListen(r, mode);
  const provider = parseProvider(r, mode, listen.baseUrl);
  const issuerName = mode === 'dev' ? 'BASE_URL' : r.read('ISSUER_URL') !== undefined ? 'ISSUER_URL' : 'AUTH_HOST';
  const verification = parseVerification(r, provider, issuerName);
  const secretKeys = parseSecretKeys(r, mode);
  const redis = parseRedisSettings((name) => r.read(name), r.problems);
  const sessionMaxEntries = r.int('SESSION_MAX_ENTRIES', 100_000, 1, 10_000_000);
  const limits = parseLimits(r);
  const edge = parseEdge(r, listen.baseUrl);
  const introspection = parseIntrospection(r);
  const metricsAddress = parseMetricsAddress(r, listen);
  const proxy = parseProxy(r, listen.baseUrl);
  const sessions = parseSessions(r);
  const admin = parseAdmin(r);

  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return Object.freeze({
    mode,
    ...listen,
    ...provider,
    ...verification,
    secretKeys,
    redisUrl: r.read('REDIS_URL'),
    redis,
    sessionMaxEntries,
    ...limits,
    ...edge,
    ...introspection,
    metricsAddress,
    ...proxy,
    ...sessions,
    ...admin,
  });
}

/**
 * The process's configuration: `.env` in the working directory (when present; real environment variables win),
 * then `process.env`. The only place Keygate reads the environment.
 */
export function loadConfigFromProcess(envFile = '.env'): ServerConfig {
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
