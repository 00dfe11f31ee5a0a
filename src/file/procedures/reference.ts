import { randomBytes } from 'node:crypto';

/**
 * Procedure references, e.g. `D-2026-7KQ4M2XH`: what the citizen quotes to the agency. Random
 * (not a counter: it says nothing about how many procedures exist, and cannot be guessed from
 * another), unique by the database's constraint. No 0/O or 1/I: read aloud over the phone.
 */
const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

export const REFERENCE = /^D-\d{4}-[2-9A-HJ-NP-Z]{8}$/;

export function newReference(year: number): string {
  // 32 symbols: the low 5 bits of each byte are uniform, so no modulo bias. 40 bits in all.
  const symbols = [...randomBytes(8)].map((b) => ALPHABET[b & 31]).join('');
  return `D-${year}-${symbols}`;
}
