import { hmac } from '../crypto/mac.ts';
import { hostCookie } from '../web/cookies.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Like FranceConnect's device cookie: the browser remembers which accounts logged in from
 * it, as HMACs of account ids (nothing a reader of the cookie can turn back into a person).
 * A login from a browser without the account's mark sends a "new browser" notification; a
 * browser with it keeps its own password-failure counter (see knownBrowserSubject).
 */
export const KNOWN_BROWSER_COOKIE = '__Host-sesame-browser';
const MAX_ACCOUNTS = 10;
const MARK = /^[A-Za-z0-9_-]{22}$/;

const markFor = (macKey: Buffer, accountId: string): string =>
  hmac(macKey, `known-browser\u0000${accountId}`).subarray(0, 16).toString('base64url');

function marks(request: FastifyRequest): string[] {
  return (request.cookies[KNOWN_BROWSER_COOKIE] ?? '').split('.').filter((m) => MARK.test(m)).slice(0, MAX_ACCOUNTS);
}

export const isKnownBrowser = (request: FastifyRequest, macKey: Buffer, accountId: string): boolean => marks(request).includes(markFor(macKey, accountId));

/** Adds the account's mark, most recent first, keeping the cookie small. */
export function rememberBrowser(request: FastifyRequest, reply: FastifyReply, macKey: Buffer, accountId: string): void {
  const mark = markFor(macKey, accountId);
  const value = [mark, ...marks(request).filter((m) => m !== mark)].slice(0, MAX_ACCOUNTS).join('.');
  reply.setCookie(KNOWN_BROWSER_COOKIE, value, hostCookie(400 * 24 * 3600));
}
