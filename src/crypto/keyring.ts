import { randomBytes } from 'node:crypto';
import { unwatchFile, watchFile } from 'node:fs';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * The key file: key-encryption keys (KEKs, several during a rotation, one current), the
 * blind-index key and the MAC key for one-time secrets, sessions and CSRF. Kept apart so
 * that no key serves two purposes.
 */
const key = z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes in base64');
const fileSchema = z.object({
  format: z.literal('sesame-keys/1'),
  kek: z.object({ current: z.string().min(1), keys: z.record(z.string().regex(/^[a-z0-9-]+$/), key) }),
  blindIndexKey: key,
  macKey: key,
});
type KeyFile = z.infer<typeof fileSchema>;

export class KeyFileError extends Error {
  override name = 'KeyFileError';
}

export class KeyRing {
  #file: KeyFile;
  // Decoded once per key: the same Buffer each time lets crypto/mac.ts keep its KeyObject
  // (a login computes dozens of MACs). Callers must not write into these Buffers.
  readonly #decoded = new Map<string, Buffer>();
  #decode(base64: string): Buffer {
    let k = this.#decoded.get(base64);
    if (!k) {
      k = Buffer.from(base64, 'base64');
      this.#decoded.set(base64, k);
    }
    return k;
  }
  constructor(file: KeyFile) {
    if (!(file.kek.current in file.kek.keys)) throw new KeyFileError(`kek.current names ${file.kek.current}, which is not in kek.keys`);
    this.#file = file;
  }
  get currentKekId(): string {
    return this.#file.kek.current;
  }
  get kekIds(): string[] {
    return Object.keys(this.#file.kek.keys);
  }
  kek(id: string): Buffer {
    const k = this.#file.kek.keys[id];
    if (!k) throw new KeyFileError(`key-encryption key ${id} is not in the key file`);
    return this.#decode(k);
  }
  get blindIndexKey(): Buffer {
    return this.#decode(this.#file.blindIndexKey);
  }
  get macKey(): Buffer {
    return this.#decode(this.#file.macKey);
  }
  /** A new ring with a fresh current KEK; older KEKs stay until nothing is wrapped by them. */
  withNewKek(id: string): KeyRing {
    return new KeyRing({ ...this.#file, kek: { current: id, keys: { ...this.#file.kek.keys, [id]: randomBytes(32).toString('base64') } } });
  }
  withoutKek(id: string): KeyRing {
    if (id === this.currentKekId) throw new KeyFileError('the current key-encryption key cannot be removed');
    const keys = { ...this.#file.kek.keys };
    delete keys[id];
    return new KeyRing({ ...this.#file, kek: { ...this.#file.kek, keys } });
  }
  /**
   * Takes over another ring's keys in place: a running server picks up a rotation made by
   * `sesame keys rotate` without restarting (see watchKeyFile).
   */
  adopt(other: KeyRing): void {
    this.#file = other.#file;
    this.#decoded.clear();
  }
  toJSON(): KeyFile {
    return this.#file;
  }
  static generate(kekId: string): KeyRing {
    const b = (): string => randomBytes(32).toString('base64');
    return new KeyRing({ format: 'sesame-keys/1', kek: { current: kekId, keys: { [kekId]: b() } }, blindIndexKey: b(), macKey: b() });
  }
}

/** KEK ids carry their creation date, so an operator can see how old the current one is. */
export function newKekId(at: Date): string {
  return `kek-${at.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-').toLowerCase()}-${randomBytes(3).toString('hex')}`;
}

export async function readKeyRing(file: string): Promise<KeyRing> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new KeyFileError(`cannot read key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyFileError(`key file ${file} is not valid JSON`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KeyFileError(`key file ${file}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`);
  }
  return new KeyRing(parsed.data);
}

/** Writes atomically (temp file + rename) with owner-only permissions. */
export async function writeKeyRing(file: string, ring: KeyRing): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(ring.toJSON(), null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
  await chmod(file, 0o600);
}

/** Reads the key file, or creates one when allowed (development). Says whether it created it. */
export async function loadOrCreateKeyRing(file: string, allowCreate: boolean, now: Date): Promise<{ ring: KeyRing; created: boolean }> {
  const exists = await stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) {
    if (!allowCreate) throw new KeyFileError(`key file ${file} does not exist`);
    const ring = KeyRing.generate(newKekId(now));
    await writeKeyRing(file, ring);
    return { ring, created: true };
  }
  return { ring: await readKeyRing(file), created: false };
}

/**
 * Reloads the key file when it changes, so running servers learn a new key-encryption key
 * before `sesame keys rotate` starts re-wrapping data keys with it. Polling survives the
 * atomic rename that writeKeyRing does, which an inotify watch on the old inode would miss.
 */
export function watchKeyFile(file: string, ring: KeyRing, onError: (err: Error) => void, intervalMs = 2000): () => void {
  const listener = (): void => {
    readKeyRing(file).then(
      (fresh) => ring.adopt(fresh),
      (err: Error) => onError(err),
    );
  };
  watchFile(file, { interval: intervalMs }, listener);
  return () => unwatchFile(file, listener);
}
