import { LocalCache } from './redis-cache.js';
import { SessionCodec } from './redis-codec.js';
import { createRedisClient, DEFAULT_TIMEOUT_MS, prefixFor, type RedisClient, type RedisConnectionOptions } from './redis-connect.js';
import { RedisLiveness } from './redis-liveness.js';
import { withRedisLock } from './redis-lock.js';
import { withScripts, type ScriptedClient } from './redis-scripts.js';
import { checkLimit, decodeCursor, encodeCursor } from './cursor.js';
import { isPublicSessionId, publicSessionId } from './public-id.js';
import type { Session, SessionPage, SessionQuery, SessionStore, TokenRotation } from './store.js';

export type { RedisClient, RedisConnectionOptions, RedisNode } from './redis-connect.js';

export interface RedisStoreOptions {
  /** The command connection (see redis-connect.ts); the store owns it and closes it. */
  client: RedisClient;
  /** The connection that listens for invalidations; defaults to `client.duplicate()`. The store owns it. */
  subscriber?: RedisClient;
  /** SECRET_KEY list: the first encrypts the stored tokens, all decrypt. */
  secretKeys: readonly string[];
  /** Prefix of every key and of the invalidation channel (default `keygate:`). */
  prefix?: string;
  /** The clock that expiry is judged by (ms since the epoch); Redis TTLs are computed from it. */
  now?: () => number;
  /**
   * The heartbeat period (default 500 ms), probed twice per period: a Redis that stops answering, or an invalidation
   * channel that falls silent, is noticed within it, and the local cache never answers from a channel not proven
   * live within the last period.
   */
  heartbeatMs?: number;
  /** A heartbeat that takes longer fails (default 1000 ms; also give ioredis this `commandTimeout`). */
  heartbeatTimeoutMs?: number;
  /** Entries of the local cache (default 10 000; 0 disables it). */
  cacheEntries?: number;
  /**
   * Oldest local cache entry used, in ms (default 5 000): the bound on how long an instance may miss a change that
   * was not announced (a key deleted by hand or evicted); every change Keygate makes is announced at once.
   */
  cacheMaxAgeMs?: number;
}

/**
 * What `RedisStore.connect` needs: where Redis is (`url`, or `clusterNodes`, or `sentinels` + `sentinelName`), the
 * secret keys, and optionally the store's other options. `timeoutMs` is both the command timeout and the heartbeat's
 * deadline; in a Cluster the prefix becomes a `{hash tag}`.
 */
export type RedisConnectOptions = RedisConnectionOptions & Omit<RedisStoreOptions, 'client' | 'subscriber' | 'heartbeatTimeoutMs'>;

/**
 * The shared store: sessions, token lookups and revocations in Redis, with TTLs equal to the token's expiry, atomic
 * multi-key changes (Lua, redis-scripts.ts), tokens sealed at rest (redis-codec.ts), and a local cache
 * (redis-cache.ts) kept honest by pub/sub invalidation.
 *
 * Fail closed (redis-liveness.ts): while the heartbeat fails, every operation rejects at once with
 * `UnavailableError`; while the invalidation channel is not proven live, the local cache does not answer. When Redis
 * answers again the next heartbeat brings the store back by itself.
 *
 * Keys (with the default prefix): `keygate:session:<id>` (JSON, tokens sealed), `keygate:token:<tokenKey>` (session
 * id), `keygate:revoked:<tokenKey>` (expiry, ms), `keygate:sub:<sub>` and `keygate:psid:<sid>` (sets of session ids),
 * `keygate:sessions` and `keygate:revocations` (sorted sets by expiry, for counts), `keygate:pub:<public id>`
 * (session id), `keygate:public` and `keygate:subject:<sub>` (public ids by expiry, for listings page by page),
 * `keygate:lock:<name>`,
 * `keygate:epoch` (a marker whose loss reveals a flushed or emptied Redis);
 * invalidations and heartbeat echoes on the channel `keygate:invalidate`.
 */
export class RedisStore implements SessionStore {
  readonly #client: ScriptedClient;
  readonly #codec: SessionCodec;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #now: () => number;
  readonly #cache: LocalCache;
  readonly #live: RedisLiveness;

