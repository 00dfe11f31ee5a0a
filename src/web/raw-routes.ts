import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../logger.ts';
import { newRequestId, requestSummary } from './request-log.ts';
import { applySecurityHeadersRaw } from './security-headers.ts';

/**
 * A route answered without Fastify: its handler writes the raw response itself and answers its
 * own errors. `requestId` is ours, as in every log line.
 */
export type RawHandler = (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<void>;

export interface RawRouteMetrics {
  observe(method: string, route: string, statusCode: number, seconds: number): void;
}

/**
 * Exact paths served straight from Node's request event, before Fastify's router and hooks:
 * the OpenID provider's server-to-server endpoints (src/oidc/machine-endpoints.ts), which need
 * none of the hooks citizen pages do (cookies, language, CSRF, session, a child logger per
 * request): about a tenth of a client-credentials grant's CPU (bench/README.md). Each handler is also a Fastify route,
 * so that `inject()` runs it too; only a listening server takes this lane.
 *
 * What the hooks give every response, each request here still gets: our request id and the
 * one log line (path without query, status, duration), the HTTP metrics, and a 503 once the
 * app is closing. Security headers and the access gate are the handler's (it knows its
 * paths). One instance per app, never shared.
 */
export class RawRoutes {
  readonly #routes = new Map<string, RawHandler>();
  #closing = false;
  #logger: Logger | undefined;
  #metrics: RawRouteMetrics | undefined;
  #production = true;

  add(path: string, handler: RawHandler): void {
    if (this.#routes.has(path)) throw new Error(`raw route ${path} added twice`);
    this.#routes.set(path, handler);
  }

  /** Once the app has its logger and metrics (buildApp). */
  wire(logger: Logger, metrics: RawRouteMetrics, production: boolean): void {
    this.#logger = logger;
    this.#metrics = metrics;
    this.#production = production;
  }

  /** From Fastify's preClose: like Fastify's return503OnClosing, new requests get a 503. */
  closing(): void {
    this.#closing = true;
  }

  /** Fastify's serverFactory: the same HTTP server Fastify makes, with this lane in front of it. */
  readonly serverFactory = (fastifyHandler: RequestListener, options: { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number; maxRequestsPerSocket?: number | null }): Server => {
    const server = createServer((req, res) => {
      const path = (req.url ?? '').split('?', 1)[0] ?? '';
      const handler = this.#routes.get(path);
      if (!handler) {
        fastifyHandler(req, res);
        return;
      }
      this.#serve(handler, path, req, res);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    return server;
  };

  #serve(handler: RawHandler, route: string, req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const requestId = newRequestId();
    // 'close' too: an aborted request still gets its line and its count, once.
    let done = false;
    const finished = (): void => {
      if (done) return;
      done = true;
      const durationMs = performance.now() - started;
      this.#metrics?.observe(req.method ?? '', route, res.statusCode, durationMs / 1000);
      this.#logger?.info({ reqId: requestId, ...requestSummary(req.method ?? '', req.url ?? '', route, res.statusCode, durationMs), ...(res.writableFinished ? {} : { aborted: true }) }, 'request');
    };
    res.once('finish', finished);
    res.once('close', finished);
    if (this.#closing) {
      applySecurityHeadersRaw(res, { production: this.#production });
      res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"error":"temporarily_unavailable"}');
      return;
    }
    handler(req, res, requestId).catch((err: unknown) => {
      // Handlers answer their own errors; this is the last resort, never an unhandled rejection.
      this.#logger?.error({ err, reqId: requestId }, 'raw route failed');
      res.destroy();
    });
  }
}
