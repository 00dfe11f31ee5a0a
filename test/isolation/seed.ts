import { createAccount } from '../../src/accounts/accounts.ts';
import { setPasswordHash } from '../../src/accounts/credentials.ts';
import { nirKey } from '../../src/accounts/nir.ts';
import type { Clock } from '../../src/clock.ts';
import type { KeyRing } from '../../src/crypto/keyring.ts';
import { hashPassword, type Argon2Params } from '../../src/crypto/passwords.ts';
import { newId } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import type { Database } from '../../src/db/database.ts';
import { appendEvent } from '../../src/file/events.ts';
import { distinctMasks, groupedIban, maskedIban } from '../support/french-ibans.ts';

/**
 * The run's citizens, made through the app's own functions in a system context, as the
 * agency's import would: an account, a password, bank details and a few payments, each
 * recorded as the agency's events. Everything that could show on a page is marked with the
 * citizen's code (4 letters), so that a page can be read for whose data it carries.
 */

export interface SeededCitizen {
  index: number;
  /** 4 lower-case letters, unique in the run. */
  code: string;
  accountId: string;
  nir: string;
  email: string;
  givenNames: string;
  familyName: string;
  iban: string;
  paymentReferences: string[];
}

export const PASSWORD = 'isolation: correct horse battery staple';

/** The marks that name a citizen on a page: `Citq<code>` (given names), `Isoq<code>` (family name, email, addresses), `Payq<code>` (payment references). */
export const MARK = /(?:citq|isoq|payq)([a-z]{4})/gi;

export function codeOf(index: number): string {
  let code = '';
  for (let i = 0, n = index; i < 4; i++, n = Math.floor(n / 26)) code = String.fromCharCode(97 + (n % 26)) + code;
  return code;
}

/** A valid NIR per index (not one any other test makes: born in 1979 in département 93). */
export function nirOf(index: number): string {
  const month = String((index % 12) + 1).padStart(2, '0');
  const commune = String((Math.floor(index / 12) % 990) + 1).padStart(3, '0');
  const order = String((Math.floor(index / (12 * 990)) % 999) + 1).padStart(3, '0');
  const body = `${index % 2 === 0 ? 1 : 2}79${month}93${commune}${order}`;
  return body + nirKey(body);
}

/** Every way an IBAN may be written on a page → the citizen it belongs to. */
export function ibanForms(iban: string): string[] {
  return [iban, groupedIban(iban), maskedIban(iban)];
}

const SEED_ACTOR = { kind: 'agency', id: 'import' } as const;

export async function seedCitizens(deps: { db: Database; ring: KeyRing; clock: Clock; argon2: Argon2Params }, count: number): Promise<SeededCitizen[]> {
  // One hash for all: the same password, its own salt would add nothing the login tests lack.
  const hash = await hashPassword(PASSWORD, deps.argon2);
  const ibans = distinctMasks(count, 1000);
  const today = deps.clock.now().toISOString().slice(0, 10);
  const month = (offset: number): string => {
    const d = new Date(`${today.slice(0, 7)}-05T12:00:00Z`);
    d.setUTCMonth(d.getUTCMonth() + offset);
    return d.toISOString().slice(0, 10);
  };
  const citizens: SeededCitizen[] = [];
  const BATCH = 25;
  for (let start = 0; start < count; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - start) }, (_, i) => start + i);
    const made = await system(deps.db, 'isolation-test-seed', async (tx) => {
      const out: SeededCitizen[] = [];
      for (const index of batch) {
        const code = codeOf(index);
        const c = {
          index,
          code,
          nir: nirOf(index),
          email: `isoq${code}@example.fr`,
          givenNames: `Citq${code}`,
          familyName: `Isoq${code}`,
          iban: ibans[index] ?? '',
          paymentReferences: [0, 1, 2].map((n) => `Payq${code}${n}`),
        };
        const { id: accountId } = await createAccount(tx, deps, {
          identity: { nir: c.nir, givenNames: c.givenNames, familyName: c.familyName, birthDate: '1979-03-21', birthPlace: 'Montreuil', gender: index % 2 === 0 ? 'male' : 'female' },
          contact: { email: c.email, phone: null, postalAddress: `${index + 1} rue Isoq${code}, 93100 MONTREUIL` },
          status: 'active',
          via: 'import',
        });
        await setPasswordHash(tx, deps.clock, accountId, hash);
        const common = { accountId, actor: SEED_ACTOR, sessionId: null, level: null };
        await appendEvent(tx, deps, { ...common, type: 'bank-details.changed', after: { iban: c.iban, holder: `${c.givenNames} ${c.familyName}` } });
        const payments = [
          { date: month(-2), status: 'paid' as const },
          { date: month(-1), status: 'paid' as const },
          { date: month(1), status: 'scheduled' as const },
        ];
        for (const [n, p] of payments.entries()) {
          await appendEvent(tx, deps, {
            ...common,
            type: 'payment.recorded',
            key: newId(),
            after: { reference: c.paymentReferences[n] ?? '', date: p.date, benefit: 'RSA', amountCents: 60_000 + index, status: p.status, iban: null },
          });
        }
        out.push({ ...c, accountId });
      }
      return out;
    });
    citizens.push(...made);
  }
  return citizens;
}
