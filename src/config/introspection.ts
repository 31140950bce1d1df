import type { EnvReader } from './env.js';
import { parseRateLimit } from './limits.js';
import type { IntrospectionClient, ServerConfig } from './types.js';

type Introspection = Pick<ServerConfig, 'introspectionClients' | 'rateLimitIntrospection' | 'introspectionCacheSeconds'>;

const MIN_SECRET = 32;

/**
 * `INTROSPECTION_CLIENTS` (`id:secret` comma list; `POST /introspect` exists only when set), its rate limit per
 * client and how long an active answer may be cached. Problems name the client, never the secret.
 */
export function parseIntrospection(r: EnvReader): Introspection {
  const clients: IntrospectionClient[] = [];
  const setting = r.read('INTROSPECTION_CLIENTS');
  if (setting !== undefined) {
    const entries = setting.split(',').map((s) => s.trim()).filter(Boolean);
    if (entries.length === 0) r.problems.push('INTROSPECTION_CLIENTS: no client in the list (expected id:secret,…)');
    for (const [i, entry] of entries.entries()) {
      const colon = entry.indexOf(':');
      const id = colon === -1 ? '' : entry.slice(0, colon);
      const secret = colon === -1 ? '' : entry.slice(colon + 1);
      const name = id === '' ? `entry #${i + 1}` : `client "${id.slice(0, 64)}"`;
      if (colon === -1 || id === '') {
        r.problems.push(`INTROSPECTION_CLIENTS: entry #${i + 1} is not "id:secret"`);
        continue;
      }
      // The id travels in HTTP Basic, form-urlencoded (RFC 6749 §2.3.1): keep it to characters that need no encoding.
      if (!/^[A-Za-z0-9._~-]{1,128}$/.test(id)) {
        r.problems.push(`INTROSPECTION_CLIENTS: ${name}: a client id is 1 to 128 letters, digits or . _ ~ -`);
      } else if (clients.some((c) => c.id === id)) {
        r.problems.push(`INTROSPECTION_CLIENTS: ${name} is listed twice`);
      }
      if (secret.length < MIN_SECRET) {
        r.problems.push(`INTROSPECTION_CLIENTS: ${name}: the secret is ${secret.length} characters long; at least ${MIN_SECRET} are needed`);
      } else if (/\s/.test(secret)) {
        r.problems.push(`INTROSPECTION_CLIENTS: ${name}: the secret contains white space`);
      }
      clients.push(Object.freeze({ id, secret }));
    }
  }
  return {
    introspectionClients: Object.freeze(clients),
    rateLimitIntrospection: parseRateLimit('RATE_LIMIT_INTROSPECTION', r.read('RATE_LIMIT_INTROSPECTION') ?? '6000/1m', r.problems),
    introspectionCacheSeconds: r.int('INTROSPECTION_CACHE_SECONDS', 0, 0, 300),
  };
}