  /** Builds the store and waits (at most `waitMs`) for its first good heartbeat; a store that is down recovers later by itself. */
  static async open(options: RedisStoreOptions, waitMs = 2_000): Promise<RedisStore> {
    const store = new RedisStore(options);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([store.#live.firstBeat, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    return store;
  }

  /**
   * Opens the store on its own connections, built from plain options (no server configuration needed); `close()`
   * closes them. Rejects with a TypeError when the options name no Redis, or two topologies, or a bad URL or timeout.
   */
  static async connect(options: RedisConnectOptions, waitMs?: number): Promise<RedisStore> {
    const { url, clusterNodes, sentinels, sentinelName, sentinelPassword, timeoutMs = DEFAULT_TIMEOUT_MS, prefix, ...store } = options;
    const client = createRedisClient({ url, clusterNodes, sentinels, sentinelName, sentinelPassword, timeoutMs });
    return RedisStore.open({ ...store, client, prefix: prefixFor(prefix ?? 'keygate:', clusterNodes !== undefined), heartbeatTimeoutMs: timeoutMs }, waitMs);
  }

  /** `connect` to the one Redis server at `url` (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS). */
  static fromUrl(url: string, options: Omit<RedisConnectOptions, 'url'>, waitMs?: number): Promise<RedisStore> {
    return RedisStore.connect({ ...options, url }, waitMs);
  }

  constructor(options: RedisStoreOptions) {
    this.#client = withScripts(options.client);
    this.#codec = new SessionCodec(options.secretKeys, options.now ?? Date.now);
    this.#prefix = options.prefix ?? 'keygate:';
    this.#channel = `${this.#prefix}invalidate`;
    this.#now = this.#codec.now;
    this.#cache = new LocalCache(options.cacheEntries ?? 10_000, options.cacheMaxAgeMs ?? 5_000);
    this.#live = new RedisLiveness({
      client: this.#client,
      subscriber: options.subscriber,
      channel: this.#channel,
      epochKey: this.#key('epoch'),
      cache: this.#cache,
      periodMs: options.heartbeatMs ?? 500,
      timeoutMs: options.heartbeatTimeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
  }

  /** Whether Redis answered the last heartbeat: while it does not, every operation fails with UnavailableError. */
  get healthy(): boolean {
    return this.#live.healthy;
  }

  /** Whether the invalidation channel answered the last heartbeat: only then may the local cache answer. */
  get listening(): boolean {
    return this.#live.listening;
  }

  async create(session: Session): Promise<void> {
    this.#live.guard();
    const now = this.#now();
    if (session.expiresAt <= now) return;
    await this.#live.run(() =>
      this.#client.kgCreate(
        this.#key('session', session.id), this.#prefix, session.id, this.#codec.encode(session), session.tokenKey, session.sub,
        session.providerSid ?? '', String(session.expiresAt), String(now), publicSessionId(session.id),
      ),
    );
  }

  async get(id: string): Promise<Session | undefined> {
    const raw = await this.#live.run(() => this.#client.get(this.#key('session', id)));
    return this.#codec.decode(raw);
  }

  async getByToken(tokenKey: string): Promise<Session | undefined> {
    this.#live.guard();
    const known = this.peekByToken(tokenKey);
    if (known !== undefined) return known ?? undefined;
    const generation = this.#cache.generation;
    const raw = await this.#live.run(() => this.#client.kgByToken(this.#key('token', tokenKey), this.#prefix));
    const session = this.#codec.decode(raw);
    if (session === undefined || session.tokenKey !== tokenKey) return undefined;
    if (this.#live.cacheTrusted) this.#cache.putSession(tokenKey, session, generation);
    return session;
  }

  async delete(id: string): Promise<boolean> {
    const [alive, tokenKey] = await this.#live.run(() =>
      this.#client.kgDelete(this.#key('session', id), this.#prefix, id, String(this.#now()), this.#channel, publicSessionId(id)),
    );
    // The subscriber hears it too; this makes it immediate for this instance.
    if (tokenKey !== undefined) this.#cache.invalidate(tokenKey);
    return alive === 1;
  }

