import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { levelRank, meetsLevel, type Level } from '../auth/levels.ts';
import { ACR_VALUES, type Acr } from './client-policy.ts';

const isAcr = (v: unknown): v is Acr => typeof v === 'string' && (ACR_VALUES as readonly string[]).includes(v);

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

export function neededFor(ctx: KoaContextWithOIDC): Level {
  const client = ctx.oidc.client;
  const levels = client ? clientLevels(client) : { acrMin: 'eidas1' as const, acrDefault: 'eidas1' as const };
  return requiredLevel(ctx.oidc.params?.acr_values, levels);
}

/**
 * The provider's login prompt, with one more check: a provider session below the level the
 * request needs is sent back to login (our step-up), never answered with its lower acr. The
 * library only does this for *essential* acr claims; acr_values alone would be ignored.
 */
export function loginPolicy(requests: WeakMap<IncomingMessage, FastifyRequest>): interactionPolicy.DefaultPolicy {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider: no login prompt in the base policy');
  login.checks.add(
    new interactionPolicy.Check('acr_below_request', 'the session level is below the requested acr', 'login_required', (ctx) => {
      const acr = ctx.oidc.session?.acr;
      if (!ctx.oidc.session?.accountId) return interactionPolicy.Check.REQUEST_PROMPT;
      return isAcr(acr) && meetsLevel(acr, neededFor(ctx)) ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  // The provider's session follows ours: logged out of Sésame (or someone else logged in in
  // this browser) means logged out for the services too, never a silent SSO as the last person.
  login.checks.add(
    new interactionPolicy.Check('sesame_session', 'the Sésame session ended or belongs to another account', 'login_required', async (ctx) => {
      const request = requests.get(ctx.req);
      const session = request ? await request.session() : null;
      return session && session.accountId === ctx.oidc.session?.accountId ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );
  return policy;
}
