import type { Account, Configuration } from 'oidc-provider';
import { readAccount, type Account as SesameAccount } from '../accounts/accounts.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { hmac } from '../crypto/mac.ts';
import { citizen } from '../db/contexts.ts';
import type { Database } from '../db/database.ts';
import { oneTrip } from './adapter.ts';

/**
 * FranceConnect's scopes and the claims each one releases. The provider drops every claim of
 * a scope the grant does not hold, and a client never gets a scope it was not registered with.
 */
export const SCOPE_CLAIMS = {
  openid: ['sub'],
  identite_pivot: ['given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry'],
  profile: ['given_name', 'family_name', 'birthdate', 'gender', 'preferred_username'],
  birth: ['birthplace', 'birthcountry'],
  email: ['email'],
  phone: ['phone_number'],
  preferred_username: ['preferred_username'],
  given_name: ['given_name'],
  family_name: ['family_name'],
  birthdate: ['birthdate'],
  gender: ['gender'],
  birthplace: ['birthplace'],
  birthcountry: ['birthcountry'],
} as const satisfies Record<string, readonly string[]>;

export type ClaimName = (typeof SCOPE_CLAIMS)[keyof typeof SCOPE_CLAIMS][number];

/** The claims the given scopes release, each once, in a stable order (for the consent page and the connected services). */
export function claimsOfScopes(scopes: Iterable<string>): ClaimName[] {
  const out = new Set<ClaimName>();
  for (const scope of scopes) {
    if (Object.hasOwn(SCOPE_CLAIMS, scope)) for (const c of SCOPE_CLAIMS[scope as keyof typeof SCOPE_CLAIMS]) out.add(c);
  }
  return [...out];
}

/** The provider's `claims` setting: the standalone claims of its default (acr, auth_time…) and our scopes. */
export const providerClaims = (): NonNullable<Configuration['claims']> => ({
  acr: null,
  auth_time: null,
  iss: null,
  sid: null,
  ...Object.fromEntries(Object.entries(SCOPE_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
  // amr with openid: the ID token is masked by the openid scope (conformIdTokenClaims), and
  // the library only adds amr when a claims request names it. Userinfo never has it.
  openid: ['sub', 'amr'],
});

/**
 * The pairwise subject: HMAC of the account id under the key file's MAC key, per client (or
 * per sector when the client registered a sector_identifier_uri), so that two services cannot
 * join their users on `sub`, and a dump of one service's users names no account.
 */
export function pairwiseSubject(ring: KeyRing, accountId: string, sector: string): string {
  return hmac(ring.macKey, `oidc-sub\0${sector}\0${accountId}`).toString('base64url');
}

/**
 * Birth place and country as FranceConnect gives them (INSEE codes), read from the NIR: born in
 * France, the commune code (department + commune) and 99100; born abroad (department 99), no
 * commune and 99 + the country code.
 */
export function birthCodes(nir: string): { birthplace: string; birthcountry: string } | null {
  if (nir.length !== 15) return null;
  const department = nir.slice(5, 7);
  if (department === '99') return { birthplace: '', birthcountry: `99${nir.slice(7, 10)}` };
  return { birthplace: nir.slice(5, 10), birthcountry: '99100' };
}

/** Every claim we can say about the account; the provider keeps those of the granted scopes. */
export function accountClaims(sub: string, account: SesameAccount): { sub: string } & Record<string, string> {
  const { identity, contact } = account;
  const birth = birthCodes(identity.nir);
  return {
    sub,
    given_name: identity.givenNames,
    family_name: identity.familyName,
    // FranceConnect's usage name; absent when the agency knows none (the family name is the birth name).
    ...(identity.usageName ? { preferred_username: identity.usageName } : {}),
    birthdate: identity.birthDate,
    ...(identity.gender === 'female' || identity.gender === 'male' ? { gender: identity.gender } : {}),
    ...(birth ?? {}),
    ...(contact.email ? { email: contact.email } : {}),
    ...(contact.phone ? { phone_number: contact.phone } : {}),
  };
}

/**
 * findAccount: `sub` is our account id, as the interaction's login result gave it (the
 * citizen's own session). The account is read in the citizen's context (row-level security).
 */
export function findAccountIn(deps: { db: Database; ring: KeyRing }): NonNullable<Configuration['findAccount']> {
  return async (_ctx, sub): Promise<Account | undefined> => {
    if (!/^[0-9a-f-]{36}$/.test(sub)) return undefined;
    // One round trip: the citizen context, the account and its key, and the COMMIT leave together.
    const account = await oneTrip(deps.db, (f) => citizen(deps.db, sub, f), (tx) => readAccount(tx, deps.ring, sub));
    if (!account || account.status !== 'active') return undefined;
    return {
      accountId: sub,
      claims: () => accountClaims(sub, account),
    };
  };
}
