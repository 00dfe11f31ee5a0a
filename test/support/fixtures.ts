import type { Clock } from '../../src/clock.ts';
import type { KeyRing } from '../../src/crypto/keyring.ts';
import type { Database } from '../../src/db/database.ts';
import { system } from '../../src/db/contexts.ts';
import { createAccount, type Contact, type Identity } from '../../src/accounts/accounts.ts';
import { nirKey } from '../../src/accounts/nir.ts';

let serial = 0;

/** A valid NIR that no other test in this process uses (the key is computed, not guessed). */
export function uniqueNir(sex: 1 | 2 = 1): string {
  serial++;
  const body = `${sex}85${String((serial % 12) + 1).padStart(2, '0')}75${String(100 + (serial % 800)).padStart(3, '0')}${String(serial).padStart(3, '0').slice(-3)}`;
  return body + nirKey(body);
}

export interface PersonInput {
  identity?: Partial<Identity>;
  contact?: Partial<Contact>;
  status?: 'pending_activation' | 'active';
}

export function person(input: PersonInput = {}): { identity: Identity; contact: Contact } {
  return {
    identity: {
      nir: uniqueNir(),
      givenNames: 'Camille',
      familyName: 'Martin',
      birthDate: '1985-07-14',
      birthPlace: 'Paris',
      gender: 'female',
      ...input.identity,
    },
    contact: { email: `camille.martin.${serial}@example.fr`, phone: null, postalAddress: null, ...input.contact },
  };
}

export async function newAccount(db: Database, deps: { ring: KeyRing; clock: Clock }, input: PersonInput = {}): Promise<string> {
  const p = person(input);
  const { id } = await system(db, 'test', (tx) => createAccount(tx, deps, { ...p, status: input.status ?? 'active', via: 'cli' }));
  return id;
}
