import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';

/**
 * Node turns a Buffer key into a KeyObject on every createHmac/createCipheriv call, which
 * costs several times the MAC itself; a login computes dozens. Keys of the key ring live as
 * long as the ring, so their KeyObject is kept next to them (and goes with them).
 */
const keyObjects = new WeakMap<Buffer, KeyObject>();

export function keyObject(key: Buffer): KeyObject {
  let k = keyObjects.get(key);
  if (!k) {
    k = createSecretKey(key);
    keyObjects.set(key, k);
  }
  return k;
}

/** HMAC-SHA256 of a UTF-8 message; callers put a purpose first, NUL-separated, for domain separation. */
export const hmac = (key: Buffer, message: string): Buffer => createHmac('sha256', keyObject(key)).update(message, 'utf8').digest();
