import { randomBytes, randomInt, randomUUID } from 'node:crypto';

/** URL-safe random token; 32 bytes = 256 bits unless told otherwise. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** A string of decimal digits from the CSPRNG (uniform: randomInt rejects modulo bias). */
export function randomDigits(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += String(randomInt(10));
  return out;
}

export const newId = (): string => randomUUID();
