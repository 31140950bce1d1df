import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';

/** Liveness and readiness (store and provider discovery reachable). */
export function healthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/healthz', { config: { errorFormat: 'json' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { errorFormat: 'json' } }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    await Promise.all([
      ctx.store.ping().then(() => (checks.store = 'ok'), () => (checks.store = 'unreachable')),
      ctx.keygate.issuer.discover().then(() => (checks.provider = 'ok'), () => (checks.provider = 'unreachable')),
    ]);
    const ready = checks.store === 'ok' && checks.provider === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', checks });
  });
}
