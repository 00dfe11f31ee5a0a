import { timingSafeEqual } from 'node:crypto';
import type Provider from 'oidc-provider';
import type { KeyRing } from '../crypto/keyring.ts';
import { hmac } from '../crypto/mac.ts';
import { randomToken } from '../crypto/random.ts';

/**
 * Client secrets are 256 random bits, shown once, stored as an HMAC under the key file's MAC
 * key (like session tokens and one-time codes). A slow password hash would add nothing for a
 * random secret and would cap the token endpoint at a few dozen requests per second.
 *
 * oidc-provider compares secrets itself (Client#compareClientSecret, constant time against
 * the client_secret metadata). Its maintainer's advice for hashed secrets (panva/node-oidc-
 * provider#631) is to override that prototype method: the metadata we hand it carries the MAC
 * (prefixed, see STORED_PREFIX) and installSecretCheck() makes the comparison MAC the
 * presented secret first. The price: nothing may use the secret as a key, so HS256/384/512
 * signatures, client_secret_jwt and PBES2/A*KW/dir encryption must stay disabled in the
 * provider's configuration (they would key HMACs with the MAC, not the secret).
 */
export const STORED_PREFIX = 'sesame-mac1.';

export const newClientSecret = (): string => randomToken(32);

export const secretMac = (ring: KeyRing, clientId: string, secret: string): Buffer => hmac(ring.macKey, `oidc-client-secret\0${clientId}\0${secret}`);

/** What the client's metadata carries in place of the secret. */
export const storedSecret = (mac: Uint8Array): string => `${STORED_PREFIX}${Buffer.from(mac).toString('base64url')}`;

export function secretMatches(ring: KeyRing, clientId: string, stored: string | undefined, presented: string): boolean {
  if (!stored?.startsWith(STORED_PREFIX)) return false;
  const expected = Buffer.from(stored.slice(STORED_PREFIX.length), 'base64url');
  const actual = secretMac(ring, clientId, presented);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** On this provider instance only (its own Client class): compare presented secrets by MAC. */
export function installSecretCheck(provider: Provider, ring: KeyRing): void {
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientId: string; clientSecret?: string }, actual: string): boolean {
    return secretMatches(ring, this.clientId, this.clientSecret, actual);
  };
}
