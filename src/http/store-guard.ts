import type { FastifyInstance } from 'fastify';
import { KeygateError, UnavailableError } from '../errors.js';
import type { SessionStore } from '../session/store.js';

/**
 * Refuses to start a login while the session store is down: the user would go through the provider only to fail at
 * the callback. Answers the route's error page (503 `temporarily_unavailable`) instead.
 */
export function guardLoginWithStore(app: FastifyInstance, store: SessionStore, paths: readonly string[] = ['/login']): void {
  app.addHook('preHandler', async (request) => {
    if (!paths.includes(request.routeOptions.url ?? '')) return;
    try {
      await store.ping();
    } catch (error) {
      throw new UnavailableError(
        'Logging in is not possible right now: the session store cannot be reached. Please try again in a moment.',
        error instanceof KeygateError ? (error.cause ?? error) : error,
      );
    }
  });
}
