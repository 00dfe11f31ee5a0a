import { isDeepStrictEqual } from 'node:util';
import type { Tx } from '../db/contexts.ts';
import type { FieldCipher } from '../crypto/envelope.ts';
import { hmac } from '../crypto/mac.ts';
import { nirIndex, readAccountWithCipher, type Contact, type CryptoDeps, type Identity } from '../accounts/accounts.ts';
import { validatePerson, type PersonFields } from '../accounts/person-input.ts';
import { normaliseIban, PART_VALUES, type BankDetails } from '../file/catalogue.ts';
import { appendInitialEvents, type Actor } from '../file/events.ts';
import { ibanProblem, type IbanProblem } from '../file/iban.ts';
import { readBankDetails } from '../file/projections/bank-details.ts';
import { SealWorker } from './seal-pool.ts';
import { cipherOf, poolBytes, RandomPool, sealAccount, type SealedAccount } from './sealer.ts';
import type { Cells, KindSpec, ValidRow, Validation, WriteResult } from './kind.ts';

/**
 * `sesame import beneficiaries`: one account per NIR, created as createAccount creates one
 * (same columns, same AAD field names, a data key per account wrapped by the current KEK,
 * blind indexes of NIR and email, status pending_activation: the citizen activates it with
 * NIR + birth date), but a whole batch in one statement per table. Bank details become the
 * account's first file event (bank-details.changed by agency:import).
 *
 * A NIR already in the database is compared through agency_row_mac, a keyed MAC of the
 * normalised row the agency last sent: same MAC, the row is unchanged and nothing is written;
 * another MAC, the row is "changed" and not applied, unless --update: then the identity
 * (names, usage name, birth date and place, gender: the agency's data) is rewritten; contact and bank
 * details of an existing account are the citizen's file and an import never changes them.
 */

export const BENEFICIARY_COLUMNS = [
  'nir', 'given_names', 'family_name', 'birth_date', 'birth_place', 'gender', 'email', 'phone', 'postal_address', 'iban', 'iban_holder', 'usage_name',
] as const;
const REQUIRED = ['nir', 'given_names', 'family_name', 'birth_date'] as const;

export const AGENCY_IMPORT: Actor = { kind: 'agency', id: 'import' };

export interface Beneficiary {
  identity: Identity;
  contact: Contact;
  bank: BankDetails | null;
  nirIndex: Buffer;
  rowMac: Buffer;
  /** Computed ahead (prepare) or in the transaction; dropped if the NIR turns out to exist. */
  sealed?: Sealed;
}

interface Sealed {
  id: string;
  cipher: FieldCipher;
  kekId: string;
  wrappedKey: Buffer;
  emailIndex: Buffer | null;
  columns: (Buffer | null)[];
}

const COLUMN_OF: Record<keyof PersonFields, string> = {
  nir: 'nir', givenNames: 'given_names', familyName: 'family_name', usageName: 'usage_name', birthDate: 'birth_date', birthPlace: 'birth_place',
  gender: 'gender', email: 'email', phone: 'phone', postalAddress: 'postal_address',
};

const IBAN_RULE: Record<IbanProblem, string> = {
  format: 'not an IBAN (a country code, 2 check digits, then letters and digits)',
  country: 'not an IBAN of the SEPA area (payments are SEPA transfers)',
  length: 'not the length IBANs have in its country',
  checksum: 'the check digits do not match (a typing error?)',
  'rib-key': 'the RIB key of this French IBAN does not match (a typing error?)',
};

/** The encrypted columns of accounts, in insert order; their names are also the AAD field names (as in createAccount). */
const SEALED_COLUMNS = ['nir', 'given_names', 'family_name', 'birth_date', 'birth_place', 'gender', 'email', 'phone', 'postal_address', 'usage_name'] as const;

const optional = (cells: Cells, column: string): string | undefined => {
  const v = cells(column).trim();
  return v === '' ? undefined : v;
};

/** Issues of a catalogue schema as "column: rule" (the catalogue's messages name rules, not values). */
function issues(result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } }, column: (path: string) => string): string[] {
  return result.success ? [] : (result.error?.issues ?? []).map((i) => `${column(i.path.join('.'))}: ${i.message}`);
}

