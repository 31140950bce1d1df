import type { FastifyInstance, RouteOptions } from 'fastify';

type HookName = 'onRequest' | 'preHandler' | 'onResponse';
type Hook<N extends HookName> = NonNullable<RouteOptions[N]> extends infer H ? (H extends readonly unknown[] ? H[number] : H) : never;

/**
 * Adds a hook to each route as it is declared (Fastify's `onRoute`): `hookFor` returns the route's hook, or undefined
 * to leave it alone. Used instead of a global hook that would run on every request only to ask which route it is
 * (`request.routeOptions` builds a new object each time). The hook runs before the route's own hooks of the same
 * kind. Call it before the routes are declared.
 */
export function hookRoutes<N extends HookName>(app: FastifyInstance, name: N, hookFor: (route: RouteOptions) => Hook<N> | undefined): void {
  app.addHook('onRoute', (route) => {
    const hook = hookFor(route);
    if (hook === undefined) return;
    const own = route[name];
    (route as unknown as Record<HookName, unknown>)[name] = own === undefined ? [hook] : [hook, ...(Array.isArray(own) ? own : [own])];
  });
}

/** True when the route is declared for `url` (exactly) and for a method other than those excluded. */
export function routeIs(route: RouteOptions, url: string, exceptMethods: readonly string[] = []): boolean {
  if (route.url !== url) return false;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  return methods.some((method) => !exceptMethods.includes(method));
}
