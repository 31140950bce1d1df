import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** A connection to Redis: one server (standalone or found through Sentinel) or a Cluster. */
export type RedisClient = Redis | Cluster;

/** A `host:port` of a Redis Cluster node or a Sentinel. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Where and how the Redis store connects. Set `url`, or `clusterNodes`, or `sentinels` with `sentinelName`. */
export interface RedisConnectionOptions {
  /**
   * `redis://[user:password@]host[:port][/db]` (`rediss://` for TLS): the server. With `clusterNodes` or `sentinels`,
   * only its credentials, TLS and database are used (for every Cluster node, or for the master).
   */
  url?: string | undefined;
  /** Seed nodes of a Redis Cluster: Cluster mode when set. */
  clusterNodes?: readonly RedisNode[] | undefined;
  /** Sentinels: Sentinel mode when set, with `sentinelName`, the name of the monitored master. */
  sentinels?: readonly RedisNode[] | undefined;
  sentinelName?: string | undefined;
  /** The Sentinels' own password, when they have one. */
  sentinelPassword?: string | undefined;
  /** Timeout of every command, in ms (default 1000); the store's heartbeat uses it as its deadline too. */
  timeoutMs?: number | undefined;
}

export const DEFAULT_TIMEOUT_MS = 1_000;

/**
 * Builds the ioredis client for the topology the options name: one server (`url`), a Cluster (`clusterNodes`, with
 * the URL's credentials and TLS applied to every node) or a Sentinel-managed master (`sentinels` + `sentinelName`).
 * Fail-fast options: no offline queue and no retried commands (a command sent while Redis is away fails at once, so
 * the API answers 503 at once), a command timeout, and quick reconnects (100 ms, growing to 1 s) so the store
 * recovers within a second or two of Redis coming back. Throws a TypeError when the options name no topology or two.
 */
export function createRedisClient(options: RedisConnectionOptions): RedisClient {
  const { url, clusterNodes, sentinels, sentinelName } = options;
  if (clusterNodes && sentinels) throw new TypeError('Redis: set clusterNodes or sentinels, not both');
  if (sentinels && !sentinelName) throw new TypeError('Redis: sentinels need sentinelName (the name of the monitored master)');
  if (!clusterNodes && !sentinels && url === undefined) throw new TypeError('Redis: set url, clusterNodes or sentinels');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0 && timeoutMs <= 60_000)) throw new TypeError('Redis: timeoutMs must be a number of milliseconds from 1 to 60000');
  const common: RedisOptions = {
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1_000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times: number) => Math.min(100 * times, 1_000),
    connectionName: 'keygate',
  };
  const parsed = url === undefined ? undefined : redisUrl(url);
  const credentials = parsed === undefined ? {} : credentialsOf(parsed);

  if (clusterNodes) {
    const { db: _db, ...nodeCredentials } = credentials;
    const { retryStrategy: _retry, enableOfflineQueue: _queue, ...redisOptions } = common;
    return new Cluster([...clusterNodes], {
      redisOptions: { ...redisOptions, ...nodeCredentials },
      enableOfflineQueue: false,
      clusterRetryStrategy: (times: number) => Math.min(100 * times, 1_000),
      slotsRefreshTimeout: timeoutMs,
    });
  }
  if (sentinels) {
    return new Redis({
      ...common,
      ...credentials,
      sentinels: [...sentinels],
      name: sentinelName!,
      ...(options.sentinelPassword !== undefined ? { sentinelPassword: options.sentinelPassword } : {}),
      ...(credentials.tls ? { enableTLSForSentinelMode: true } : {}),
      sentinelRetryStrategy: (times: number) => Math.min(100 * times, 1_000),
    });
  }
  const host = parsed!.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new TypeError('Redis: url names no host');
  return new Redis({ ...common, ...credentials, host, port: parsed!.port === '' ? 6379 : Number(parsed!.port) });
}

/**
 * The key prefix for this topology. In a Cluster every key of a multi-key script must share one hash slot, so a
 * prefix without a `{hash tag}` becomes one (`keygate:` → `{keygate}:`).
 */
export function prefixFor(prefix: string, cluster: boolean): string {
  return cluster && !/\{[^{}]+\}/.test(prefix) ? `{${prefix.replace(/:$/, '')}}:` : prefix;
}

/** A parsed redis:// or rediss:// URL; the error never repeats the URL, which may carry a password. */
function redisUrl(url: string): URL {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
    throw new TypeError('Redis: url must be redis://[user:password@]host[:port][/db] (or rediss:// for TLS)');
  }
  return parsed;
}

interface Credentials {
  username?: string;
  password?: string;
  db?: number;
  tls?: { servername: string };
}

/** User, password, database and TLS from a redis:// or rediss:// URL (percent-decoded). */
export function credentialsOf(url: URL): Credentials {
  const credentials: Credentials = {};
  if (url.username !== '') credentials.username = decodeURIComponent(url.username);
  if (url.password !== '') credentials.password = decodeURIComponent(url.password);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '') credentials.db = Number(db);
  if (url.protocol === 'rediss:') credentials.tls = { servername: url.hostname.replace(/^\[|\]$/g, '') };
  return credentials;
}
