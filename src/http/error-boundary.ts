import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorAnswer, KeygateError } from '../errors.js';
import { renderErrorPage } from '../pages/error.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** How this route answers errors: an HTML page (browser routes) or RFC 6750 JSON (API routes). */
    errorFormat?: 'html' | 'json';
  }
}

/** Normalizes anything thrown into a KeygateError; client mistakes keep their 4xx, the rest becomes a 500 without detail. */
export function toKeygateError(error: unknown): KeygateError {
  if (error instanceof KeygateError) return error;
  const fastifyError = error as Partial<FastifyError>;
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status === 413) return new KeygateError({ code: 'request_too_large', description: 'The request body is too large.', cause: error });
  if (status === 415) return new KeygateError({ code: 'unsupported_media_type', description: 'The request body has an unsupported content type.', cause: error });
  if (status >= 400 && status < 500) {
    const description =
      fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fastifyError.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'The request body is not valid JSON.'
      : typeof fastifyError.message === 'string' ? fastifyError.message : 'Bad request.';
    // The parser's own status stays (a 4xx it knows better); the code is the generic one.
    return new KeygateError({ status, code: 'invalid_request', description, cause: error });
  }
  return new KeygateError({ code: 'server_error', description: 'Internal error.', expose: false, cause: error });
}

function wantsHtml(request: FastifyRequest): boolean {
  const format = request.routeOptions.config?.errorFormat;
  if (format !== undefined) return format === 'html';
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html') && !accept.includes('application/json');
}

/** The one place that turns errors into answers: RFC 6750 JSON on the API, escaped HTML pages for browsers. */
export function installErrorBoundary(app: FastifyInstance, options: { debug: boolean }): void {
  const answer = (error: KeygateError, request: FastifyRequest, reply: FastifyReply) => {
    const json = errorAnswer(error);
    reply.code(json.status).headers(json.headers);
    if (wantsHtml(request)) {
      const detail = options.debug && error.status >= 500 && error.cause instanceof Error ? String(error.cause.stack ?? error.cause.message) : undefined;
      return reply
        .type('text/html; charset=utf-8')
        .send(renderErrorPage({ status: json.status, code: json.body.error, description: json.body.error_description, ...(detail ? { detail } : {}) }));
    }
    return reply.type('application/json; charset=utf-8').send(json.body);
  };

  app.setErrorHandler((thrown, request, reply) => {
    const error = toKeygateError(thrown);
    if (error.status >= 500) request.log.error({ err: error.cause ?? error, code: error.code }, error.description);
    else request.log.info({ code: error.code, status: error.status }, error.description);
    return answer(error, request, reply);
  });
  app.setNotFoundHandler((request, reply) =>
    answer(new KeygateError({ code: 'not_found', description: `Nothing here: ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}` }), request, reply),
  );
}
