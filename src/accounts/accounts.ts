import type { Clock } from '../clock.ts';
import type { Tx } from '../db/contexts.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import { blindIndex, normaliseEmail } from '../crypto/blind-index.ts';
import { newId } from '../crypto/random.ts';
import { audit } from '../audit/log.ts';
import { accountCipher, cipherFromKeyRow, generateAccountKey, storeAccountKey } from './account-keys.ts';
import type { FieldCipher } from '../crypto/envelope.ts';

export type AccountStatus = 'pending_activation' | 'active' | 'locked' | 'closed';
export type Gender = 'female' | 'male' | 'unspecified';

export interface Identity {
  /** Canonical 15-character NIR (see nir.ts). */
  nir: string;
  givenNames: string;
  /** The birth name. */
  familyName: string;
  /** The usage name (nom d'usage), when the agency knows one that differs from the birth name. */
  usageName?: string | null;
  /** YYYY-MM-DD */
  birthDate: string;
  birthPlace: string | null;
  gender: Gender | null;
}

export interface Contact {
  email: string | null;
  phone: string | null;
  postalAddress: string | null;
}

export interface Account {
  id: string;
  status: AccountStatus;
  identity: Identity;
  contact: Contact;
  createdAt: Date;
}

export interface CryptoDeps {
  ring: KeyRing;
  clock: Clock;
}

export class DuplicateNirError extends Error {
  override name = 'DuplicateNirError';
  constructor() {
    super('an account with this NIR already exists');
  }
}

export const nirIndex = (ring: KeyRing, nir: string): Buffer => blindIndex(ring.blindIndexKey, 'nir', nir);
export const emailIndex = (ring: KeyRing, email: string): Buffer => blindIndex(ring.blindIndexKey, 'email', normaliseEmail(email));

/**
 * Creates an account with its data key; every PII field is encrypted before it leaves
 * the process. Needs a system context (no citizen exists yet).
 */
export async function createAccount(
  tx: Tx,
  { ring, clock }: CryptoDeps,
  input: { identity: Identity; contact: Contact; status: 'pending_activation' | 'active'; via: 'cli' | 'import' | 'demo' },
): Promise<{ id: string }> {
  const index = nirIndex(ring, input.identity.nir);
  // Checked first so that the usual duplicate does not abort the caller's transaction;
  // the unique constraint still decides when two creations race.
  const existing = await tx.query(`SELECT 1 FROM accounts WHERE nir_index = $1`, [index]);
  if (existing.rows.length > 0) throw new DuplicateNirError();
  const id = newId();
  const now = clock.now();
  const { cipher, dataKey } = generateAccountKey(id);
  const enc = (field: string, value: string | null): Buffer | null => (value === null ? null : cipher.encrypt(field, value));
  const { identity: i, contact: c } = input;
  await tx
    .query(
      `INSERT INTO accounts (id, status, nir_index, email_index, nir, given_names, family_name, birth_date,
                             birth_place, gender, email, phone, postal_address, created_at, updated_at, usage_name)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15)`,
      [
        id,
        input.status,
        index,
        c.email ? emailIndex(ring, c.email) : null,
        enc('nir', i.nir),
        enc('given_names', i.givenNames),
        enc('family_name', i.familyName),
        enc('birth_date', i.birthDate),
        enc('birth_place', i.birthPlace),
        enc('gender', i.gender),
        enc('email', c.email),
        enc('phone', c.phone),
        enc('postal_address', c.postalAddress),
        now,
        enc('usage_name', i.usageName ?? null),
      ],
    )
    .catch((err: unknown) => {
      if ((err as { code?: string }).code === '23505') throw new DuplicateNirError();
      throw err;
    });
  await storeAccountKey(tx, ring, clock, id, dataKey);
  await audit(tx, clock, { type: 'account.created', accountId: id, payload: { status: input.status, via: input.via } });
  return { id };
}

