import { isIP } from 'node:net';
import type { EnvReader } from './env.js';
import type { RateLimit, ServerConfig } from './types.js';

type Limits = Pick<ServerConfig, 'rateLimitLogin' | 'rateLimitCallback' | 'rateLimitBearerFailures' | 'trustProxy'>;

/** Rate limits per client address, and which proxies may name that address. */
export function parseLimits(r: EnvReader): Limits {
  const limit = (name: string) => parseRateLimit(name, r.read(name) ?? '600/1m', r.problems);
  return {
    rateLimitLogin: limit('RATE_LIMIT_LOGIN'),
    rateLimitCallback: limit('RATE_LIMIT_CALLBACK'),
    rateLimitBearerFailures: limit('RATE_LIMIT_BEARER_FAILURES'),
    trustProxy: parseTrustProxy(r.read('TRUST_PROXY'), r.problems),
  };
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
export function parseTrustProxy(value: string | undefined, problems: string[]): ServerConfig['trustProxy'] {
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
