import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import { UnavailableError } from '../errors.js';
import type { LocalCache } from './redis-cache.js';
import type { RedisClient } from './redis-connect.js';
import type { ScriptedClient } from './redis-scripts.js';

/** Heartbeat echoes on the invalidation channel start with this; token keys (base64url) never do. */
const ECHO_MARK = '.echo.';
const UNREACHABLE = 'The session store (Redis) cannot be reached.';

export interface LivenessOptions {
  /** The command connection, with the store's scripts defined. */
  client: ScriptedClient;
  /** The connection that listens on `channel`; defaults to a duplicate of `client`. */
  subscriber?: RedisClient | undefined;
  /** The invalidation channel: each message is a token key to drop from `cache`. */
  channel: string;
  /** The epoch marker's key (see #checkEpoch); it also routes the echo to the node that owns the store's keys. */
  epochKey: string;
  cache: LocalCache;
  /** The heartbeat period: the longest the cache trusts the channel without fresh proof that it carries messages. */
  periodMs: number;
  /** Deadline of each half of a heartbeat. */
  timeoutMs: number;
}

/**
 * Whether the Redis store may answer at all, and whether its local cache may: the two connections, their heartbeat
 * and the invalidation channel that keeps the cache honest.
 *
 * The heartbeat runs twice per period. One half checks the command connection (and the epoch marker); while it fails,
 * or that connection is closed, every command of the store rejects at once with UnavailableError. The other half
 * publishes an echo on the invalidation channel and waits for it to come back through the subscriber. Redis delivers
 * a subscriber's messages in the order they were published, and the echo is published by the node that publishes
 * every invalidation: an echo heard proves that every invalidation published before it was sent has been applied.
 * The cache answers only while such a proof is younger than one period, so a channel that falls silent (its
 * connection open, Redis still answering commands) stops the cache within one period; an echo missing its deadline,
 * or a closed subscriber, also empties the cache, since messages may have been lost.
 */
export class RedisLiveness {
  readonly #client: ScriptedClient;
  readonly #subscriber: RedisClient;
  readonly #channel: string;
  readonly #epochKey: string;
  readonly #cache: LocalCache;
  readonly #periodMs: number;
  readonly #timeoutMs: number;
  /** Tells this instance's echoes from those of the other instances on the channel. */
  readonly #id = randomBytes(9).toString('base64url');
  #sequence = 0;
  /** The echo the current heartbeat waits for. */
  #awaited: { message: string; heard: () => void } | undefined;
  /** The command connection answered the last heartbeat and has not closed since. */
  #healthy = false;
  /** The last echo came back in time and the subscriber has not closed since. */
  #listening = false;
  #subscribed = false;
  /** performance.now() when the last echo that came back was sent. */
  #provenAt = -Infinity;
  /** The last epoch marker seen. */
  #epoch: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Settles on the first heartbeat that finds both connections live. */
  readonly firstBeat: Promise<void>;

  constructor(options: LivenessOptions) {
    this.#client = options.client;
    this.#subscriber = options.subscriber ?? duplicate(options.client);
    this.#channel = options.channel;
    this.#epochKey = options.epochKey;
    this.#cache = options.cache;
    this.#periodMs = options.periodMs;
    this.#timeoutMs = options.timeoutMs;

    // Without a listener ioredis prints every connection error; the heartbeat and the 503s report them instead.
    this.#client.on('error', () => {});
    this.#subscriber.on('error', () => {});
    this.#client.on('close', () => (this.#healthy = false));
    this.#subscriber.on('close', () => this.#deaf());
    this.#subscriber.on('message', (channel: string, message: string) => this.#heard(channel, message));
    this.firstBeat = new Promise<void>((resolve) => {
      const beat = async () => {
        await this.#heartbeat();
        if (this.#healthy && this.#listening) resolve();
        if (!this.#closed) {
          this.#timer = setTimeout(beat, this.#periodMs / 2);
          this.#timer.unref();
        }
      };
      void beat();
    });
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  get listening(): boolean {
    return this.#listening;
  }

  /** Whether the local cache may answer: Redis is live and the channel proved within one period that it carries everything. */
  get cacheTrusted(): boolean {
    return this.#healthy && this.#listening && performance.now() - this.#provenAt <= this.#periodMs;
  }

  /** Fail closed: rejects at once while Redis does not answer the heartbeat. */
  guard(): void {
    if (!this.#healthy) throw new UnavailableError(UNREACHABLE);
  }

  /** Runs one Redis command of the store; any failure (or Redis known to be down) rejects with UnavailableError. */
  async run<T>(command: () => Promise<T>): Promise<T> {
    this.guard();
    try {
      return await command();
    } catch (error) {
      throw new UnavailableError(UNREACHABLE, error);
    }
  }

  /** Stops the heartbeat and closes both connections. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#healthy = false;
    this.#deaf();
    this.#client.disconnect();
    this.#subscriber.disconnect();
  }

  #heard(channel: string, message: string): void {
    if (channel !== this.#channel) return;
    if (!message.startsWith(ECHO_MARK)) this.#cache.invalidate(message);
    else if (message === this.#awaited?.message) this.#awaited.heard();
  }

  async #heartbeat(): Promise<void> {
    const [command, echo] = await Promise.allSettled([
      this.#deadline(async () => {
        await ready(this.#client, this.#timeoutMs);
        await this.#checkEpoch();
      }),
      this.#deadline(() => this.#echo()),
    ]);
    if (this.#closed) return;
    this.#healthy = command.status === 'fulfilled';
    if (echo.status === 'fulfilled') {
      // Messages may have been missed while it was not listening: start from an empty cache.
      if (!this.#listening) this.#cache.clear();
      this.#listening = true;
      this.#provenAt = Math.max(this.#provenAt, echo.value);
    } else this.#deaf();
  }

  /** Publishes an echo and resolves, with performance.now() from just before it was sent, once the subscriber hears it. */
  async #echo(): Promise<number> {
    await ready(this.#subscriber, this.#timeoutMs);
    if (!this.#subscribed) {
      await this.#subscriber.subscribe(this.#channel);
      this.#subscribed = true;
    }
    const message = `${ECHO_MARK}${this.#id}.${++this.#sequence}`;
    const heard = new Promise<void>((resolve) => (this.#awaited = { message, heard: resolve }));
    const sentAt = performance.now();
    await this.#client.kgEcho(this.#epochKey, this.#channel, message);
    await heard;
    return sentAt;
  }

  /**
   * The epoch marker: a random value the first store writes at its key (no TTL). A FLUSHALL, or a Redis that came
   * back without its data, loses it, and publishes nothing: a changed or missing marker drops the local cache.
   */
  async #checkEpoch(): Promise<void> {
    let epoch = await this.#client.get(this.#epochKey);
    if (epoch === null) {
      await this.#client.set(this.#epochKey, randomBytes(12).toString('base64url'), 'NX');
      epoch = await this.#client.get(this.#epochKey);
    }
    if (this.#epoch !== undefined && epoch !== this.#epoch) this.#cache.clear();
    this.#epoch = epoch ?? undefined;
  }

  async #deadline<T>(work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const running = work();
    running.catch(() => undefined);
    try {
      return await Promise.race([
        running,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('heartbeat timed out')), this.#timeoutMs))),
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
