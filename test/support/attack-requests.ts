import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { CookieJar, form } from './app.ts';

/**
 * Requests as an attacker builds them: by hand, with the cookies and the token they choose,
 * and the list of every POST route the app has (so a new form cannot be forgotten).
 */
export async function forgedPost(
  app: FastifyInstance,
  url: string,
  o: { jar: CookieJar; fields?: Record<string, string>; token?: string; headers?: Record<string, string>; ip?: string },
): Promise<LightMyRequestResponse> {
  const body = form({ ...(o.token === undefined ? {} : { _csrf: o.token }), ...o.fields });
  return app.inject({
    method: 'POST',
    url,
    cookies: o.jar.cookies(),
    headers: { ...body.headers, ...o.headers },
    payload: body.payload,
    remoteAddress: o.ip ?? '203.0.113.66',
  });
}

/**
 * Every POST route pattern of a ready app (`/login/:flow/send`), from Fastify's route tree.
 * Lines look like `│   └── /:flow (POST)`; a node without `(POST)` only carries a prefix.
 */
export function postRoutes(app: FastifyInstance): string[] {
  const tree = app.printRoutes({ commonPrefix: false, method: 'POST' });
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(.*)$/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(m[2] ?? '');
    if ((m[3] ?? '').includes('POST')) routes.push(stack.join(''));
  }
  return routes;
}