export function validateBeneficiary(ring: CryptoDeps['ring'], cells: Cells, today: Date): Validation<Beneficiary> {
  const problems: string[] = [];
  const genderCell = cells('gender').trim().toUpperCase();
  let gender: string | undefined;
  if (genderCell === 'F') gender = 'female';
  else if (genderCell === 'M') gender = 'male';
  else if (genderCell !== '') problems.push('gender: must be F, M or empty');
  // A multi-line address (quoted line breaks) is kept on one line: the file's contact rules refuse control characters.
  const postalAddress = optional(cells, 'postal_address')?.replace(/\s*[\r\n]+\s*/g, ', ');
  const person = validatePerson(
    {
      nir: cells('nir'),
      givenNames: cells('given_names'),
      familyName: cells('family_name'),
      usageName: optional(cells, 'usage_name'),
      birthDate: cells('birth_date').trim(),
      birthPlace: optional(cells, 'birth_place'),
      gender,
      // Checked below with the catalogue's prebuilt schema: validatePerson builds a zod email schema per call (~50 µs a row).
      email: undefined,
      phone: optional(cells, 'phone'),
      postalAddress,
    },
    today,
  );
  const email = optional(cells, 'email') ?? null;
  if (email !== null && !PART_VALUES['contact.email-changed'].safeParse(email).success) problems.push('email: is not a valid email address');
  if ('problems' in person) {
    problems.push(...person.problems.map((p) => `${COLUMN_OF[p.field]}: ${p.message}`));
  } else {
    // The values become the file's contact parts: they must pass the rules later events are read back with.
    const c = person.contact;
    c.email = email;
    problems.push(...issues(PART_VALUES['contact.phone-changed'].safeParse(c.phone), () => 'phone'));
    problems.push(...issues(PART_VALUES['contact.address-changed'].safeParse(c.postalAddress), () => 'postal_address'));
    if (person.identity.birthPlace !== null && /[\u0000-\u001f\u007f]/.test(person.identity.birthPlace)) problems.push('birth_place: control characters are not allowed');
  }

  const ibanCell = optional(cells, 'iban');
  const holderCell = optional(cells, 'iban_holder');
  let bank: BankDetails | null = null;
  if (ibanCell === undefined) {
    if (holderCell !== undefined) problems.push('iban_holder: given without an iban');
  } else {
    const iban = normaliseIban(ibanCell);
    const problem = ibanProblem(iban);
    if (problem) problems.push(`iban: ${IBAN_RULE[problem]}`);
    else if (!('problems' in person)) {
      const holder = holderCell ?? `${person.identity.givenNames} ${person.identity.familyName}`;
      const parsed = PART_VALUES['bank-details.changed'].safeParse({ iban, holder });
      if (parsed.success) bank = parsed.data;
      else problems.push(...issues(parsed, (path) => (path === 'holder' ? 'iban_holder' : 'iban')));
    }
  }
  if (problems.length > 0 || 'problems' in person) return { problems };

  const { identity: i, contact: c } = person;
  // Normalised values only, so that reformatting a file (spaces in a NIR, case of an IBAN) is no change.
  // The usage name only when there is one: rows imported before the column existed keep their MAC.
  const canonical = JSON.stringify([i.nir, i.givenNames, i.familyName, i.birthDate, i.birthPlace, i.gender, c.email, c.phone, c.postalAddress, bank?.iban ?? null, bank?.holder ?? null, ...(i.usageName ? [i.usageName] : [])]);
  return {
    value: {
      identity: i,
      contact: c,
      bank,
      nirIndex: nirIndex(ring, i.nir),
      rowMac: hmac(ring.blindIndexKey, `agency-row\u0000beneficiaries/1\u0000${canonical}`),
    },
  };
}

/** The sealed account with its cipher (for its first events); the data key is wiped once the cipher holds it. */
function withCipher(account: SealedAccount, pool: RandomPool): Sealed {
  const cipher = cipherOf(account, pool);
  account.dataKey.fill(0);
  return { id: account.id, cipher, kekId: account.kekId, wrappedKey: account.wrappedKey, emailIndex: account.emailIndex, columns: account.columns };
}

const valuesOf = (b: Beneficiary): (string | null)[] => {
  const { identity: i, contact: c } = b;
  return [i.nir, i.givenNames, i.familyName, i.birthDate, i.birthPlace, i.gender, c.email, c.phone, c.postalAddress, i.usageName ?? null];
};

function seal(ring: CryptoDeps['ring'], pool: RandomPool, b: Beneficiary): Sealed {
  return withCipher(sealAccount(ring, pool, SEALED_COLUMNS, valuesOf(b), b.contact.email), pool);
}

