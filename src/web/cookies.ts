import type { CookieSerializeOptions } from '@fastify/cookie';

/**
 * Every cookie Sésame sets is a `__Host-` cookie: Secure, Path=/, no Domain (no subdomain can
 * plant or read it), HttpOnly (no script reads it), SameSite=Lax. `maxAge` in seconds; none
 * makes it last as long as the browser session. (The OpenID provider's own cookies: the same
 * in production, its two path-scoped interaction cookies `__Secure-`; src/oidc/mount.ts.)
 */
export const hostCookie = (maxAge?: number): CookieSerializeOptions => ({
  path: '/',
  secure: true,
  httpOnly: true,
  sameSite: 'lax',
  ...(maxAge === undefined ? {} : { maxAge }),
});
