import type { Clock } from '../clock.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import type { Database } from '../db/database.ts';
import { system } from '../db/contexts.ts';
import { hashPassword } from '../crypto/passwords.ts';
import { createAccount, findAccountByNir } from './accounts.ts';
import { setPasswordHash } from './credentials.ts';
import { formatNir, nirKey } from './nir.ts';

/**
 * The development demo citizen. Fictitious on purpose: commune 999 and order 999 do not
 * exist, so the number cannot be anyone's. Never created in production (see start).
 */
const BODY = '1990175999999';
export const DEMO = {
  nir: BODY + nirKey(BODY),
  password: 'demo-sesame-2026',
  email: 'camille.demo@example.org',
} as const;

export async function ensureDemoCitizen(db: Database, deps: { ring: KeyRing; clock: Clock }): Promise<{ created: boolean }> {
  const existing = await system(db, 'demo', (tx) => findAccountByNir(tx, deps.ring, DEMO.nir));
  if (existing) return { created: false };
  const hash = await hashPassword(DEMO.password);
  await system(db, 'demo', async (tx) => {
    const { id } = await createAccount(tx, deps, {
      identity: { nir: DEMO.nir, givenNames: 'Camille', familyName: 'Démo', birthDate: '1999-01-01', birthPlace: 'Paris', gender: 'male' },
      contact: { email: DEMO.email, phone: null, postalAddress: null },
      status: 'active',
      via: 'demo',
    });
    await setPasswordHash(tx, deps.clock, id, hash);
  });
  return { created: true };
}

export function demoInstructions(mailDir: string): string {
  return [
    'Demo citizen (development only):',
    `  NIR       ${formatNir(DEMO.nir)}`,
    `  password  ${DEMO.password}`,
    `  codes     sent by email, written as .eml files under ${mailDir}`,
  ].join('\n');
}