/** IVs for what a batch seals on this thread: its accounts (or only their events, when a worker sealed them). */
const batchPool = (rows: number, perRow = SEALED_COLUMNS.length + 3): RandomPool => new RandomPool(poolBytes(rows, perRow));

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const sameBytes = (a: Uint8Array | null, b: Buffer): boolean => a !== null && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

async function insertAccounts(tx: Tx, created: readonly Sealed[], rows: readonly Beneficiary[], now: Date): Promise<void> {
  const column = (k: number): (Buffer | null)[] => created.map((s) => s.columns[k] ?? null);
  tx.send(
    `INSERT INTO accounts (id, status, nir_index, email_index, nir, given_names, family_name, birth_date, birth_place, gender,
                           email, phone, postal_address, usage_name, agency_row_mac, created_at, updated_at)
     SELECT u.id, 'pending_activation', u.nir_index, u.email_index, u.nir, u.given_names, u.family_name, u.birth_date, u.birth_place,
            u.gender, u.email, u.phone, u.postal_address, u.usage_name, u.mac, $15, $15
       FROM unnest($1::uuid[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[], $7::bytea[], $8::bytea[], $9::bytea[],
                   $10::bytea[], $11::bytea[], $12::bytea[], $13::bytea[], $14::bytea[])
         AS u (id, nir_index, email_index, nir, given_names, family_name, birth_date, birth_place, gender, email, phone, postal_address, usage_name, mac)`,
    [
      created.map((s) => s.id),
      rows.map((r) => r.nirIndex),
      created.map((s) => s.emailIndex),
      ...SEALED_COLUMNS.map((_, k) => column(k)),
      rows.map((r) => r.rowMac),
      now,
    ],
  );
  tx.send(
    `INSERT INTO account_keys (account_id, kek_id, wrapped_key, created_at)
     SELECT u.id, u.kek_id, u.wrapped, $4 FROM unnest($1::uuid[], $2::text[], $3::bytea[]) AS u (id, kek_id, wrapped)`,
    [created.map((s) => s.id), created.map((s) => s.kekId), created.map((s) => s.wrappedKey), now],
  );
}

/** --update of an existing account: its identity from the row; says which of the citizen's parts differ (kept). */
async function updateIdentity(tx: Tx, deps: CryptoDeps, accountId: string, b: Beneficiary): Promise<{ updated: boolean; kept: string[] } | null> {
  const read = await readAccountWithCipher(tx, deps.ring, accountId);
  if (!read) return null;
  const { account, cipher } = read;
  const now = deps.clock.now();
  const identity: [string, string | null, string | null][] = [
    ['given_names', account.identity.givenNames, b.identity.givenNames],
    ['family_name', account.identity.familyName, b.identity.familyName],
    ['usage_name', account.identity.usageName ?? null, b.identity.usageName ?? null],
    ['birth_date', account.identity.birthDate, b.identity.birthDate],
    ['birth_place', account.identity.birthPlace, b.identity.birthPlace],
    ['gender', account.identity.gender, b.identity.gender],
  ];
  const changed = identity.filter(([, was, is]) => was !== is);
  const params: unknown[] = [accountId, b.rowMac];
  const sets = changed.map(([column, , value]) => {
    params.push(value === null ? null : cipher.encrypt(column, value));
    return `${column} = $${params.length}`;
  });
  if (changed.length > 0) {
    params.push(now);
    sets.push(`updated_at = $${params.length}`);
  }
  // Columns from the closed list above, never from the file.
  await tx.query(`UPDATE accounts SET ${[...sets, 'agency_row_mac = $2'].join(', ')} WHERE id = $1`, params);
  const bank = await readBankDetails(tx, deps.ring, accountId, now);
  const kept = [
    ...(account.contact.email !== b.contact.email ? ['email'] : []),
    ...(account.contact.phone !== b.contact.phone ? ['phone'] : []),
    ...(account.contact.postalAddress !== b.contact.postalAddress ? ['postal_address'] : []),
    ...(!isDeepStrictEqual(bank ? { iban: bank.iban, holder: bank.holder } : null, b.bank) ? ['iban'] : []),
  ];
  return { updated: changed.length > 0, kept };
}

/**
 * `worker`: encrypt on a worker thread (worth it past a few thousand rows: it takes ~100 ms
 * to start); the spec must then be closed (the runner does).
 */
