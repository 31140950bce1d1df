import { UnavailableError } from '../errors.js';
import type { Session, SessionStore, TokenRotation } from './store.js';

export interface MemoryStoreOptions {
  /** Most live sessions kept; the least recently used goes first. */
  maxEntries: number;
  /** Milliseconds between sweeps of expired entries (default 60 s; 0 disables the timer). */
  sweepIntervalMs?: number;
  now?: () => number;
}

/**
 * The in-memory store: one process, lost on restart. Maps keep insertion order, which gives a cheap LRU by second
 * chance: a read only marks the session as used; eviction walks from the oldest insertion, moves used sessions to
 * the end (unmarked) and drops the first unused one.
 *
 * A read does not re-insert the entry (delete + set) as a plain Map LRU would: with 10,000 sessions, one session read
 * again and again (a key page polling every second, a client hammering /protected with one token) cost 30+ µs per
 * read that way, against 0.3 µs now (docs/benchmarks.md, "one token"). The likely cause: V8 keeps deleted entries
 * in their hash bucket until the table is rebuilt, so every re-insertion of that key walks a growing chain of holes.
 */
export class MemoryStore implements SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #byToken = new Map<string, string>();
  readonly #revoked = new Map<string, number>();
  /** Sessions read since they were (re)inserted: spared once by eviction. */
  readonly #used = new Set<string>();
  /** Tail of each lock's queue: a waiter chains on it. */
  readonly #locks = new Map<string, Promise<void>>();
  readonly #max: number;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryStoreOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) throw new TypeError('maxEntries must be a positive integer');
    this.#max = options.maxEntries;
    this.#now = options.now ?? Date.now;
    const interval = options.sweepIntervalMs ?? 60_000;
    if (interval > 0) {
      this.#timer = setInterval(() => this.sweep(), interval);
      this.#timer.unref();
    }
  }

  async create(session: Session): Promise<void> {
    if (session.expiresAt <= this.#now()) return;
    this.#remove(session.id);
    this.#sessions.set(session.id, session);
    this.#byToken.set(session.tokenKey, session.id);
    if (this.#sessions.size > this.#max) this.#evict(session.id);
  }

  async get(id: string): Promise<Session | undefined> {
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#remove(id);
      return undefined;
    }
    this.#used.add(id);
    return session;
  }

  async getByToken(tokenKey: string): Promise<Session | undefined> {
    const id = this.#byToken.get(tokenKey);
    return id === undefined ? undefined : this.get(id);
  }

  async delete(id: string): Promise<boolean> {
    const session = this.#sessions.get(id);
    if (session === undefined) return false;
    this.#remove(id);
    await this.revokeToken(session.tokenKey, session.expiresAt);
    return session.expiresAt > this.#now();
  }

  /**
   * Revocations are never evicted early (that would bring a revoked token back); they leave when the token
   * expires. Each one needs a token that verified or a live session, and lives at most MAX_TOKEN_LIFETIME.
   */
  async revokeToken(tokenKey: string, expiresAt: number): Promise<void> {
    if (expiresAt <= this.#now()) return;
    const current = this.#revoked.get(tokenKey);
    if (current === undefined || current < expiresAt) this.#revoked.set(tokenKey, expiresAt);
  }

  async isRevoked(tokenKey: string): Promise<boolean> {
    const until = this.#revoked.get(tokenKey);
    if (until === undefined) return false;
    if (until <= this.#now()) {
      this.#revoked.delete(tokenKey);
      return false;
    }
    return true;
  }

  /** A scan: rare operations (log out everywhere, back-channel logout) do not justify a per-session index. */
  async listBySubject(sub: string): Promise<Session[]> {
    return this.#live((session) => session.sub === sub);
  }

  async listByProviderSid(providerSid: string): Promise<Session[]> {
    return this.#live((session) => session.providerSid === providerSid);
  }

  async rotate(id: string, next: TokenRotation): Promise<Session | undefined> {
    const current = await this.get(id);
    if (current === undefined || next.expiresAt <= this.#now()) return undefined;
    const updated: Session = { ...current, ...next };
    if (next.idToken === undefined) delete updated.idToken;
    if (next.refreshToken === undefined) delete updated.refreshToken;
    this.#remove(id);
    this.#sessions.set(id, updated);
    this.#byToken.set(updated.tokenKey, id);
    if (current.tokenKey !== updated.tokenKey) await this.revokeToken(current.tokenKey, current.expiresAt);
    return updated;
  }

  /** One process: a queue per name. A holder that never settles is passed over after `ttlMs`. */
  async withLock<T>(name: string, ttlMs: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.#locks.set(name, tail);
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      previous.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ttlMs))),
    ]);
    clearTimeout(timer);
    if (!waited) {
      release();
      if (this.#locks.get(name) === tail) this.#locks.delete(name);
      throw new UnavailableError(`The lock ${name} is busy.`);
    }
    const lapse = setTimeout(release, ttlMs);
    try {
      return await fn();
    } finally {
      clearTimeout(lapse);
      release();
      if (this.#locks.get(name) === tail) this.#locks.delete(name);
    }
  }

  async ping(): Promise<void> {}

  async stats(): Promise<{ sessions: number; revoked: number }> {
    this.sweep();
    return { sessions: this.#sessions.size, revoked: this.#revoked.size };
  }

  /** Drops every expired entry. */
  sweep(): void {
    const now = this.#now();
    for (const [id, session] of this.#sessions) if (session.expiresAt <= now) this.#remove(id);
    for (const [key, until] of this.#revoked) if (until <= now) this.#revoked.delete(key);
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#sessions.clear();
    this.#byToken.clear();
    this.#used.clear();
    this.#revoked.clear();
  }

  /**
   * Drops least recently used sessions until the bound holds, never the one just created (`keep`): it would otherwise
   * be the first unmarked entry the walk meets when every older session was read. Each pass unmarks what it spares,
   * so the walk ends.
   */
  #evict(keep: string): void {
    for (const [id, session] of this.#sessions) {
      if (this.#sessions.size <= this.#max) return;
      if (id === keep) continue;
      if (this.#used.delete(id)) {
        this.#sessions.delete(id);
        this.#sessions.set(id, session);
      } else this.#remove(id);
    }
  }

  #live(match: (session: Session) => boolean): Session[] {
    const now = this.#now();
    const found: Session[] = [];
    for (const session of this.#sessions.values()) if (session.expiresAt > now && match(session)) found.push(session);
    return found;
  }

  #remove(id: string): void {
    const session = this.#sessions.get(id);
    if (session === undefined) return;
    this.#used.delete(id);
    this.#sessions.delete(id);
    if (this.#byToken.get(session.tokenKey) === id) this.#byToken.delete(session.tokenKey);
  }
}
