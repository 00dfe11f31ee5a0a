import { argon2Hasher, type PasswordHasher } from '../../src/auth/methods/password.ts';
import { testApp, type TestApp, type TestAppOptions } from './app.ts';

/**
 * The real Argon2id hasher, with a count of what it computed: `verifies` (one per password
 * checked, the dummy one included) and `hashes` (new hashes: rehash, the dummy hash made
 * once). Not a mock: every call goes through to @node-rs/argon2.
 */
export class CountingHasher implements PasswordHasher {
  hashes = 0;
  verifies = 0;
  #inner: PasswordHasher | undefined;

  constructor(inner?: PasswordHasher) {
    this.#inner = inner;
  }

  /** Sets the hasher underneath (once the app's configured parameters are known). */
  use(inner: PasswordHasher): this {
    this.#inner = inner;
    return this;
  }

  #real(): PasswordHasher {
    if (!this.#inner) throw new Error('CountingHasher used before use()');
    return this.#inner;
  }

  async hash(password: string): Promise<string> {
    this.hashes++;
    return this.#real().hash(password);
  }

  async verify(stored: string, password: string): Promise<{ ok: boolean; needsRehash: boolean }> {
    this.verifies++;
    return this.#real().verify(stored, password);
  }

  /** Every Argon2id computation so far. */
  get total(): number {
    return this.hashes + this.verifies;
  }

  snapshot(): { hashes: number; verifies: number } {
    return { hashes: this.hashes, verifies: this.verifies };
  }
}

/** testApp() with a counting hasher over Argon2id with the app's own configured parameters; already ready. */
export async function countedApp(options: Omit<TestAppOptions, 'hasher'> = {}): Promise<{ t: TestApp; hasher: CountingHasher }> {
  const hasher = new CountingHasher();
  const t = await testApp({ ...options, hasher });
  hasher.use(argon2Hasher(t.deps.config.auth.argon2));
  // Ready now: the app makes its dummy hash then, and counts start after it.
  await t.app.ready();
  hasher.hashes = 0;
  hasher.verifies = 0;
  return { t, hasher };
}
