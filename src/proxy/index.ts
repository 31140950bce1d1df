import type { FastifyInstance } from 'fastify';
import { edgeParts } from '../http/routes/auth.js';
import type { RouteContext } from '../http/context.js';
import { proxyRoutes } from './http.js';
import { createSocketRegistry } from './registry.js';
import { createWebSocketDoor, routeUpgrades } from './websocket.js';


/**
 * Reverse-proxy mode (`UPSTREAM`, docs/edge.md): registered at the root of the app, after Keygate's own routes, which
 * keep precedence (a more specific route always wins over the proxy's `/*`). Nothing happens without `UPSTREAM`.
 */
export async function installProxy(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const upstream = ctx.config.upstream;
  if (upstream === undefined) return;
  const registry = createSocketRegistry(edgeParts(ctx).edge, (error) => app.log.error({ err: error }, 'rechecking an open WebSocket failed'));
  const door = createWebSocketDoor(upstream, ctx.config.upstreamTimeoutMs, registry);
  // preClose: before the server waits for its connections, which upgraded sockets would hold open.
  app.addHook('preClose', (done) => {
    registry.close();
    door.closeAll();
    done();
  });
  routeUpgrades(app);
  await proxyRoutes(app, ctx, door);
}
