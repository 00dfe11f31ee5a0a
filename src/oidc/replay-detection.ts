import { hash } from 'node:crypto';
import type Provider from 'oidc-provider';
import { PgAdapter } from './adapter.ts';

/**
 * DPoP proofs and private_key_jwt client assertions are single use (RFC 9449 §11.1, RFC 7523
 * §3): the provider records each one's jti in ReplayDetection. The library looks the id up,
 * then saves it: two requests carrying the same proof at once both find nothing and both
 * pass. Here the check is the insert itself (PgAdapter.claim), one statement.
 */
export function installReplayClaim(provider: Provider): void {
  const model = provider.ReplayDetection;
  const adapter = model.adapter;
  // Never the library's racy check behind our back: another adapter would need its own claim.
  if (!(adapter instanceof PgAdapter)) throw new TypeError('replay detection: the provider must use the PostgreSQL adapter');
  Object.defineProperty(model, 'unique', {
    value: async (iss: string, jti: string, exp: number): Promise<boolean> => {
      // The library's id, so that a row it wrote before this change still counts.
      const id = hash('sha256', `${iss}${jti}`, 'base64url');
      // `exp` is on the library's clock, Date (the provider's store runs on the system clock too).
      const now = Math.floor(Date.now() / 1000);
      return adapter.claim(id, { iss, jti: id, kind: 'ReplayDetection', iat: now, exp }, exp - now);
    },
  });
}
