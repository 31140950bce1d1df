import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisSettings } from '../config/types.js';
import type { RedisClient } from './redis.js';

/**
 * Builds the ioredis client for the configured topology: one server (`REDIS_URL`), a Cluster
 * (`REDIS_CLUSTER_NODES`, with REDIS_URL's credentials and TLS applied to every node) or a Sentinel-managed master
 * (`REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`). Fail-fast options: no offline queue and no retried commands (a command
 * sent while Redis is away fails at once, so the API answers 503 at once), a command timeout, and quick reconnects
 * (100 ms, growing to 1 s) so the store recovers within a second or two of Redis coming back.
 */
export function createRedisClient(settings: RedisSettings): RedisClient {
  const common: RedisOptions = {
    commandTimeout: settings.timeoutMs,
    connectTimeout: Math.max(settings.timeoutMs, 1_000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times: number) => Math.min(100 * times, 1_000),
    connectionName: 'keygate',
  };
  const credentials = settings.url === undefined ? {} : credentialsOf(new URL(settings.url));

  if (settings.clusterNodes) {
    const { db: _db, ...nodeCredentials } = credentials;
    const { retryStrategy: _retry, enableOfflineQueue: _queue, ...redisOptions } = common;
    return new Cluster([...settings.clusterNodes], {
      redisOptions: { ...redisOptions, ...nodeCredentials },
      enableOfflineQueue: false,
      clusterRetryStrategy: (times: number) => Math.min(100 * times, 1_000),
      slotsRefreshTimeout: settings.timeoutMs,
    });
  }
  if (settings.sentinels) {
    return new Redis({
      ...common,
      ...credentials,
      sentinels: [...settings.sentinels],
      name: settings.sentinelName!,
      ...(settings.sentinelPassword !== undefined ? { sentinelPassword: settings.sentinelPassword } : {}),
      ...(credentials.tls ? { enableTLSForSentinelMode: true } : {}),
      sentinelRetryStrategy: (times: number) => Math.min(100 * times, 1_000),
    });
  }
  // loadConfig guarantees REDIS_URL when neither Cluster nor Sentinel is configured.
  const url = new URL(settings.url!);
  return new Redis({ ...common, ...credentials, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 6379 : Number(url.port) });
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
