import { hashPassword, verifyPassword, type Argon2Params } from '../../crypto/passwords.ts';
import { randomToken } from '../../crypto/random.ts';

/** The hashing the app uses; a seam so a test can count hashes (the real Argon2id underneath). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(stored: string, password: string): Promise<{ ok: boolean; needsRehash: boolean }>;
}

export function argon2Hasher(params: Argon2Params): PasswordHasher {
  return {
    hash: (password) => hashPassword(password, params),
    verify: (stored, password) => verifyPassword(stored, password, params),
  };
}

/**
 * Verifies a password against the stored hash, or against a dummy hash with the same
 * parameters when there is none (unknown NIR, account without password), so that the
 * answer takes the same time whether the account exists or not.
 */
export class PasswordVerifier {
  readonly #hasher: PasswordHasher;
  #dummy: Promise<string> | undefined;

  constructor(hasher: PasswordHasher) {
    this.#hasher = hasher;
  }

  /**
   * Makes the dummy hash; the app calls it when it gets ready, so that the first unknown NIR
   * does not cost one hash more than a wrong password (and say so by its timing).
   */
  async prepare(): Promise<void> {
    this.#dummy ??= this.#hasher.hash(randomToken(24));
    await this.#dummy;
  }

  get hasher(): PasswordHasher {
    return this.#hasher;
  }

  async verify(stored: string | null, password: string): Promise<{ ok: boolean; needsRehash: boolean }> {
    if (stored !== null) return this.#hasher.verify(stored, password);
    this.#dummy ??= this.#hasher.hash(randomToken(24));
    await this.#hasher.verify(await this.#dummy, password);
    return { ok: false, needsRehash: false };
  }
}