  async revokeToken(tokenKey: string, expiresAt: number): Promise<void> {
    this.#live.guard();
    const now = this.#now();
    if (expiresAt <= now) return;
    await this.#live.run(() =>
      this.#client.kgRevoke(this.#key('revoked', tokenKey), this.#prefix, tokenKey, String(Math.ceil(expiresAt)), String(now), this.#channel),
    );
    this.#cache.invalidate(tokenKey);
  }

  /** From the local cache, only while Redis is healthy and the invalidation channel is proven live. */
  peekByToken(tokenKey: string): Session | null | undefined {
    if (!this.#live.cacheTrusted) return undefined;
    const cached = this.#cache.session(tokenKey);
    if (cached === undefined) return undefined;
    return cached.expiresAt > this.#now() ? cached : null;
  }

  /** Only "not revoked" is ever cached (see `isRevoked`), so only that is known without asking Redis. */
  peekRevoked(tokenKey: string): false | undefined {
    return this.#live.cacheTrusted && this.#cache.notRevoked(tokenKey) ? false : undefined;
  }

  async isRevoked(tokenKey: string): Promise<boolean> {
    this.#live.guard();
    if (this.peekRevoked(tokenKey) === false) return false;
    const generation = this.#cache.generation;
    const until = await this.#live.run(() => this.#client.get(this.#key('revoked', tokenKey)));
    const revoked = until !== null && Number(until) > this.#now();
    // Only "not revoked" is cached: it is the answer an invalidation must be able to take back.
    if (!revoked && this.#live.cacheTrusted) this.#cache.putNotRevoked(tokenKey, generation);
    return revoked;
  }

  async touch(id: string, at: number): Promise<void> {
    await this.#live.run(() => this.#client.kgTouch(this.#key('session', id), String(Math.floor(at)), String(this.#now())));
  }

  async getByPublicId(publicId: string): Promise<Session | undefined> {
    if (!isPublicSessionId(publicId)) return undefined;
    // The same two steps as a token lookup: the index key holds the session id.
    const raw = await this.#live.run(() => this.#client.kgByToken(this.#key('pub', publicId), this.#prefix));
    const session = this.#codec.decode(raw);
    return session !== undefined && publicSessionId(session.id) === publicId ? session : undefined;
  }

  async listPage(query: SessionQuery): Promise<SessionPage> {
    checkLimit(query.limit);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const key = query.sub === undefined ? this.#key('public') : this.#key('subject', query.sub);
    const [more, ...rows] = await this.#live.run(() =>
      this.#client.kgPage(
        key, this.#prefix, String(this.#now()), String(query.limit),
        after === undefined ? '' : String(after.expiresAt), after === undefined ? '' : after.publicId,
      ),
    );
    const sessions: Session[] = [];
    for (let i = 0; i < rows.length; i += 3) {
      const session = this.#codec.decode(rows[i + 2]!);
      if (session !== undefined) sessions.push(session);
    }
    const lastScore = rows.at(-3);
    const lastPublicId = rows.at(-2);
    return {
      sessions,
      ...(more === 1 && lastScore !== undefined && lastPublicId !== undefined
        ? { cursor: encodeCursor({ expiresAt: Number(lastScore), publicId: lastPublicId }) }
        : {}),
    };
  }

  async listBySubject(sub: string): Promise<Session[]> {
    return this.#list(this.#key('sub', sub));
  }

  async listByProviderSid(providerSid: string): Promise<Session[]> {
    return this.#list(this.#key('psid', providerSid));
  }

  async rotate(id: string, next: TokenRotation): Promise<Session | undefined> {
    this.#live.guard();
    const now = this.#now();
    if (next.expiresAt <= now) return undefined;
    const result = await this.#live.run(() =>
      this.#client.kgRotate(
        this.#key('session', id), this.#prefix, id, String(now), this.#channel,
        this.#codec.seal(id, 'apiToken', next.apiToken), next.tokenKey, String(next.expiresAt),
        next.idToken === undefined ? '' : this.#codec.seal(id, 'idToken', next.idToken),
        next.refreshToken === undefined ? '' : this.#codec.seal(id, 'refreshToken', next.refreshToken),
        publicSessionId(id),
      ),
    );
    if (result === null) return undefined;
    this.#cache.invalidate(result[1]);
    return this.#codec.decode(result[0]);
  }

  /** A lock shared by every instance on this Redis (see redis-lock.ts). */
  async withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    return withRedisLock({ client: this.#client, liveness: this.#live }, this.#key('lock', name), name, ttlMs, fn);
  }

  async ping(): Promise<void> {
    await this.#live.run(() => this.#client.ping());
  }

  async stats(): Promise<{ sessions: number; revoked: number }> {
    const [sessions, revoked] = await this.#live.run(() => this.#client.kgStats(this.#key('sessions'), this.#prefix, String(this.#now())));
    return { sessions: Number(sessions), revoked: Number(revoked) };
  }

  /**
   * A rate-limit window shared by every instance (`SessionStore.countHit`). The client address is the key's hash tag
   * (and the store prefix's own tag is dropped), so counters spread over a Cluster's slots rather than all landing
   * on Keygate's one. Rejects with UnavailableError at once while Redis is known to be down (the limiter then counts
   * locally, see src/http/rate-limit.ts).
   */
  async countHit(limit: string, key: string, windowMs: number): Promise<{ count: number; resetInMs: number }> {
    const [count, ttl] = await this.#live.run(() => this.#client.kgHit(`${this.#prefix.replace(/[{}]/g, '')}rl:${limit}:{${key}}`, String(Math.ceil(windowMs))));
    return { count: Number(count), resetInMs: Number(ttl) };
  }

  async close(): Promise<void> {
    this.#live.close();
  }

  #key(kind: string, name?: string): string {
    return name === undefined ? `${this.#prefix}${kind}` : `${this.#prefix}${kind}:${name}`;
  }

  async #list(key: string): Promise<Session[]> {
    const raws = await this.#live.run(() => this.#client.kgList(key, this.#prefix));
    const found: Session[] = [];
    for (const raw of raws) {
      const session = this.#codec.decode(raw);
      if (session !== undefined) found.push(session);
    }
    return found;
  }
}
