/** `keygate/redis`: the shared Redis (or Valkey) store — standalone, Cluster or Sentinel — for several instances. */
export { RedisStore, type RedisStoreOptions, type RedisConnectOptions, type RedisClient, type RedisConnectionOptions, type RedisNode } from './session/redis.js';
export { createRedisClient } from './session/redis-connect.js';
