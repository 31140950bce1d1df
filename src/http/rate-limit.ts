import { basePathOf } from './base-path.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerConfig, RateLimit } from '../config/types.js';
import { RateLimitedError } from '../errors.js';

export { RateLimitedError };

/**
 * A fixed-window counter per key (the client address) with bounded memory: at most `maxKeys` windows are kept,
 * the least recently touched goes first (a Map keeps insertion order; a touch re-inserts). Forgetting an address
 * early only ever lets it through sooner, never blocks anyone wrongly.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly limit: RateLimit,
    private readonly now: () => number,
    private readonly maxKeys = 50_000,
  ) {}

  /** Seconds until `key` may try again, or undefined when it is under its limit. Counts nothing. */
  blocked(key: string): number | undefined {
    const window = this.#current(key);
    return window !== undefined && window.count >= this.limit.max ? this.#retryAfter(window.start) : undefined;
  }

  /** Counts one request; returns the seconds to wait when this one is over the limit. */
  hit(key: string): number | undefined {
    const now = this.now();
    let window = this.#current(key);
    if (window === undefined) window = { start: now, count: 0 };
    window.count++;
    this.#windows.delete(key);
    this.#windows.set(key, window);
    while (this.#windows.size > this.maxKeys) this.#windows.delete(this.#windows.keys().next().value as string);
    return window.count > this.limit.max ? this.#retryAfter(window.start) : undefined;
  }

  get size(): number {
    return this.#windows.size;
  }

  #current(key: string): { start: number; count: number } | undefined {
    const window = this.#windows.get(key);
    if (window !== undefined && this.now() - window.start >= this.limit.windowMs) {
      this.#windows.delete(key);
      return undefined;
    }
    return window;
  }

  #retryAfter(start: number): number {
    return Math.max(1, Math.ceil((start + this.limit.windowMs - this.now()) / 1000));
  }
}

/**
 * Per client address (`request.ip`, which honours X-Forwarded-For only as `TRUST_PROXY` allows): `/login` and
 * `/callback` count every request; `/protected` counts answers 400/401 to requests that sent credentials, and
 * refuses an address over its limit before verifying anything.
 */
export function installRateLimits(app: FastifyInstance, config: Pick<ServerConfig, 'rateLimitLogin' | 'rateLimitCallback' | 'rateLimitBearerFailures' | 'baseUrl'>, now: () => number): void {
  // Routes are declared under BASE_URL's path: compare without it.
  const prefixLength = basePathOf(config).length;
  const route = (request: FastifyRequest) => request.routeOptions.url?.slice(prefixLength);
  const login = config.rateLimitLogin && new RateLimiter(config.rateLimitLogin, now);
  const callback = config.rateLimitCallback && new RateLimiter(config.rateLimitCallback, now);
  const failures = config.rateLimitBearerFailures && new RateLimiter(config.rateLimitBearerFailures, now);

  // Callback hooks, not async ones: they run on every request, /protected included (the hot path).
  app.addHook('onRequest', (request, _reply, done) => {
    const path = route(request);
    let wait: number | undefined;
    if (path === '/login' && login) {
      wait = login.hit(request.ip);
      if (wait !== undefined) return done(new RateLimitedError(wait, 'logins'));
    } else if (path === '/callback' && callback) {
      wait = callback.hit(request.ip);
      if (wait !== undefined) return done(new RateLimitedError(wait, 'login responses'));
    } else if (path === '/protected' && failures && request.method !== 'OPTIONS') {
      wait = failures.blocked(request.ip);
      if (wait !== undefined) return done(new RateLimitedError(wait, 'failed token attempts'));
    }
    done();
  });
  if (failures) {
    app.addHook('onResponse', (request, reply, done) => {
      if (route(request) === '/protected' && request.method !== 'OPTIONS' && (reply.statusCode === 401 || reply.statusCode === 400) && request.headers.authorization !== undefined) {
        failures.hit(request.ip);
      }
      done();
    });
  }
}