export function beneficiariesImport(deps: CryptoDeps, options: { update: boolean; worker?: boolean }): KindSpec<Beneficiary> {
  const worker = options.worker ? new SealWorker(deps.ring) : null;
  return {
    kind: 'beneficiaries',
    columns: BENEFICIARY_COLUMNS,
    required: REQUIRED,
    wording: { created: 'created', updated: 'updated (identity)', unchanged: 'unchanged', notApplied: 'changed, not applied', rejected: 'rejected' },
    validate: (cells, today) => validateBeneficiary(deps.ring, cells, today),
    async prepare(rows) {
      const todo = rows.filter((r) => !r.value.sealed);
      if (todo.length === 0) return;
      if (worker) {
        try {
          const sealed = await worker.seal(SEALED_COLUMNS, todo.map((r) => ({ values: valuesOf(r.value), email: r.value.contact.email })));
          // The worker sealed the accounts; this thread only seals their events (bank details: 3 values).
          const pool = batchPool(todo.length, 3);
          todo.forEach((r, k) => {
            const account = sealed[k];
            if (account) r.value.sealed ??= withCipher(account, pool);
          });
          return;
        } catch {
          // A failed worker: this thread seals, here or in the transaction.
        }
      }
      const pool = batchPool(todo.length);
      for (const r of todo) r.value.sealed ??= seal(deps.ring, pool, r.value);
    },
    async close() {
      await worker?.close();
    },
    async write(tx, rows): Promise<WriteResult> {
      const result: WriteResult = { counts: { created: 0, updated: 0, unchanged: 0, notApplied: 0, rejected: 0 }, rejects: [], notes: [] };
      const counts = result.counts as Required<WriteResult['counts']>;
      const { rows: found } = await tx.query<{ id: string; nir_index: Uint8Array; agency_row_mac: Uint8Array | null }>(
        `SELECT id, nir_index, agency_row_mac FROM accounts WHERE nir_index = ANY($1::bytea[])`,
        [rows.map((r) => r.value.nirIndex)],
      );
      // By NIR index: what the database has, then what this batch creates (a NIR twice in one batch is compared like one already there).
      const known = new Map<string, { id: string; mac: Uint8Array | null; line: number | null }>(found.map((f) => [hex(f.nir_index), { id: f.id, mac: f.agency_row_mac, line: null }]));
      const creates: ValidRow<Beneficiary>[] = [];
      let pool: RandomPool | null = null;
      const updates: { row: ValidRow<Beneficiary>; accountId: string }[] = [];
      for (const row of rows) {
        const key = hex(row.value.nirIndex);
        const existing = known.get(key);
        if (!existing) {
          row.value.sealed ??= seal(deps.ring, (pool ??= batchPool(rows.length)), row.value);
          creates.push(row);
          known.set(key, { id: row.value.sealed.id, mac: row.value.rowMac, line: row.line });
        } else if (sameBytes(existing.mac, row.value.rowMac)) {
          counts.unchanged++;
        } else if (options.update) {
          updates.push({ row, accountId: existing.id });
          existing.mac = row.value.rowMac;
        } else {
          counts.notApplied++;
          result.rejects.push({
            line: row.line,
            fields: row.fields,
            reason: `changed: this NIR was already imported${existing.line !== null ? ` (line ${existing.line})` : ''} with other data; not applied (--update applies identity changes)`,
          });
        }
      }
      // Ids sealed ahead for rows that turned out to exist are simply dropped: nothing used them.
      if (creates.length > 0) {
        const now = deps.clock.now();
        const sealed = creates.map((r) => r.value.sealed as Sealed);
        await insertAccounts(tx, sealed, creates.map((r) => r.value), now);
        await appendInitialEvents(
          tx,
          deps,
          creates.flatMap((r) => (r.value.bank ? [{ accountId: (r.value.sealed as Sealed).id, cipher: (r.value.sealed as Sealed).cipher, type: 'bank-details.changed' as const, after: r.value.bank, actor: AGENCY_IMPORT, effectiveAt: null }] : [])),
        );
        counts.created += creates.length;
      }
      for (const { row, accountId } of updates) {
        const done = await updateIdentity(tx, deps, accountId, row.value);
        if (!done) {
          counts.rejected++;
          result.rejects.push({ line: row.line, fields: row.fields, reason: "nir: this account's data was erased (its key was shredded); not updated" });
          continue;
        }
        counts[done.updated ? 'updated' : 'unchanged']++;
        if (done.kept.length > 0) {
          result.notes.push({ line: row.line, message: `${done.kept.join(', ')}: differ from the beneficiary's file and were kept (an import never changes an existing account's contact or bank details)` });
        }
      }
      return result;
    },
  };
}
