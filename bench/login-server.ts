/**
 * What the `login` scenario needs in the server process besides the app: accounts to log
 * in with, and a bench-only route that reads a code from the outbox (what a citizen would
 * read in their mailbox). Never part of the app: only bench/serve.ts registers it.
 */
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../src/app-deps.ts';
import { accountCipher } from '../src/accounts/account-keys.ts';
import { createAccount, nirIndex } from '../src/accounts/accounts.ts';
import { setPasswordHash } from '../src/accounts/credentials.ts';
import { nirKey } from '../src/accounts/nir.ts';
import { hashPassword } from '../src/crypto/passwords.ts';
import { system } from '../src/db/contexts.ts';
import { openPayload } from '../src/mail/outbox.ts';

export const BENCH_PASSWORD = 'a long bench password for logins';

export const benchNir = (i: number): string => {
  const body = `2${String(50 + (i % 50))}0175${String(i).padStart(6, '0').slice(-6)}`;
  return body + nirKey(body);
};

/** Accounts share one hash (same parameters as the app's): creating them stays fast, verifying costs the same. */
export async function createBenchAccounts(deps: AppDeps, count: number): Promise<void> {
  const hash = await hashPassword(BENCH_PASSWORD, deps.config.auth.argon2);
  for (let i = 0; i < count; i++) {
    await system(deps.db, 'bench', async (tx) => {
      const { id } = await createAccount(tx, deps, {
        identity: { nir: benchNir(i), givenNames: 'Bench', familyName: 'Mark', birthDate: '1950-01-01', birthPlace: null, gender: null },
        contact: { email: `bench${i}@example.org`, phone: null, postalAddress: null },
        status: 'active',
        via: 'cli',
      });
      await setPasswordHash(tx, deps.clock, id, hash);
    });
  }
}

export function benchCodeRoute(app: FastifyInstance, deps: AppDeps): void {
  app.get<{ Querystring: { i: string } }>('/__bench/code', { config: { json: true } }, async (request) => {
    return system(deps.db, 'bench', async (tx) => {
      const { rows } = await tx.query<{ id: string; account_id: string; payload: Uint8Array }>(
        `SELECT o.id, o.account_id, o.payload FROM outbox o JOIN accounts a ON a.id = o.account_id
          WHERE a.nir_index = $1 AND o.template = 'one-time-code' ORDER BY o.created_at DESC LIMIT 1`,
        [nirIndex(deps.ring, benchNir(Number(request.query.i)))],
      );
      const row = rows[0];
      if (!row) return { code: null };
      const cipher = await accountCipher(tx, deps.ring, row.account_id);
      return { code: cipher ? (openPayload(cipher, row.id, row.payload).params as { code: string }).code : null };
    });
  });
}
