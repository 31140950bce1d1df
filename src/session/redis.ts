import { randomBytes } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import { UnavailableError } from '../errors.js';
import { LocalCache } from './redis-cache.js';
import { BY_TOKEN, CREATE, DELETE, LIST, REVOKE, ROTATE, STATS, UNLOCK } from './redis-scripts.js';
import { FieldSealer } from './seal.js';
import type { Session, SessionStore, TokenRotation } from './store.js';

export type RedisClient = Redis | Cluster;

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
  /** Milliseconds between heartbeats (PING on both connections; default 500). */
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

/** The stored form of a session: its tokens sealed (AES-256-GCM), the rest readable by an operator. */
type StoredSession = Session & { v: 1 };

interface Scripts {
  kgCreate(key: string, ...args: string[]): Promise<number>;
  kgByToken(key: string, prefix: string): Promise<string | null>;
  kgDelete(key: string, ...args: string[]): Promise<[number, string?]>;
  kgRevoke(key: string, ...args: string[]): Promise<number>;
  kgRotate(key: string, ...args: string[]): Promise<[string, string] | null>;
  kgList(key: string, prefix: string): Promise<string[]>;
  kgStats(key: string, prefix: string, now: string): Promise<[number, number]>;
  kgUnlock(key: string, token: string): Promise<number>;
}

/** A second connection like the first (same topology, options and credentials). */
function duplicate(client: RedisClient): RedisClient {
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}

/** Resolves when the connection is ready (at once if it is), or after `ms` anyway (the command that follows then fails). */
function ready(client: RedisClient, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    client.once('ready', done);
  });
}

const SEALED_FIELDS = ['apiToken', 'idToken', 'refreshToken'] as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The shared store: sessions, token lookups and revocations in Redis, with TTLs equal to the token's expiry, atomic
 * multi-key changes (Lua), encrypted tokens, and a local cache kept honest by pub/sub invalidation.
 *
 * Fail closed: a heartbeat PINGs both connections; while it fails (or either connection is closed) every operation
 * rejects at once with `UnavailableError` and the local cache is dropped, so nothing is answered from state that can
 * no longer be kept in sync. When Redis answers again the next heartbeat brings the store back by itself.
 *
 * Keys (with the default prefix): `keygate:session:<id>` (JSON, tokens sealed), `keygate:token:<tokenKey>` (session
 * id), `keygate:revoked:<tokenKey>` (expiry, ms), `keygate:sub:<sub>` and `keygate:psid:<sid>` (sets of session ids),
 * `keygate:sessions` and `keygate:revocations` (sorted sets by expiry, for counts), `keygate:lock:<name>`,
 * `keygate:epoch` (a marker whose loss reveals a flushed or emptied Redis);
 * invalidations on the channel `keygate:invalidate`.
 */
export class RedisStore implements SessionStore {
  readonly #client: RedisClient & Scripts;
  readonly #subscriber: RedisClient;
  readonly #sealer: FieldSealer;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #now: () => number;
  readonly #heartbeatMs: number;
  readonly #heartbeatTimeoutMs: number;
  readonly #cache: LocalCache;
  /** The command connection answered the last heartbeat and has not closed since. */
  #healthy = false;
  /** The invalidation channel is subscribed, answered the last heartbeat and has not closed since. */
  #listening = false;
  #subscribed = false;
  /** performance.now() of the last heartbeat the subscriber answered. */
  #lastHeard = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** The last epoch marker seen (see #checkEpoch). */
  #epoch: string | undefined;
  #firstBeat: Promise<void> | undefined;

