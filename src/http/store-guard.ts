import type { FastifyInstance, preHandlerHookHandler } from 'fastify';
import { KeygateError, UnavailableError } from '../errors.js';
import type { SessionStore } from '../session/store.js';
import { hookRoutes } from './route-hooks.js';

/**
 * Refuses to start a login while the session store is down: the user would go through the provider only to fail at
 * the callback. Answers the route's error page (503 `temporarily_unavailable`) instead. Only the `paths` routes
 * carry the hook; call this before they are declared.
 */
export function guardLoginWithStore(app: FastifyInstance, store: SessionStore, paths: readonly string[] = ['/login']): void {
  const guard: preHandlerHookHandler = (_request, _reply, done) => {
    store.ping().then(
      () => done(),
      (error: unknown) =>
        done(
          new UnavailableError(
            'Logging in is not possible right now: the session store cannot be reached. Please try again in a moment.',
            error instanceof KeygateError ? (error.cause ?? error) : error,
          ),
        ),
    );
  };
  hookRoutes(app, 'preHandler', (route) => (paths.includes(route.url) ? guard : undefined));
}
