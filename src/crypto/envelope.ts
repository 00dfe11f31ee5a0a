import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { keyObject } from './mac.ts';

/**
 * Envelope encryption with AES-256-GCM. Layout: version (1) | IV (12) | tag (16) | ciphertext.
 * The additional authenticated data names the account and the field, so a ciphertext
 * copied onto another account or into another column fails to decrypt instead of
 * showing one person's data as another's.
 */
const VERSION = 1;
const IV = 12;
const TAG = 16;

export class DecryptionError extends Error {
  override name = 'DecryptionError';
}

export function seal(key: Buffer | KeyObject, aad: string, plaintext: Buffer): Buffer {
  const iv = randomBytes(IV); // 96-bit random IV: safe far beyond the number of writes per key
  const cipher = createCipheriv('aes-256-gcm', Buffer.isBuffer(key) ? keyObject(key) : key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), body]);
}

export function open(key: Buffer | KeyObject, aad: string, blob: Buffer): Buffer {
  if (blob.length < 1 + IV + TAG || blob[0] !== VERSION) throw new DecryptionError('unknown ciphertext format');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.isBuffer(key) ? keyObject(key) : key, blob.subarray(1, 1 + IV));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(blob.subarray(1 + IV, 1 + IV + TAG));
  try {
    return Buffer.concat([decipher.update(blob.subarray(1 + IV + TAG)), decipher.final()]);
  } catch {
    throw new DecryptionError('ciphertext does not authenticate');
  }
}

export const newDataKey = (): Buffer => randomBytes(32);

export const wrapDataKey = (kek: Buffer, accountId: string, dataKey: Buffer): Buffer => seal(kek, `dek:${accountId}`, dataKey);

export const unwrapDataKey = (kek: Buffer, accountId: string, wrapped: Buffer): Buffer => open(kek, `dek:${accountId}`, wrapped);

/** Encrypts and decrypts one account's fields under its data key. */
export class FieldCipher {
  readonly accountId: string;
  readonly #key: KeyObject;
  constructor(accountId: string, dataKey: Buffer) {
    this.accountId = accountId;
    this.#key = createSecretKey(dataKey);
  }
  encrypt(field: string, value: string): Buffer {
    return seal(this.#key, `${this.accountId}:${field}`, Buffer.from(value, 'utf8'));
  }
  decrypt(field: string, blob: Buffer): string {
    return open(this.#key, `${this.accountId}:${field}`, blob).toString('utf8');
  }
  encryptJson(field: string, value: unknown): Buffer {
    return this.encrypt(field, JSON.stringify(value));
  }
  decryptJson(field: string, blob: Buffer): unknown {
    return JSON.parse(this.decrypt(field, blob));
  }
}
