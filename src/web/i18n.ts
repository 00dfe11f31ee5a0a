import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hostCookie } from './cookies.ts';
import { en } from './messages/en.ts';
import { fr, type MessageKey, type Messages } from './messages/fr.ts';

export type { MessageKey };
export type Locale = 'fr' | 'en';
export const LOCALES: readonly Locale[] = ['fr', 'en'];
export const DEFAULT_LOCALE: Locale = 'fr';
export const LANG_COOKIE = '__Host-sesame-lang';

const catalogues: Record<Locale, Messages> = { fr, en };

export const isLocale = (value: unknown): value is Locale => value === 'fr' || value === 'en';

/** The message in that locale, with `{name}` variables replaced (not escaped: `html` does that). */
export function t(locale: Locale, key: MessageKey, vars: Record<string, string | number> = {}): string {
  const message = catalogues[locale][key];
  // Most messages have no variable: a page renders dozens of them.
  return message.includes('{') ? message.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole)) : message;
}

/** First of fr/en in the Accept-Language header by decreasing q, else French. */
export function negotiate(acceptLanguage: string | undefined): Locale {
  if (!acceptLanguage) return DEFAULT_LOCALE;
  const ranked = acceptLanguage
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { lang: tag.trim().toLowerCase().split('-')[0], q: q ? Number(q.slice(2)) : 1, index };
    })
    .filter((r) => Number.isFinite(r.q) && r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked.map((r) => r.lang).find(isLocale) ?? DEFAULT_LOCALE;
}

function queryLang(request: FastifyRequest): Locale | undefined {
  const query = request.query;
  const lang = typeof query === 'object' && query !== null ? (query as Record<string, unknown>).lang : undefined;
  return isLocale(lang) ? lang : undefined;
}

const resolved = new WeakMap<FastifyRequest, Locale>();

/** The request's language: `?lang=`, else the language cookie, else Accept-Language, else French. */
export function localeOf(request: FastifyRequest): Locale {
  let locale = resolved.get(request);
  if (!locale) {
    // No cookies yet when Fastify refuses a malformed URL before the cookie plugin runs.
    const cookie = request.cookies?.[LANG_COOKIE];
    locale = queryLang(request) ?? (isLocale(cookie) ? cookie : negotiate(request.headers['accept-language']));
    resolved.set(request, locale);
  }
  return locale;
}

/**
 * A query-only relative link to the same page in another language. Relative on purpose: it
 * cannot point to another host whatever the request path looks like.
 */
export function switchLanguageHref(request: FastifyRequest, to: Locale): string {
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  const params = new URLSearchParams(query);
  params.set('lang', to);
  return `?${params.toString()}`;
}

/** Remembers an explicit `?lang=` choice in a cookie, so the next pages keep it. */
export const i18nPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', async (request, reply) => {
      const chosen = queryLang(request);
      if (chosen && request.cookies[LANG_COOKIE] !== chosen) {
        reply.setCookie(LANG_COOKIE, chosen, hostCookie(365 * 24 * 3600));
      }
    });
  },
  { name: 'sesame-i18n', dependencies: ['@fastify/cookie'] },
);
