import type { Session } from './store.js';

interface Entry<T> {
  value: T;
  /** performance.now() when it was stored. */
  at: number;
}

/**
 * The local cache of one RedisStore instance: token key → session and token key → "not revoked", bounded (least
 * recently used first out) and aged. It is only as honest as the invalidation channel: the store clears it whenever
 * that channel may have missed a message, and consults it only while the channel is known to be live.
 *
 * `generation` moves on every invalidation and every clear; a read that started under one generation may fill the
 * cache only if the generation has not moved meanwhile (an invalidation may have overtaken the read's answer).
 */
export class LocalCache {
  readonly #sessions = new Map<string, Entry<Session>>();
  readonly #notRevoked = new Map<string, Entry<true>>();
  #generation = 0;

  constructor(readonly maxEntries: number, readonly maxAgeMs: number) {}

  get generation(): number {
    return this.#generation;
  }

  session(tokenKey: string): Session | undefined {
    return this.#read(this.#sessions, tokenKey);
  }

  notRevoked(tokenKey: string): boolean {
    return this.#read(this.#notRevoked, tokenKey) === true;
  }

  putSession(tokenKey: string, session: Session, generation: number): void {
    this.#write(this.#sessions, tokenKey, session, generation);
  }

  putNotRevoked(tokenKey: string, generation: number): void {
    this.#write(this.#notRevoked, tokenKey, true, generation);
  }

  /** A token was revoked, rotated away or its session ended somewhere. */
  invalidate(tokenKey: string): void {
    this.#generation++;
    this.#sessions.delete(tokenKey);
    this.#notRevoked.delete(tokenKey);
  }

  clear(): void {
    this.#generation++;
    this.#sessions.clear();
    this.#notRevoked.clear();
  }

  get size(): number {
    return this.#sessions.size + this.#notRevoked.size;
  }

  #read<T>(map: Map<string, Entry<T>>, key: string): T | undefined {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (performance.now() - entry.at > this.maxAgeMs) {
      map.delete(key);
      return undefined;
    }
    map.delete(key);
    map.set(key, entry);
    return entry.value;
  }

  #write<T>(map: Map<string, Entry<T>>, key: string, value: T, generation: number): void {
    if (generation !== this.#generation || this.maxEntries === 0) return;
    map.delete(key);
    map.set(key, { value, at: performance.now() });
    while (map.size > this.maxEntries) map.delete(map.keys().next().value as string);
  }
}
