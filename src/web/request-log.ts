import { randomBytes } from 'node:crypto';
import { CROCKFORD, encodeBase32 } from '../crypto/base32.ts';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Request ids are ours, never taken from a client header (a client could then choose the
 * id that marks its lines in our logs). 80 random bits in Crockford base32, shown to
 * citizens as the incident reference: XXXX-XXXX-XXXX-XXXX.
 */
export function newRequestId(): string {
  const out = encodeBase32(randomBytes(10), CROCKFORD);
  return out.match(/.{4}/g)?.join('-') ?? out;
}

/** What the one line per request says: never the query string, the body or the headers. */
export function requestSummary(method: string, url: string, route: string | null, statusCode: number, elapsedMs: number): Record<string, unknown> {
  return { method, path: url.split('?', 1)[0], route, statusCode, durationMs: Math.round(elapsedMs) };
}

const summary = (request: FastifyRequest, reply: FastifyReply): Record<string, unknown> =>
  requestSummary(request.method, request.url, request.routeOptions.url ?? null, reply.statusCode, reply.elapsedTime);

/**
 * Fastify's own request log lines, replaced: one line per request with the path without its
 * query string, the route template and the outcome. Never the query, the body or the headers
 * (Fastify's lines log whole request and reply objects, cookies included, when the logger has
 * no serializers, as ours has not).
 */
export class RequestLog extends LogController {
  override isLogDisabled(): boolean {
    return false;
  }
  override incomingRequest(): void {}
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) request.log.error({ ...summary(request, reply), err: error }, 'request');
    else request.log.info(summary(request, reply), 'request');
  }
  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    request.log.error({ ...summary(request, reply), err: error }, 'request failed');
  }
  override streamError(error: Error & { code?: string }, request: FastifyRequest): void {
    if (error.code === 'ERR_STREAM_PREMATURE_CLOSE') request.log.info('response stream closed early');
    else request.log.warn({ err: error }, 'response stream failed after the headers were sent');
  }
  override routeNotFound(): void {}
  override writeHeadError(error: Error, request: FastifyRequest): void {
    request.log.error({ err: error }, 'writing the response headers failed');
  }
  override serializerError(error: Error, request: FastifyRequest): void {
    request.log.error({ err: error }, 'serialising the response failed');
  }
}
