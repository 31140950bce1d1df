import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { ServerConfig } from '../config/types.js';

/**
 * Cookie names and flags: HttpOnly, SameSite=Lax and `Path=/` always (with a path in BASE_URL too, so that the
 * application's own requests carry the session to `/auth`); Secure and the `__Host-` prefix over https. With
 * COOKIE_DOMAIN the session cookie gets `Domain=` and so the `__Secure-` prefix (`__Host-` forbids a domain);
 * login transaction cookies stay host-only.
 */
export class Cookies {
  readonly session: string;
  /** Login transaction cookies are `<prefix><id>`, one per login in progress (see transactionName). */
  readonly #transactionPrefix: string;
  readonly #transactionName: RegExp;
  readonly #base: CookieSerializeOptions;
  readonly #session: CookieSerializeOptions;

  constructor(config: Pick<ServerConfig, 'secure'> & { cookieDomain?: string | undefined }) {
    const prefix = config.secure ? '__Host-' : '';
    const domain = config.cookieDomain;
    this.session = `${domain !== undefined && config.secure ? '__Secure-' : prefix}keygate_session`;
    this.#transactionPrefix = `${prefix}keygate_tx_`;
    this.#transactionName = new RegExp(`^${this.#transactionPrefix}[A-Za-z0-9_-]{22}$`);
    this.#base = { httpOnly: true, sameSite: 'lax', secure: config.secure, path: '/' };
    this.#session = domain === undefined ? this.#base : { ...this.#base, domain };
  }

  /** The session id from the signed session cookie, or undefined when absent, forged or garbage. */
  sessionId(request: FastifyRequest): string | undefined {
    const raw = request.cookies[this.session];
    if (raw === undefined || raw.length > 512) return undefined;
    const unsigned = request.unsignCookie(raw);
    return unsigned.valid && unsigned.value !== null && /^[A-Za-z0-9_-]{43}$/.test(unsigned.value) ? unsigned.value : undefined;
  }

  setSession(reply: FastifyReply, id: string, expiresAt: number, now: number): void {
    reply.setCookie(this.session, id, { ...this.#session, signed: true, maxAge: Math.max(1, Math.floor((expiresAt - now) / 1000)) });
  }

  clearSession(reply: FastifyReply): void {
    reply.clearCookie(this.session, this.#session);
  }

  /**
   * The cookie name of the login whose `state` this is, so that the callback finds its own transaction from the query
   * alone. Hashed: any query string maps to a short, fixed-charset name (132 bits, so logins never collide).
   */
  transactionName(state: string): string {
    return this.#transactionPrefix + createHash('sha256').update(state).digest('base64url').slice(0, 22);
  }

  /** Whether a cookie of this name is one of Keygate's (the session cookie or a login transaction cookie). */
  owns(name: string): boolean {
    return name === this.session || this.#transactionName.test(name);
  }

  /** The names of the transaction cookies the request carries, in header order; other names are ignored. */
  transactionNames(request: FastifyRequest): string[] {
    return Object.keys(request.cookies).filter((name) => this.#transactionName.test(name));
  }

  setTransaction(reply: FastifyReply, name: string, sealed: string, maxAge: number): void {
    reply.setCookie(name, sealed, { ...this.#base, maxAge });
  }

  clearTransaction(reply: FastifyReply, name: string): void {
    reply.clearCookie(name, this.#base);
  }
}
