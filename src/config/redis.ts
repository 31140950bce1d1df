import { parseUrl } from '../keygate/validate.js';
import { prefixFor } from '../session/redis-connect.js';
import type { RedisNode, RedisSettings } from './types.js';

type Read = (name: string) => string | undefined;

const PREFIX = /^[A-Za-z0-9:_.{}-]{1,64}$/;

/**
 * The Redis store's settings: `REDIS_URL`, `REDIS_CLUSTER_NODES`, `REDIS_SENTINELS` +
 * `REDIS_SENTINEL_NAME` (+ `REDIS_SENTINEL_PASSWORD`), `REDIS_PREFIX`, `REDIS_TIMEOUT_MS`. Undefined when none of
 * the first three is set (the memory store). Problems are pushed, each naming its variable.
 */
export function parseRedisSettings(read: Read, problems: string[]): RedisSettings | undefined {
  const url = read('REDIS_URL');
  const clusterSetting = read('REDIS_CLUSTER_NODES');
  const sentinelSetting = read('REDIS_SENTINELS');
  const sentinelName = read('REDIS_SENTINEL_NAME');
  const sentinelPassword = read('REDIS_SENTINEL_PASSWORD');
  const prefixSetting = read('REDIS_PREFIX');
  const timeoutSetting = read('REDIS_TIMEOUT_MS');

  if (url === undefined && clusterSetting === undefined && sentinelSetting === undefined) {
    for (const name of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD', 'REDIS_PREFIX', 'REDIS_TIMEOUT_MS']) {
      if (read(name) !== undefined) problems.push(`${name}: only used with the Redis store; set REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS) too, or unset it`);
    }
    return undefined;
  }

  const clusterNodes = clusterSetting === undefined ? undefined : parseNodes('REDIS_CLUSTER_NODES', clusterSetting, problems);
  const sentinels = sentinelSetting === undefined ? undefined : parseNodes('REDIS_SENTINELS', sentinelSetting, problems);
  if (clusterNodes && sentinels) problems.push('REDIS_CLUSTER_NODES and REDIS_SENTINELS: set one or the other, not both');
  if (sentinels && sentinelName === undefined) problems.push('REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the name of the monitored master)');
  if (!sentinels && sentinelName !== undefined) problems.push('REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS');
  if (!sentinels && sentinelPassword !== undefined) problems.push('REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS');

  if (url !== undefined) {
    const parsed = parseUrl(url);
    // Never echo the URL itself: it may carry a password.
    if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')) {
      problems.push('REDIS_URL: expected redis://[user:password@]host[:port][/db] (or rediss:// for TLS)');
    } else if (parsed.hostname === '') {
      problems.push('REDIS_URL: no host');
    } else if (parsed.search || parsed.hash) {
      problems.push('REDIS_URL: must not carry a query or fragment');
    } else {
      const db = parsed.pathname.replace(/^\//, '');
      if (db !== '' && (!/^\d{1,5}$/.test(db) || Number(db) > 65535)) problems.push(`REDIS_URL: the path must be a database number, got "/${db.slice(0, 20)}"`);
      else if (clusterNodes && db !== '' && db !== '0') problems.push('REDIS_URL: Redis Cluster has only database 0');
    }
  }

  let prefix = prefixSetting ?? 'keygate:';
  if (!PREFIX.test(prefix)) problems.push('REDIS_PREFIX: 1 to 64 characters among letters, digits and : _ . - { }');
  prefix = prefixFor(prefix, clusterNodes !== undefined);

  let timeoutMs = 1_000;
  if (timeoutSetting !== undefined) {
    const n = Number(timeoutSetting);
    if (!/^\d+$/.test(timeoutSetting) || n < 50 || n > 10_000) problems.push(`REDIS_TIMEOUT_MS: expected a whole number from 50 to 10000, got "${timeoutSetting}"`);
    else timeoutMs = n;
  }

  return Object.freeze({
    url,
    clusterNodes: clusterNodes && Object.freeze(clusterNodes),
    sentinels: sentinels && Object.freeze(sentinels),
    sentinelName,
    sentinelPassword,
    prefix,
    timeoutMs,
  });
}

function parseNodes(name: string, value: string, problems: string[]): RedisNode[] {
  const nodes: RedisNode[] = [];
  for (const entry of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      problems.push(`${name}: "${entry}" is not host:port`);
      continue;
    }
    nodes.push({ host: match[1]!.replace(/^\[|\]$/g, ''), port });
  }
  if (nodes.length === 0) problems.push(`${name}: no host:port in the list`);
  return nodes;
}