export async function findAccountByNir(tx: Tx, ring: KeyRing, nir: string): Promise<{ id: string; status: AccountStatus } | null> {
  const { rows } = await tx.query<{ id: string; status: AccountStatus }>(`SELECT id, status FROM accounts WHERE nir_index = $1`, [nirIndex(ring, nir)]);
  return rows[0] ?? null;
}

interface AccountRow extends Record<string, unknown> {
  id: string;
  status: AccountStatus;
  created_at: Date;
  nir: Uint8Array;
  given_names: Uint8Array;
  family_name: Uint8Array;
  usage_name: Uint8Array | null;
  birth_date: Uint8Array;
  birth_place: Uint8Array | null;
  gender: Uint8Array | null;
  email: Uint8Array | null;
  phone: Uint8Array | null;
  postal_address: Uint8Array | null;
}

/** Reads and decrypts an account; null if it does not exist, is not visible, or was shredded. */
export async function readAccount(tx: Tx, ring: KeyRing, accountId: string): Promise<Account | null> {
  return (await readAccountWithCipher(tx, ring, accountId))?.account ?? null;
}

/** readAccount, with the account's cipher for what the caller writes next (one statement for both). */
export async function readAccountWithCipher(tx: Tx, ring: KeyRing, accountId: string): Promise<{ account: Account; cipher: FieldCipher } | null> {
  // The key in the same statement (each table under its own row-level security).
  const { rows } = await tx.query<AccountRow & { kek_id: string | null; wrapped_key: Uint8Array | null }>(
    `SELECT a.id, a.status, a.created_at, a.nir, a.given_names, a.family_name, a.usage_name, a.birth_date, a.birth_place, a.gender,
            a.email, a.phone, a.postal_address, k.kek_id, k.wrapped_key
       FROM accounts a LEFT JOIN account_keys k ON k.account_id = a.id WHERE a.id = $1`,
    [accountId],
  );
  const row = rows[0];
  const cipher = row ? cipherFromKeyRow(tx, ring, accountId, row) : null;
  if (!row || !cipher) return null;
  const dec = (field: string, blob: Uint8Array | null): string | null => (blob === null ? null : cipher.decrypt(field, Buffer.from(blob)));
  const account: Account = {
    id: row.id,
    status: row.status,
    createdAt: row.created_at,
    identity: {
      nir: dec('nir', row.nir) ?? '',
      givenNames: dec('given_names', row.given_names) ?? '',
      familyName: dec('family_name', row.family_name) ?? '',
      usageName: dec('usage_name', row.usage_name),
      birthDate: dec('birth_date', row.birth_date) ?? '',
      birthPlace: dec('birth_place', row.birth_place),
      gender: dec('gender', row.gender) as Gender | null,
    },
    contact: { email: dec('email', row.email), phone: dec('phone', row.phone), postalAddress: dec('postal_address', row.postal_address) },
  };
  return { account, cipher };
}

/** The encrypted columns a flow may need alone. */
export type SealedField = 'nir' | 'birth_date' | 'email';

/**
 * One field of the account, decrypted, the rest left sealed (a mail's recipient, the birth
 * date an activation compares, the NIR a new password must not contain). Null when the field
 * is empty, or the account is missing or shredded.
 */
export async function readField(tx: Tx, ring: KeyRing, accountId: string, field: SealedField): Promise<string | null> {
  // `field` comes from the closed union above, never from a request.
  const [{ rows }, cipher] = await Promise.all([
    tx.query<Record<SealedField, Uint8Array | null>>(`SELECT ${field} FROM accounts WHERE id = $1`, [accountId]),
    accountCipher(tx, ring, accountId),
  ]);
  const blob = rows[0]?.[field];
  return blob && cipher ? cipher.decrypt(field, Buffer.from(blob)) : null;
}

export const readEmail = (tx: Tx, ring: KeyRing, accountId: string): Promise<string | null> => readField(tx, ring, accountId, 'email');
