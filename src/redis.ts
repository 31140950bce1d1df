/** `keygate/redis`: the shared Redis (or Valkey) store — standalone, Cluster or Sentinel — for several instances. */
export { RedisStore, type RedisStoreOptions, type RedisClient } from './session/redis.js';
export { createRedisClient } from './session/redis-connect.js';
