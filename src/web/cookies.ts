import type { CookieSerializeOptions } from '@fastify/cookie';

/**
 * Every cookie Sésame sets is a `__Host-` cookie: Secure, Path=/, no Domain (no subdomain can
 * plant or read it), HttpOnly (no script reads it), SameSite=Lax. `maxAge` in seconds; none
 * makes it last as long as the browser session.
 */
export const hostCookie = (maxAge?: number): CookieSerializeOptions => ({
  path: '/',
  secure: true,
  httpOnly: true,
  sameSite: 'lax',
  ...(maxAge === undefined ? {} : { maxAge }),
});
