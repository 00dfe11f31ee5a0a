import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RawRouteMetrics } from './raw-routes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    httpRequestMetrics: RawRouteMetrics;
  }
}

/**
 * Process metrics are collected once per process (they install GC observers that cannot be
 * removed); HTTP metrics live in a registry per app, so tests can build many apps.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The route template, never the raw URL: bounded label values, no ids or PII in metrics. */
export const routeLabel = (url: string | undefined, is404: boolean): string => (is404 || !url ? 'unmatched' : url);

/** Counts and times every request (shared hooks, so routes in every area are measured). */
export const httpMetrics = fp(
  async (app: FastifyInstance, options: { token: string | null }) => {
    const registry = new Registry();
    const requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by method, route template and status code.',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers: [registry],
    });
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds by method and route template.',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    // Other areas add their own metrics to it (the identity tripwire's counter).
    app.decorate('metricsRegistry', registry);

    const observe = (method: string, route: string, statusCode: number, seconds: number): void => {
      requests.inc({ method, route, status_code: String(statusCode) });
      duration.observe({ method, route }, seconds);
    };
    // For the routes served without Fastify (raw-routes.ts).
    app.decorate('httpRequestMetrics', { observe });

    app.addHook('onResponse', async (request, reply) => {
      observe(request.method, routeLabel(request.routeOptions.url, request.is404), reply.statusCode, reply.elapsedTime / 1000);
    });

    // Counts tell an outsider how an incident is going (violations, failures): with a token
    // configured (required in production), only the scraper that presents it reads them.
    const expected = options.token === null ? null : createHash('sha256').update(options.token).digest();
    app.get('/metrics', { config: { json: true } }, async (request, reply) => {
      if (expected !== null) {
        const given = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
        if (!timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
          return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').send({ error: 'unauthorized' });
        }
      }
      const text = (await processMetrics().metrics()) + (await registry.metrics());
      return reply.type(registry.contentType).send(text);
    });
  },
  { name: 'sesame-metrics' },
);
