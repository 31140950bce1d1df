import type { FastifyBaseLogger } from 'fastify';
import type { Keygate, KeygateAuth } from '../keygate/create.js';
import type { Session, SessionStore } from '../session/store.js';

/** At most one "last used" write per session in this period. */
export const LAST_USED_INTERVAL_MS = 60_000;

/**
 * Records when sessions are used, off the request's critical path: the request never waits for the store, at most
 * one write per session per minute leaves this instance, and a failed write is logged and forgotten (it only costs
 * a stale "last used"). Sessions are told apart by their token key, which every door knows without a lookup.
 */
export class LastUsedTracker {
  /** Token key → when this instance last wrote for it; insertion order is age, so the oldest go first. */
  readonly #written = new Map<string, number>();

  constructor(
    readonly store: SessionStore,
    readonly now: () => number,
    readonly log: Pick<FastifyBaseLogger, 'warn'>,
    readonly maxEntries = 100_000,
  ) {}

  /** A request was authorized with this token. */
  sawToken(tokenKey: string): void {
    const at = this.#due(tokenKey);
    if (at === undefined) return;
    this.#spawn(async () => {
      const session = await this.store.getByToken(tokenKey);
      if (session !== undefined) await this.store.touch(session.id, at);
    });
  }

  /** A request came with this session's cookie. */
  sawSession(session: Session): void {
    const at = this.#due(session.tokenKey);
    if (at !== undefined) this.#spawn(() => this.store.touch(session.id, at));
  }

  /** The time to write, or undefined when this session was written for within the interval. */
  #due(tokenKey: string): number | undefined {
    const at = this.now();
    const last = this.#written.get(tokenKey);
    if (last !== undefined && at - last < LAST_USED_INTERVAL_MS) return undefined;
    this.#written.delete(tokenKey);
    this.#written.set(tokenKey, at);
    if (this.#written.size > this.maxEntries) this.#written.delete(this.#written.keys().next().value!);
    return at;
  }

  #spawn(work: () => Promise<void>): void {
    // setImmediate: not even the store call's synchronous part runs before the answer is on its way.
    setImmediate(() => {
      work().catch((error: unknown) => this.log.warn({ err: error }, 'could not record when a session was last used'));
    });
  }
}

/** The core, with every successful authorization (every door: /protected, /auth, the proxy) reported to `tracker`. */
export function trackingLastUse(keygate: Keygate, tracker: LastUsedTracker): Keygate {
  const seen = (auth: KeygateAuth): KeygateAuth => {
    tracker.sawToken(auth.token.key);
    return auth;
  };
  return Object.freeze({
    ...keygate,
    authorize: (token, policy) => keygate.authorize(token, policy).then(seen),
    authorizeNow(token, policy) {
      const auth = keygate.authorizeNow(token, policy);
      return auth instanceof Promise ? auth.then(seen) : seen(auth);
    },
    authenticate: (request, policy) => keygate.authenticate(request, policy).then(seen),
  } satisfies Keygate);
}
