import { basePathOf } from './base-path.js';
import { hookRoutes, routeIs } from './route-hooks.js';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler, onResponseHookHandler, RouteOptions } from 'fastify';
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

  /** Marks `key` as over its limit for the next `ms` (learned from the counter every instance shares). */
  block(key: string, ms: number): void {
    const window = { start: this.now() - this.limit.windowMs + Math.min(ms, this.limit.windowMs), count: this.limit.max };
    this.#windows.delete(key);
    this.#windows.set(key, window);
    while (this.#windows.size > this.maxKeys) this.#windows.delete(this.#windows.keys().next().value as string);
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

/** A fixed-window counter every instance shares (`SessionStore.countHit` of the Redis store). */
export type SharedCounter = (limit: string, key: string, windowMs: number) => Promise<{ count: number; resetInMs: number }>;

export interface RateLimitOptions {
  /** Set with the Redis store: the limits count across every instance instead of per process. */
  shared?: SharedCounter;
  /** Told when the shared counter fails (at most once a minute); the limits then count per process. */
  onSharedFault?: (error: unknown) => void;
}

/**
 * One limit, counted in the shared counter when there is one, else (and while it fails) in this process. Failing
 * to the local count, not open and not closed: a Redis outage neither lifts the limits nor turns logins into 503s
 * (the store guard already answers those that need the store).
 */
class Limit {
  constructor(
    readonly name: string,
    readonly local: RateLimiter,
    readonly shared: SharedCounter | undefined,
    readonly fault: (error: unknown) => void,
  ) {}

  /** Counts one request; resolves to the seconds to wait when this one is over the limit. */
  async hit(key: string): Promise<number | undefined> {
    if (this.shared === undefined) return this.local.hit(key);
    try {
      const { count, resetInMs } = await this.shared(this.name, key, this.local.limit.windowMs);
      return count > this.local.limit.max ? Math.max(1, Math.ceil(resetInMs / 1000)) : undefined;
    } catch (error) {
      this.fault(error);
      return this.local.hit(key);
    }
  }

  /**
   * Counts one failure without delaying anything; when the shared count reaches the limit, this process blocks the
   * address until the window ends (`blocked` stays a local, synchronous look-up on the hot path). Another instance
   * learns it at that address's next failure there: N instances allow at most N - 1 failures over the limit.
   */
  record(key: string): void {
    if (this.shared === undefined) {
      this.local.hit(key);
      return;
    }
    this.shared(this.name, key, this.local.limit.windowMs).then(
      ({ count, resetInMs }) => {
        if (count >= this.local.limit.max) this.local.block(key, resetInMs);
      },
      (error: unknown) => {
        this.fault(error);
        this.local.hit(key);
      },
    );
  }
}

/**
 * Per client address (`request.ip`, which honours X-Forwarded-For only as `TRUST_PROXY` allows): `/login` and
 * `/callback` count every request; `/protected` counts answers 400/401 to requests that sent credentials, and
 * refuses an address over its limit before verifying anything. With `options.shared` (the Redis store) the counts
 * are shared by every instance. The hooks are attached as those routes are declared: call this before declaring them.
 */
export function installRateLimits(
  app: FastifyInstance,
  config: Pick<ServerConfig, 'rateLimitLogin' | 'rateLimitCallback' | 'rateLimitBearerFailures' | 'baseUrl'>,
  now: () => number,
  options: RateLimitOptions = {},
): void {
  // Routes are declared under BASE_URL's path.
  const prefix = basePathOf(config);
  let lastFault = -Infinity;
  const fault = (error: unknown) => {
    if (now() - lastFault < 60_000) return;
    lastFault = now();
    if (options.onSharedFault) options.onSharedFault(error);
    else app.log.warn({ err: error }, 'rate limits: the shared counter (Redis) cannot be reached; counting per process until it answers');
  };
  const limit = (name: string, setting: RateLimit | undefined) => setting && new Limit(name, new RateLimiter(setting, now), options.shared, fault);
  const login = limit('login', config.rateLimitLogin);
  const callback = limit('callback', config.rateLimitCallback);
  const failures = limit('bearer-failures', config.rateLimitBearerFailures);
  const counted = (request: FastifyRequest, done: (error?: Error) => void, counter: Limit, what: string) => {
    counter.hit(request.ip).then(
      (wait) => done(wait === undefined ? undefined : new RateLimitedError(wait, what)),
      (error: unknown) => done(error as Error),
    );
  };

  // Callback hooks, not async ones, and only on the routes they count (hookRoutes): /protected is the hot path.
  if (login) hookRoutes(app, 'onRequest', (route) => (routeIs(route, `${prefix}/login`) ? (request, _reply, done) => counted(request, done, login, 'logins') : undefined));
  if (callback) {
    hookRoutes(app, 'onRequest', (route) => (routeIs(route, `${prefix}/callback`) ? (request, _reply, done) => counted(request, done, callback, 'login responses') : undefined));
  }
  if (failures) {
    const isProtected = (route: RouteOptions) => routeIs(route, `${prefix}/protected`, ['OPTIONS']);
    const refuseBlocked: onRequestHookHandler = (request, _reply, done) => {
      const wait = request.method === 'OPTIONS' ? undefined : failures.local.blocked(request.ip);
      done(wait === undefined ? undefined : new RateLimitedError(wait, 'failed token attempts'));
    };
    const countFailure: onResponseHookHandler = (request, reply, done) => {
      if (request.method !== 'OPTIONS' && (reply.statusCode === 401 || reply.statusCode === 400) && request.headers.authorization !== undefined) {
        failures.record(request.ip);
      }
      done();
    };
    hookRoutes(app, 'onRequest', (route) => (isProtected(route) ? refuseBlocked : undefined));
    hookRoutes(app, 'onResponse', (route) => (isProtected(route) ? countFailure : undefined));
  }
}
