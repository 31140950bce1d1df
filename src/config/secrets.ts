import { randomBytes } from 'node:crypto';
import type { EnvReader } from './env.js';
import type { ServerConfig } from './types.js';

/** `SECRET_KEY`: required outside development mode, a comma list (the first signs, all verify), each ≥ 32 characters. */
export function parseSecretKeys(r: EnvReader, mode: ServerConfig['mode']): readonly string[] {
  const setting = r.read('SECRET_KEY');
  if (setting === undefined) {
    if (mode === 'provider') r.problems.push('SECRET_KEY: required outside the development mode (at least 32 random characters; comma list to rotate)');
    else {
      // A random key per process cannot open what another process sealed in the shared store.
      const shared = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'].find((name) => r.read(name) !== undefined);
      if (shared) r.problems.push(`SECRET_KEY: required with ${shared} (every instance sharing the store must seal sessions with the same key; without SECRET_KEY development mode picks a random one per process)`);
    }
    return Object.freeze([randomBytes(32).toString('base64url')]);
  }
  const keys = setting.split(',').map((s) => s.trim()).filter(Boolean);
  if (keys.length === 0) r.problems.push('SECRET_KEY: no key in the list');
  for (const [i, key] of keys.entries()) {
    if (key.length < 32) r.problems.push(`SECRET_KEY: key #${i + 1} is ${key.length} characters long; at least 32 are needed`);
  }
  return Object.freeze(keys);
}
