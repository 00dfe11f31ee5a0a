import type { FastifyRequest } from 'fastify';
import { describeUserAgent } from './user-agent.ts';

/** Who is asking, as far as a request tells: for throttling, sessions and notifications. */
export interface ClientInfo {
  /** request.ip: the socket address, or the proxy's X-Forwarded-For when SESAME_TRUST_PROXY is set. */
  ip: string;
  userAgent: string | null;
  browser: string | null;
  os: string | null;
}

export function clientOf(request: FastifyRequest): ClientInfo {
  const ua = request.headers['user-agent'];
  const userAgent = typeof ua === 'string' && ua !== '' ? ua.slice(0, 512) : null;
  return { ip: request.ip, userAgent, ...describeUserAgent(userAgent ?? undefined) };
}
