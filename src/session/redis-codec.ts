import { keyMismatch } from '../errors.js';
import { FieldSealer } from './seal.js';
import type { Session } from './store.js';

/** The stored form of a session: its tokens sealed (AES-256-GCM), the rest readable by an operator. */
type StoredSession = Session & { v: 1 };

/** The fields that hold tokens: sealed at rest, each bound to its session id and field name. */
const SEALED_FIELDS = ['apiToken', 'idToken', 'refreshToken'] as const;
type SealedField = (typeof SEALED_FIELDS)[number];

/**
 * Sessions to and from the JSON the Redis store keeps. The tokens are sealed with keys derived from SECRET_KEY (the
 * first seals, all open), so a dump of Redis yields no usable token; the rest stays readable.
 */
export class SessionCodec {
  readonly #sealer: FieldSealer;

  /** `now` is the store's clock: a stored session past its expiry by it decodes to nothing. */
  constructor(secretKeys: readonly string[], readonly now: () => number) {
    this.#sealer = new FieldSealer(secretKeys);
  }

  encode(session: Session): string {
    const stored: StoredSession = { ...session, v: 1 };
    for (const field of SEALED_FIELDS) {
      const value = session[field];
      if (value !== undefined) stored[field] = this.seal(session.id, field, value);
    }
    return JSON.stringify(stored);
  }

  /** One token of session `id`, sealed as `encode` seals it (the rotate script writes it into the stored JSON). */
  seal(id: string, field: SealedField, value: string): string {
    return this.#sealer.seal(value, `${id}:${field}`);
  }

  /** A stored session back in clear, or undefined when it is absent, expired by the store's clock, or cannot be opened. */
  decode(raw: string | null): Session | undefined {
    if (raw === null) return undefined;
    let stored: StoredSession;
    try {
      stored = JSON.parse(raw) as StoredSession;
    } catch {
      return undefined;
    }
    if (typeof stored.expiresAt !== 'number' || stored.expiresAt <= this.now()) return undefined;
    const { v: _version, ...session } = stored;
    for (const field of SEALED_FIELDS) {
      const value = session[field];
      if (value === undefined) continue;
      const opened = this.#sealer.open(value, `${session.id}:${field}`);
      // Sealed under another SECRET_KEY: say so, since "the login has ended" would send the operator the wrong way.
      if (opened === undefined && !this.#sealer.holdsKeyOf(value)) throw keyMismatch();
      // Tampered with: the session cannot be used.
      if (opened === undefined) return undefined;
      session[field] = opened;
    }
    return session;
  }
}
