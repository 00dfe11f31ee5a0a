import { timingSafeEqual } from 'node:crypto';
import { hmac } from '../../crypto/mac.ts';
import type { KeyRing } from '../../crypto/keyring.ts';

/**
 * What a form showed, as a hidden field: a MAC of the value on file when the page was drawn.
 * When the file has changed since (another tab, another device), the posted mark no longer
 * matches and the change is refused as stale instead of silently overwriting. A MAC rather
 * than the value: the page does not carry a second copy of it (an IBAN is shown masked).
 */
export function shownMark(ring: KeyRing, accountId: string, part: string, value: unknown): string {
  return hmac(ring.macKey, `shown\u0000${accountId}\u0000${part}\u0000${JSON.stringify(value ?? null)}`).subarray(0, 18).toString('base64url');
}

export function stillShown(ring: KeyRing, accountId: string, part: string, current: unknown, posted: string): boolean {
  const expected = Buffer.from(shownMark(ring, accountId, part, current));
  const given = Buffer.from(posted);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
