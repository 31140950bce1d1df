import { randomBytes } from 'node:crypto';
import { UnavailableError } from '../errors.js';
import type { RedisLiveness } from './redis-liveness.js';
import type { ScriptedClient } from './redis-scripts.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` while holding a Redis lock shared by every instance: `SET key NX PX ttlMs` with a random holder token,
 * retried with a short backoff until `ttlMs` has passed (then UnavailableError); released by a compare-and-delete
 * script, so a holder never deletes a lock that lapsed and was taken by someone else.
 */
export async function withRedisLock<T>(
  redis: { client: ScriptedClient; liveness: RedisLiveness },
  key: string,
  name: string,
  ttlMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const holder = randomBytes(16).toString('base64url');
  const deadline = performance.now() + ttlMs;
  let delay = 5;
  for (;;) {
    const taken = await redis.liveness.run(() => redis.client.set(key, holder, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
    if (taken === 'OK') break;
    if (performance.now() + delay > deadline) throw new UnavailableError(`The lock ${name} is busy.`);
    await sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await fn();
  } finally {
    // If this fails the lock lapses after ttlMs by itself.
    await redis.client.kgUnlock(key, holder).catch(() => undefined);
  }
}