  /** Builds the store and waits (at most `waitMs`) for its first good heartbeat; a store that is down recovers later by itself. */
  static async open(options: RedisStoreOptions, waitMs = 2_000): Promise<RedisStore> {
    const store = new RedisStore(options);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([store.#firstBeat, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    return store;
  }

  constructor(options: RedisStoreOptions) {
    this.#client = options.client as RedisClient & Scripts;
    this.#subscriber = options.subscriber ?? duplicate(options.client);
    this.#sealer = new FieldSealer(options.secretKeys);
    this.#prefix = options.prefix ?? 'keygate:';
    this.#channel = `${this.#prefix}invalidate`;
    this.#now = options.now ?? Date.now;
    this.#heartbeatMs = options.heartbeatMs ?? 500;
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 1_000;
    this.#cache = new LocalCache(options.cacheEntries ?? 10_000, options.cacheMaxAgeMs ?? 5_000);

    const scripts = { kgCreate: CREATE, kgByToken: BY_TOKEN, kgDelete: DELETE, kgRevoke: REVOKE, kgRotate: ROTATE, kgList: LIST, kgStats: STATS, kgUnlock: UNLOCK };
    for (const [name, lua] of Object.entries(scripts)) this.#client.defineCommand(name, { numberOfKeys: 1, lua });

    // Without a listener ioredis prints every connection error; the heartbeat and the 503s report them instead.
    this.#client.on('error', () => {});
    this.#subscriber.on('error', () => {});
    this.#client.on('close', () => (this.#healthy = false));
    this.#subscriber.on('close', () => this.#deaf());
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) this.#cache.invalidate(message);
    });
    this.#firstBeat = new Promise<void>((resolve) => {
      const beat = async () => {
        await this.#heartbeat();
        if (this.#healthy && this.#listening) resolve();
        if (!this.#closed) {
          this.#timer = setTimeout(beat, this.#heartbeatMs);
          this.#timer.unref();
        }
      };
      void beat();
    });
  }

  /** Whether Redis answered the last heartbeat: while it does not, every operation fails with UnavailableError. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** Whether the invalidation channel is live: only then does the local cache answer. */
  get listening(): boolean {
    return this.#listening;
  }

  async create(session: Session): Promise<void> {
    this.#guard();
    const now = this.#now();
    if (session.expiresAt <= now) return;
    const stored: StoredSession = { ...this.#seal(session), v: 1 };
    await this.#run(() =>
      this.#client.kgCreate(
        this.#key('session', session.id), this.#prefix, session.id, JSON.stringify(stored), session.tokenKey, session.sub,
        session.providerSid ?? '', String(session.expiresAt), String(now),
      ),
    );
  }

  async get(id: string): Promise<Session | undefined> {
    this.#guard();
    const raw = await this.#run(() => this.#client.get(this.#key('session', id)));
    return this.#decode(raw);
  }

  async getByToken(tokenKey: string): Promise<Session | undefined> {
    this.#guard();
    if (this.#cacheLive()) {
      const cached = this.#cache.session(tokenKey);
      if (cached !== undefined) return cached.expiresAt > this.#now() ? cached : undefined;
    }
    const generation = this.#cache.generation;
    const raw = await this.#run(() => this.#client.kgByToken(this.#key('token', tokenKey), this.#prefix));
    const session = this.#decode(raw);
    if (session === undefined || session.tokenKey !== tokenKey) return undefined;
    if (this.#cacheLive()) this.#cache.putSession(tokenKey, session, generation);
    return session;
  }

  async delete(id: string): Promise<boolean> {
    this.#guard();
    const [alive, tokenKey] = await this.#run(() =>
      this.#client.kgDelete(this.#key('session', id), this.#prefix, id, String(this.#now()), this.#channel),
    );
    // The subscriber hears it too; this makes it immediate for this instance.
    if (tokenKey !== undefined) this.#cache.invalidate(tokenKey);
    return alive === 1;
  }

  async revokeToken(tokenKey: string, expiresAt: number): Promise<void> {
    this.#guard();
    const now = this.#now();
    if (expiresAt <= now) return;
    await this.#run(() =>
      this.#client.kgRevoke(this.#key('revoked', tokenKey), this.#prefix, tokenKey, String(Math.ceil(expiresAt)), String(now), this.#channel),
    );
    this.#cache.invalidate(tokenKey);
  }

  async isRevoked(tokenKey: string): Promise<boolean> {
    this.#guard();
    if (this.#cacheLive() && this.#cache.notRevoked(tokenKey)) return false;
    const generation = this.#cache.generation;
    const until = await this.#run(() => this.#client.get(this.#key('revoked', tokenKey)));
    const revoked = until !== null && Number(until) > this.#now();
    // Only "not revoked" is cached: it is the answer an invalidation must be able to take back.
    if (!revoked && this.#cacheLive()) this.#cache.putNotRevoked(tokenKey, generation);
    return revoked;
  }

  async listBySubject(sub: string): Promise<Session[]> {
    return this.#list(this.#key('sub', sub));
  }

  async listByProviderSid(providerSid: string): Promise<Session[]> {
    return this.#list(this.#key('psid', providerSid));
  }

  async rotate(id: string, next: TokenRotation): Promise<Session | undefined> {
    this.#guard();
    const now = this.#now();
    if (next.expiresAt <= now) return undefined;
    const result = await this.#run(() =>
      this.#client.kgRotate(
        this.#key('session', id), this.#prefix, id, String(now), this.#channel,
        this.#sealer.seal(next.apiToken, `${id}:apiToken`), next.tokenKey, String(next.expiresAt),
        next.idToken === undefined ? '' : this.#sealer.seal(next.idToken, `${id}:idToken`),
        next.refreshToken === undefined ? '' : this.#sealer.seal(next.refreshToken, `${id}:refreshToken`),
      ),
    );
    if (result === null) return undefined;
    this.#cache.invalidate(result[1]);
    return this.#decode(result[0]);
  }

  /**
   * A Redis lock shared by every instance: `SET NX PX ttlMs` with a random holder token, retried with a short
   * backoff until `ttlMs` has passed; released by a compare-and-delete script (never someone else's lock).
   */
  async withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const key = this.#key('lock', name);
    const holder = randomBytes(16).toString('base64url');
    const deadline = performance.now() + ttlMs;
    let delay = 5;
    for (;;) {
      this.#guard();
      const taken = await this.#run(() => this.#client.set(key, holder, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX'));
      if (taken === 'OK') break;
      if (performance.now() + delay > deadline) throw new UnavailableError(`The lock ${name} is busy.`);
      await sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
    try {
      return await fn();
    } finally {
      // If this fails the lock lapses after ttlMs by itself.
      await this.#client.kgUnlock(key, holder).catch(() => undefined);
    }
  }

  async ping(): Promise<void> {
    this.#guard();
    await this.#run(() => this.#client.ping());
  }

  async stats(): Promise<{ sessions: number; revoked: number }> {
    this.#guard();
    const [sessions, revoked] = await this.#run(() => this.#client.kgStats(this.#key('sessions'), this.#prefix, String(this.#now())));
    return { sessions: Number(sessions), revoked: Number(revoked) };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#healthy = false;
    this.#deaf();
    this.#client.disconnect();
    this.#subscriber.disconnect();
  }

  #key(kind: string, name?: string): string {
    return name === undefined ? `${this.#prefix}${kind}` : `${this.#prefix}${kind}:${name}`;
  }

  /**
   * PINGs both connections, each within the heartbeat timeout. The command connection decides whether the store
   * answers at all; the subscriber decides whether the local cache may (when it fails alone, reads go to Redis).
   */
  async #heartbeat(): Promise<void> {
    const [command, subscriber] = await Promise.allSettled([
      this.#deadline(async () => {
        await ready(this.#client, this.#heartbeatTimeoutMs);
        await this.#checkEpoch();
      }),
      this.#deadline(async () => {
        await ready(this.#subscriber, this.#heartbeatTimeoutMs);
        if (!this.#subscribed) {
          await this.#subscriber.subscribe(this.#channel);
          this.#subscribed = true;
        }
        await this.#subscriber.ping();
      }),
    ]);
    if (this.#closed) return;
    this.#healthy = command.status === 'fulfilled';
    if (subscriber.status === 'fulfilled') {
      // Messages may have been missed while it was not listening: start from an empty cache.
      if (!this.#listening) this.#cache.clear();
      this.#listening = true;
      this.#lastHeard = performance.now();
    } else this.#deaf();
  }

  /**
   * The epoch marker: a random value the first store writes at `<prefix>epoch` (no TTL). A FLUSHALL, or a Redis that
   * came back without its data, loses it, and publishes nothing: a changed or missing marker drops the local cache.
   */
  async #checkEpoch(): Promise<void> {
    const key = this.#key('epoch');
    let epoch = await this.#client.get(key);
    if (epoch === null) {
      await this.#client.set(key, randomBytes(12).toString('base64url'), 'NX');
      epoch = await this.#client.get(key);
    }
    if (this.#epoch !== undefined && epoch !== this.#epoch) this.#cache.clear();
    this.#epoch = epoch ?? undefined;
  }

  async #deadline(work: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const running = work();
    running.catch(() => undefined);
    try {
      await Promise.race([
        running,
        new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('heartbeat timed out')), this.#heartbeatTimeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The invalidation channel may miss messages from now on: forget everything cached. */
  #deaf(): void {
    this.#listening = false;
    this.#cache.clear();
  }

  /** The cache may answer only while Redis and the invalidation channel are known to be live. */
  #cacheLive(): boolean {
    return this.#healthy && this.#listening && performance.now() - this.#lastHeard <= this.#heartbeatMs + this.#heartbeatTimeoutMs;
  }

  #guard(): void {
    if (!this.#healthy) throw new UnavailableError('The session store (Redis) cannot be reached.');
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new UnavailableError('The session store (Redis) cannot be reached.', error);
    }
  }

  async #list(key: string): Promise<Session[]> {
    this.#guard();
    const raws = await this.#run(() => this.#client.kgList(key, this.#prefix));
    const found: Session[] = [];
    for (const raw of raws) {
      const session = this.#decode(raw);
      if (session !== undefined) found.push(session);
    }
    return found;
  }

  #seal(session: Session): Session {
    const sealed: Session = { ...session };
    for (const field of SEALED_FIELDS) {
      const value = session[field];
      if (value !== undefined) sealed[field] = this.#sealer.seal(value, `${session.id}:${field}`);
    }
    return sealed;
  }

  /** A stored session back in clear, or undefined when it is absent, expired by the store's clock, or cannot be opened. */
  #decode(raw: string | null): Session | undefined {
    if (raw === null) return undefined;
    let stored: StoredSession;
    try {
      stored = JSON.parse(raw) as StoredSession;
    } catch {
      return undefined;
    }
    if (typeof stored.expiresAt !== 'number' || stored.expiresAt <= this.#now()) return undefined;
    const { v: _version, ...session } = stored;
    for (const field of SEALED_FIELDS) {
      const value = session[field];
      if (value === undefined) continue;
      const opened = this.#sealer.open(value, `${session.id}:${field}`);
      // Sealed under a key no longer configured (or tampered with): the session cannot be used.
      if (opened === undefined) return undefined;
      session[field] = opened;
    }
    return session;
  }
}
