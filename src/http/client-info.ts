import type { FastifyRequest } from 'fastify';

/** Longest user agent kept with a session: enough to tell browsers apart, too short to fill a store. */
export const MAX_USER_AGENT_LENGTH = 256;

/**
 * What a session remembers about the client that logged in: its `User-Agent` (control characters dropped, cut to a
 * bound; the client chose it, so it is shown, never trusted) and its address as Fastify resolved it under TRUST_PROXY.
 */
export function clientInfo(request: FastifyRequest): { userAgent?: string; clientAddress?: string } {
  const raw = request.headers['user-agent'];
  const userAgent = typeof raw === 'string' ? [...raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, '')].slice(0, MAX_USER_AGENT_LENGTH).join('').trim() : '';
  const clientAddress = request.ip;
  return {
    ...(userAgent !== '' ? { userAgent } : {}),
    ...(typeof clientAddress === 'string' && clientAddress !== '' ? { clientAddress } : {}),
  };
}
