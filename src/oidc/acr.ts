import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../clock.ts';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { levelRank, meetsLevel, type Level } from '../auth/levels.ts';
import type { Session } from '../auth/sessions.ts';
import { ACR_VALUES, type Acr } from './client-policy.ts';

const isAcr = (v: unknown): v is Acr => typeof v === 'string' && (ACR_VALUES as readonly string[]).includes(v);
const higher = (a: Level, b: Level): Level => (levelRank(a) >= levelRank(b) ? a : b);

/**
 * The level an authorisation request needs: the lowest level it names in `acr_values` (the
 * values are the ones the service accepts), an unknown value read as the client's default —
 * never as lower — and never below the client's minimum. No acr_values: the client's default.
 */
export function requiredLevel(acrValues: unknown, client: { acrMin: Acr; acrDefault: Acr }): Level {
  const asked = typeof acrValues === 'string' ? acrValues.split(' ').filter(Boolean) : [];
  const levels = asked.length === 0 ? [client.acrDefault] : asked.map((v) => (isAcr(v) ? v : client.acrDefault));
  const lowest = levels.reduce((a, b) => (levelRank(b) < levelRank(a) ? b : a));
  return levelRank(lowest) < levelRank(client.acrMin) ? client.acrMin : lowest;
}

/** The client's registered levels, from its metadata (clients.ts: default_acr_values, acr_min). */
export function clientLevels(client: { readonly defaultAcrValues?: readonly string[] | undefined }): { acrMin: Acr; acrDefault: Acr } {
  const extra = client as unknown as Record<string, unknown>;
  const min = extra['acr_min'] ?? extra['acrMin'];
  const acrMin = isAcr(min) ? min : 'eidas1';
  const def = client.defaultAcrValues?.[0];
  return { acrMin, acrDefault: isAcr(def) && levelRank(def) >= levelRank(acrMin) ? def : acrMin };
}

/**
 * Requests the reverse proxy marks as suspicious (its WAF, as FranceConnect does): the name of
 * the header it sets, and the values that mean "suspicious" (lower-case). The proxy must set
 * or strip the header on every request: a client cannot lower the mark with it (any listed
 * value among repeated headers counts), only raise it on its own requests.
 */
export interface SuspiciousRule {
  header: string;
  values: readonly string[];
}

/** The check's reason, as the interaction reads it from `prompt.reasons`. */
export const SUSPICIOUS_REASON = 'suspicious_request';
/** The least a suspicious request needs. */
export const SUSPICIOUS_MIN_LEVEL: Level = 'eidas2';

export function isSuspicious(headers: IncomingHttpHeaders, rule: SuspiciousRule | null): boolean {
  if (!rule) return false;
  const raw = headers[rule.header];
  if (raw === undefined) return false;
  const items = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.split(',')).map((v) => v.trim().toLowerCase());
  return items.some((v) => rule.values.includes(v));
}

export function neededFor(ctx: KoaContextWithOIDC, rule: SuspiciousRule | null = null): Level {
  const client = ctx.oidc.client;
  const levels = client ? clientLevels(client) : { acrMin: 'eidas1' as const, acrDefault: 'eidas1' as const };
  const needed = requiredLevel(ctx.oidc.params?.acr_values, levels);
  return isSuspicious(ctx.req.headers, rule) ? higher(needed, SUSPICIOUS_MIN_LEVEL) : needed;
}

/**
 * What Sésame asserts to a service about a session (`acr`, `amr`): its level, except while the
 * authenticator that gave it is in its cooling-off (added from a session that was not
 * eidas2): then eidas1, and no `mfa`, as for sensitive operations — an authenticator just
 * planted with a phished password and email code must not pass for a strong one.
 */
export function assertedLevel(session: Pick<Session, 'level' | 'amr' | 'sensitiveFrom'>, now: Date): { acr: Level; amr: string[]; coolingOff: boolean } {
  const coolingOff = session.sensitiveFrom !== null && session.sensitiveFrom.getTime() > now.getTime() && levelRank(session.level) > levelRank('eidas1');
  if (!coolingOff) return { acr: session.level, amr: session.amr, coolingOff };
  return { acr: 'eidas1', amr: session.amr.filter((v) => v !== 'mfa'), coolingOff };
}

/**
 * The provider's login prompt, with more checks: a provider session below the level the
 * request needs is sent back to login (our step-up), never answered with its lower acr (the
 * library only does this for *essential* acr claims; acr_values alone would be ignored); a
 * request marked suspicious gets no SSO (prompt=login semantics: only a login given in this
 * interaction satisfies it, and interactions.ts makes that one fresh and at least eidas2).
 */
export function loginPolicy(requests: WeakMap<IncomingMessage, FastifyRequest>, clock: Clock, suspicious: SuspiciousRule | null = null): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider: no login prompt in the base policy');
  login.checks.add(
    new interactionPolicy.Check('acr_below_request', 'the session level is below the requested acr', 'login_required', (ctx) => {
      const acr = ctx.oidc.session?.acr;
      if (!ctx.oidc.session?.accountId) return interactionPolicy.Check.REQUEST_PROMPT;
      return isAcr(acr) && meetsLevel(acr, neededFor(ctx, suspicious)) ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  login.checks.add(
    new interactionPolicy.Check(SUSPICIOUS_REASON, 'the request needs a fresh authentication', 'login_required', (ctx) =>
      isSuspicious(ctx.req.headers, suspicious) && !ctx.oidc.result?.login ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT,
    ),
  );
  // The provider's session follows ours: logged out of Sésame, someone else logged in in this
  // browser, a later login of the same account (another authentication, maybe at a lower
  // level), a step-up, or a cooling-off that started or ended: the provider session no longer
  // describes our session, so the interaction answers again from ours (silently when nothing
  // needs the citizen). Never a silent SSO with the level or auth_time of an earlier session.
  login.checks.add(
    new interactionPolicy.Check('sesame_session', 'the Sésame session ended, belongs to another account, or changed', 'login_required', async (ctx) => {
      const request = requests.get(ctx.req);
      const session = request ? await request.session() : null;
      const op = ctx.oidc.session;
      if (!session || !op || session.accountId !== op.accountId) return interactionPolicy.Check.REQUEST_PROMPT;
      const asserted = assertedLevel(session, clock.now());
      const same = Math.floor(session.authTime.getTime() / 1000) === op.authTime() && asserted.acr === op.acr;
      return same ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}
