import type { FastifyServerOptions } from 'fastify';
import pino, { type DestinationStream } from 'pino';

/** Logs a URL without its query values: `/callback?code=…&state=…` must never reach a log. */
export function redactUrl(url: string): string {
  const index = url.indexOf('?');
  if (index === -1) return url;
  const names = [...new URLSearchParams(url.slice(index + 1)).keys()];
  return `${url.slice(0, index)}?${names.map((n) => `${encodeURIComponent(n)}=…`).join('&')}`;
}

/**
 * The server's pino options: credentials redacted from request lines, URLs without query values. `stream` replaces
 * standard output (tests capture every line the server writes, with exactly these options).
 */
export function serverLoggerOptions(level: string, stream?: DestinationStream): FastifyServerOptions['logger'] {
  return {
    level,
    redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
    // Asynchronous writes (flushed on exit): a flood of refused tokens is logged without blocking the event loop.
    stream: stream ?? pino.destination({ dest: 1, sync: false }),
    serializers: {
      req: (req: { method: string; url: string; ip?: string }) => ({ method: req.method, url: redactUrl(req.url), ip: req.ip }),
    },
  };
}
