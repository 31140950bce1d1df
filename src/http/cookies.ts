import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSerializeOptions } from '@fastify/cookie';
import type { ServerConfig } from '../config/types.js';

/** Cookie names and flags: HttpOnly and SameSite=Lax always; Secure and the `__Host-` prefix over https. */
export class Cookies {
  readonly session: string;
  readonly transaction: string;
  readonly #base: CookieSerializeOptions;

  constructor(config: Pick<ServerConfig, 'secure'>) {
    const prefix = config.secure ? '__Host-' : '';
    this.session = `${prefix}keygate_session`;
    this.transaction = `${prefix}keygate_tx`;
    this.#base = { httpOnly: true, sameSite: 'lax', secure: config.secure, path: '/' };
  }

  /** The session id from the signed session cookie, or undefined when absent, forged or garbage. */
  sessionId(request: FastifyRequest): string | undefined {
    const raw = request.cookies[this.session];
    if (raw === undefined || raw.length > 512) return undefined;
    const unsigned = request.unsignCookie(raw);
    return unsigned.valid && unsigned.value !== null && /^[A-Za-z0-9_-]{43}$/.test(unsigned.value) ? unsigned.value : undefined;
  }

  setSession(reply: FastifyReply, id: string, expiresAt: number, now: number): void {
    reply.setCookie(this.session, id, { ...this.#base, signed: true, maxAge: Math.max(1, Math.floor((expiresAt - now) / 1000)) });
  }

  clearSession(reply: FastifyReply): void {
    reply.clearCookie(this.session, this.#base);
  }

  setTransaction(reply: FastifyReply, sealed: string, maxAge: number): void {
    reply.setCookie(this.transaction, sealed, { ...this.#base, maxAge });
  }

  clearTransaction(reply: FastifyReply): void {
    reply.clearCookie(this.transaction, this.#base);
  }
}
