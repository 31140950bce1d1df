import type { FastifyInstance } from 'fastify';
import { hookRoutes } from './route-hooks.js';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { AUDIT_EVENTS, AUDIT_OUTCOMES } from '../audit/events.js';
import type { SessionStore } from '../session/store.js';

export interface Metrics {
  logins: Counter<'result'>;
  logouts: Counter;
  /** `keygate_audit_events_total{event, outcome}`: one series per audit event and outcome (both fixed lists). */
  audit: Counter<'event' | 'outcome'>;
}

/** The scrape answer: what `GET /metrics` sends, wherever it is served. */
export interface MetricsEndpoint {
  contentType: string;
  render(): Promise<string>;
}

const endpoints = new WeakMap<FastifyInstance, MetricsEndpoint>();

/** The metrics of an app built by `buildApp`, for a listener of their own (`METRICS_ADDRESS`). */
export function metricsEndpointOf(app: FastifyInstance): MetricsEndpoint | undefined {
  return endpoints.get(app);
}

/**
 * Prometheus metrics on `GET /metrics`: requests by route pattern and status (bounded labels: never a raw URL or a
 * provider-supplied code), logins, logouts, and the store's live sessions and revocations read at scrape time.
 * With `onPublicPort: false` (`METRICS_ADDRESS`) the route is not added: `metricsEndpointOf(app)` serves elsewhere.
 * Routes declared before this call are not counted: call it before declaring them.
 */
export function installMetrics(app: FastifyInstance, store: SessionStore, options: { onPublicPort?: boolean } = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'keygate_' });
  // Counted in plain Maps on the hot path (route, then method and status; no string is built) and handed to
  // prom-client at scrape time, instead of prom-client hashing a label object on every request.
  const series: Array<{ labels: { route: string; method: string; status: string }; value: number }> = [];
  const counter = (route: string) => {
    const byMethod = new Map<string, Map<number, { value: number }>>();
    return (method: string, status: number) => {
      let byStatus = byMethod.get(method);
      if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
      const entry = byStatus.get(status);
      if (entry !== undefined) entry.value++;
      else {
        const created = { labels: { route, method, status: String(status) }, value: 1 };
        byStatus.set(status, created);
        series.push(created);
      }
    };
  };
  new Counter({
    name: 'keygate_http_requests_total',
    help: 'HTTP requests by route pattern, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { labels, value } of series) this.inc(labels, value);
    },
  });
  const logins = new Counter({ name: 'keygate_logins_total', help: 'Finished logins by result.', labelNames: ['result'] as const, registers: [registry] });
  const logouts = new Counter({ name: 'keygate_logouts_total', help: 'Logouts that ended a live session or revoked a token.', registers: [registry] });
  const audit = new Counter({
    name: 'keygate_audit_events_total',
    help: 'Audit events by event name and outcome (docs/introspection-audit.md).',
    labelNames: ['event', 'outcome'] as const,
    registers: [registry],
  });
  // Every series exists from the start at 0, so an alert on a rate sees the first event too.
  for (const event of AUDIT_EVENTS) for (const outcome of AUDIT_OUTCOMES) audit.inc({ event, outcome }, 0);
  // The store's counts are read once per scrape; while the store is down they are left out (the scrape still
  // answers, with keygate_store_up 0) rather than failing the whole scrape.
  const readCounts = () => store.stats().then((c) => c, () => undefined);
  new Gauge({
    name: 'keygate_store_up',
    help: '1 when the session store answers, 0 when it cannot be reached.',
    registers: [registry],
    async collect() {
      this.set((await readCounts()) === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: 'keygate_sessions',
    help: 'Live sessions in the store.',
    registers: [registry],
    async collect() {
      const c = await readCounts();
      if (c === undefined) this.reset();
      else this.set(c.sessions);
    },
  });
  new Gauge({
    name: 'keygate_revoked_tokens',
    help: 'Revoked tokens that have not expired yet.',
    registers: [registry],
    async collect() {
      const c = await readCounts();
      if (c === undefined) this.reset();
      else this.set(c.revoked);
    },
  });

  // Each route counts its own answers, with its pattern known when it is declared (so the hot path never asks which
  // route it is: `request.routeOptions` builds a new object each time); what no route took (404, a bad URL) is
  // counted as `unmatched` by the one global hook, which only asks `is404`.
  const byRoute = new Map<string, ReturnType<typeof counter>>();
  const countFor = (route: string) => byRoute.get(route) ?? byRoute.set(route, counter(route)).get(route)!;
  const unmatched = countFor('unmatched');
  hookRoutes(app, 'onResponse', (route) => {
    const count = countFor(route.url);
    return (request, reply, done) => {
      count(request.method, reply.statusCode);
      done();
    };
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) unmatched(request.method, reply.statusCode);
    done();
  });
  const endpoint: MetricsEndpoint = { contentType: registry.contentType, render: () => registry.metrics() };
  endpoints.set(app, endpoint);
  if (options.onPublicPort ?? true) {
    app.get('/metrics', { config: { errorFormat: 'json' } }, async (_request, reply) => {
      const body = await endpoint.render();
      return reply.type(endpoint.contentType).send(body);
    });
  }
  return { logins, logouts, audit };
}
