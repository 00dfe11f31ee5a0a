import { createCipheriv, createSecretKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { emailIndex } from '../accounts/accounts.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { FieldCipher } from '../crypto/envelope.ts';
import { keyObject } from '../crypto/mac.ts';

/**
 * Bulk sealing for imports, in exactly src/crypto/envelope.ts's format (version 1 | IV 12 |
 * tag 16 | ciphertext, AES-256-GCM, AAD `${accountId}:${field}` for fields and
 * `dek:${accountId}` for the wrapped data key), so FieldCipher and unwrapDataKey open it;
 * a test checks that they do. The difference: randomness (IVs, data keys) is drawn from the
 * CSPRNG once per batch instead of once per value; a call per 12-byte IV cost more than the
 * encryption itself (~10 per account).
 */

const VERSION = 1;
const IV = 12;
const TAG = 16;
const DATA_KEY = 32;

export class RandomPool {
  #buf: Buffer;
  #at = 0;
  constructor(bytes: number) {
    this.#buf = randomBytes(bytes);
  }
  /** Fresh bytes, never handed out twice; refills when empty. */
  take(n: number): Buffer {
    if (this.#at + n > this.#buf.length) {
      this.#buf = randomBytes(Math.max(n, this.#buf.length));
      this.#at = 0;
    }
    const out = this.#buf.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
}

function sealWithIv(key: KeyObject, aad: string, plaintext: Buffer | string, iv: Buffer): Buffer {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext);
  const rest = cipher.final();
  const out = Buffer.allocUnsafe(1 + IV + TAG + body.length + rest.length);
  out[0] = VERSION;
  iv.copy(out, 1);
  cipher.getAuthTag().copy(out, 1 + IV);
  body.copy(out, 1 + IV + TAG);
  rest.copy(out, 1 + IV + TAG + body.length);
  return out;
}

/**
 * A FieldCipher whose encryptions draw their IVs from the batch's pool: the events and
 * projections written for a new account in the same batch (its bank details) use it too.
 * Decryption is FieldCipher's own.
 */
class PooledCipher extends FieldCipher {
  readonly #key: KeyObject;
  readonly #pool: RandomPool;
  constructor(accountId: string, dataKey: Buffer, key: KeyObject, pool: RandomPool) {
    super(accountId, dataKey);
    this.#key = key;
    this.#pool = pool;
  }
  override encrypt(field: string, value: string): Buffer {
    return sealWithIv(this.#key, `${this.accountId}:${field}`, value, this.#pool.take(IV));
  }
}

/** A new account sealed: every value as its column will hold it, and its data key (to make its cipher). */
export interface SealedAccount {
  id: string;
  kekId: string;
  dataKey: Buffer;
  wrappedKey: Buffer;
  emailIndex: Buffer | null;
  /** In the order of `fields`; null for an empty value. */
  columns: (Buffer | null)[];
}

/** Seals one new account: a fresh id and data key, the key wrapped by the current KEK, each value under the data key. */
export function sealAccount(ring: KeyRing, pool: RandomPool, fields: readonly string[], values: readonly (string | null)[], email: string | null): SealedAccount {
  const id = randomUUID();
  const kekId = ring.currentKekId;
  // Copied out of the pool: the pool's buffer is shared and the key must not alias it.
  const dataKey = Buffer.from(pool.take(DATA_KEY));
  const key = createSecretKey(dataKey);
  return {
    id,
    kekId,
    dataKey,
    wrappedKey: sealWithIv(keyObject(ring.kek(kekId)), `dek:${id}`, dataKey, pool.take(IV)),
    emailIndex: email ? emailIndex(ring, email) : null,
    columns: values.map((v, k) => (v === null ? null : sealWithIv(key, `${id}:${fields[k] ?? ''}`, v, pool.take(IV)))),
  };
}

/** The account's cipher for what else the batch writes for it (its first file events); its IVs come from `pool`. */
export const cipherOf = (account: SealedAccount, pool: RandomPool): FieldCipher =>
  new PooledCipher(account.id, account.dataKey, createSecretKey(account.dataKey), pool);

/** Pool size for n accounts of up to `fields` sealed values each. */
export const poolBytes = (accounts: number, fields: number): number => accounts * (DATA_KEY + IV * (fields + 1));

