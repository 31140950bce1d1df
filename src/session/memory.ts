import { UnavailableError } from '../errors.js';
import { checkLimit, decodeCursor, encodeCursor, isAfter, type PagePosition } from './cursor.js';
import { publicSessionId } from './public-id.js';
import type { Session, SessionPage, SessionQuery, SessionStore, TokenRotation } from './store.js';

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
  /** Public id → session id, and back (the digest is computed once per session). */
  readonly #byPublicId = new Map<string, string>();
  readonly #publicIds = new Map<string, string>();
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
    const publicId = publicSessionId(session.id);
    this.#byPublicId.set(publicId, session.id);
    this.#publicIds.set(session.id, publicId);
    if (this.#sessions.size > this.#max) this.#evict(session.id);
  }

  async get(id: string): Promise<Session | undefined> {
    return this.#alive(id);
  }

  async getByToken(tokenKey: string): Promise<Session | undefined> {
    return this.peekByToken(tokenKey) ?? undefined;
  }

  /** One process's memory: always known at once. */
  peekByToken(tokenKey: string): Session | null {
    const id = this.#byToken.get(tokenKey);
    return (id === undefined ? undefined : this.#alive(id)) ?? null;
  }

  #alive(id: string): Session | undefined {
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.#now()) {
      this.#remove(id);
      return undefined;
    }
    this.#used.add(id);
    return session;
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
    return this.peekRevoked(tokenKey);
  }

  peekRevoked(tokenKey: string): boolean {
    const until = this.#revoked.get(tokenKey);
    if (until === undefined) return false;
    if (until <= this.#now()) {
      this.#revoked.delete(tokenKey);
      return false;
    }
    return true;
  }

  async touch(id: string, at: number): Promise<void> {
    const session = this.#sessions.get(id);
    if (session === undefined || session.expiresAt <= this.#now() || (session.lastUsedAt ?? -Infinity) >= at) return;
    // A new object: callers may hold the old one, and a session read from the store is a snapshot.
    this.#sessions.set(id, { ...session, lastUsedAt: at });
  }

  async getByPublicId(publicId: string): Promise<Session | undefined> {
    const id = this.#byPublicId.get(publicId);
    return id === undefined ? undefined : this.get(id);
  }

  /**
   * A scan and a sort per page: one process holds at most `maxEntries` sessions, and listings are rare (a user's own
   * list, an administrator's search), so an ordered index would cost every login for little.
   */
  async listPage(query: SessionQuery): Promise<SessionPage> {
    checkLimit(query.limit);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const positioned: Array<{ session: Session; position: PagePosition }> = [];
    for (const session of this.#live((s) => query.sub === undefined || s.sub === query.sub)) {
      const position = { expiresAt: session.expiresAt, publicId: this.#publicIds.get(session.id)! };
      if (after === undefined || isAfter(position, after)) positioned.push({ session, position });
    }
    positioned.sort((a, b) => (isAfter(a.position, b.position) ? 1 : -1));
    const page = positioned.slice(0, query.limit);
    const last = page.at(-1);
    return {
      sessions: page.map((p) => p.session),
      ...(positioned.length > query.limit && last !== undefined ? { cursor: encodeCursor(last.position) } : {}),
    };
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
    const publicId = publicSessionId(id);
    this.#byPublicId.set(publicId, id);
    this.#publicIds.set(id, publicId);
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
    this.#byPublicId.clear();
    this.#publicIds.clear();
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
    const publicId = this.#publicIds.get(id);
    if (publicId !== undefined) this.#byPublicId.delete(publicId);
    this.#publicIds.delete(id);
  }
}
