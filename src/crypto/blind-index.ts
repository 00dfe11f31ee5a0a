import { hmac } from './mac.ts';

/**
 * Keyed blind index: HMAC-SHA256 of a normalised value, with the purpose as domain
 * separator so that equal strings in two kinds of field do not index alike. Without the
 * key, a dump cannot be matched against a list of known NIRs or emails.
 */
export type IndexedField = 'nir' | 'email';

export function blindIndex(key: Buffer, field: IndexedField, normalised: string): Buffer {
  return hmac(key, `${field}\u0000${normalised}`);
}

export const normaliseEmail = (email: string): string => email.trim().toLowerCase();
