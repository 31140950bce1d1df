import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from '../config/types.js';

/** BASE_URL's path without a trailing slash: '' at the root of the origin, '/keygate' under a path. */
export function basePathOf(config: Pick<ServerConfig, 'baseUrl'>): string {
  return config.baseUrl.pathname.replace(/\/+$/, '');
}

/** A Keygate path (`/key`) as the browser must ask for it (`/keygate/key`). */
export function withBase(config: Pick<ServerConfig, 'baseUrl'>, path: string): string {
  return basePathOf(config) + path;
}

/**
 * With a path in BASE_URL, Keygate's pages keep writing their links root-relative (`href="/login"`,
 * `src="/static/…"`, `action="/logout"`), and this one hook puts the path in front of each, so that no page
 * renderer (nor one added later) needs to know where Keygate is mounted. Only attribute values are touched:
 * page text is escaped, so `="/` cannot appear in it. Absolute URLs and values already under the path stay.
 */
export function installBasePath(app: FastifyInstance, config: Pick<ServerConfig, 'baseUrl'>): void {
  const base = basePathOf(config);
  if (base === '') return;
  const attribute = /(\s(?:href|src|action|data-[a-z-]+)=")\/(?![/\\])/g;
  app.addHook('onSend', (_request, reply, payload, done) => {
    const type = reply.getHeader('content-type');
    if (typeof payload !== 'string' || typeof type !== 'string' || !type.startsWith('text/html')) return done(null, payload);
    done(null, payload.replace(attribute, (match, start: string, offset: number) =>
      payload.startsWith(`${base}/`, offset + match.length - 1) ? match : `${start}${base}/`));
  });
}
