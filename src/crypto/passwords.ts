import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id of @node-rs/argon2 (a const enum, which type stripping cannot inline).
const ARGON2ID = 2;

/** Argon2id parameters (OWASP minimum: m=19 MiB, t=2, p=1). Stored hashes carry theirs. */
export interface Argon2Params {
  memoryCost: number; // KiB
  timeCost: number;
  parallelism: number;
}

export const DEFAULT_ARGON2: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export function hashPassword(password: string, params: Argon2Params = DEFAULT_ARGON2): Promise<string> {
  return hash(password, { algorithm: ARGON2ID, ...params });
}

/** Verifies and says whether the stored hash was made with other parameters than `params`. */
export async function verifyPassword(
  stored: string,
  password: string,
  params: Argon2Params = DEFAULT_ARGON2,
): Promise<{ ok: boolean; needsRehash: boolean }> {
  const ok = await verify(stored, password).catch(() => false);
  return { ok, needsRehash: ok && !stored.startsWith(`$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`) };
}
