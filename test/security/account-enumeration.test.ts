import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import type { TestApp } from '../support/app.ts';
import { uniqueNir } from '../support/fixtures.ts';
import { citizenWithPassword } from '../support/login.ts';
import { countedApp, type CountingHasher } from '../support/rules-hasher.ts';
import { attemptLogin, freshIp, type Attempt } from '../support/rules-login.ts';

/**
 * Account enumeration: someone holding a list of NIRs (or typing them one by one) learns from
 * the login page which ones have an account, which are active, or which password is close.
 * Every failure answers alike: same status, same alert, same page, same number of Argon2id
 * computations (the work a timing attack would measure; timing itself is not asserted).
 */
let db: OpenDatabase;
let t: TestApp;
let hasher: CountingHasher;
before(async () => {
  db = await openDatabase({ migrate: true });
  ({ t, hasher } = await countedApp({ db, clock: new ManualClock() }));
  // The dummy hash an unknown NIR is checked against is made once per process: make it now.
  await attemptLogin(t, { nir: uniqueNir(), password: 'warming up the dummy hash', ip: freshIp() });
});
after(async () => {
  await t.close();
  await db.close();
});

interface Observed {
  status: number;
  alert: string | undefined;
  page: string;
  headers: string[];
  hashes: number;
  verifies: number;
}

/** One attempt from a fresh browser and address: what the attacker sees, and what it cost. */
async function observe(nir: string, password: string): Promise<Observed> {
  const before = hasher.snapshot();
  const a: Attempt = await attemptLogin(t, { nir, password, ip: freshIp() });
  const page = a.res.body
    .replace(/name="_csrf" value="[^"]*"/, 'name="_csrf" value="…"')
    .replace(/(id="nir" name="nir" type="text")(?: value="[^"]*")?/, '$1'); // what was typed is given back
  return {
    status: a.status,
    alert: a.alert,
    page,
    headers: Object.keys(a.res.headers).filter((h) => h !== 'date' && h !== 'content-length').sort(),
    hashes: hasher.hashes - before.hashes,
    verifies: hasher.verifies - before.verifies,
  };
}

describe('the password step does not tell whether a NIR has an account', () => {
  test('wrong NIR, unknown NIR, malformed NIR, wrong password, pending account: same status, alert, page and hash count', async () => {
    const c = await citizenWithPassword(t);
    const pending = await citizenWithPassword(t, { status: 'pending_activation' });
    const typo = `${c.nir.slice(0, 13)}${c.nir.slice(13) === '01' ? '02' : '01'}`; // the key does not match
    const cases: Record<string, [string, string]> = {
      'wrong password': [c.nir, 'not the password at all'],
      'wrong NIR (a typo, the key does not match)': [typo, c.password],
      'unknown NIR': [uniqueNir(), c.password],
      'malformed NIR (too short)': ['123', c.password],
      'malformed NIR (letters)': ['ABCDEFGHIJKLMNO', c.password],
      'empty NIR': ['', c.password],
      'pending account, its right password': [pending.nir, pending.password],
      'pending account, a wrong password': [pending.nir, 'not the password at all'],
    };
    const reference = await observe(...(cases['wrong password'] as [string, string]));
    assert.equal(reference.status, 401);
    assert.match(reference.alert ?? '', /Le numéro de sécurité sociale ou le mot de passe est incorrect/);
    assert.deepEqual([reference.hashes, reference.verifies], [0, 1], 'one Argon2id verification');
    for (const [name, [nir, password]] of Object.entries(cases)) {
      const { page, ...seen } = await observe(nir, password);
      const { page: referencePage, ...expected } = reference;
      assert.deepEqual(seen, expected, name);
      assert.ok(page === referencePage, `${name}: the page differs from the wrong-password page`);
    }
  });

  test('throttling answers alike too: an unknown NIR is delayed exactly like a known one, with no hash', async () => {
    const c = await citizenWithPassword(t);
    const unknown = uniqueNir();
    const known: Observed[] = [];
    const ghost: Observed[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await observe(c.nir, `guess ${i}`));
      ghost.push(await observe(unknown, `guess ${i}`));
    }
    assert.deepEqual(known.map((o) => o.status), [401, 401, 401, 401, 401, 429, 429]);
    assert.deepEqual(known.map((o) => o.verifies), [1, 1, 1, 1, 1, 0, 0]);
    assert.deepEqual(ghost, known);
  });

  test('the very first attempt a new server process answers costs the same for an unknown NIR as for a wrong password', async () => {
    // The dummy hash is made once per process when the app gets ready: the first unknown NIR
    // must not pay for it (two Argon2id computations where a wrong password costs one).
    const first = async (kind: 'unknown NIR' | 'wrong password'): Promise<{ hashes: number; verifies: number }> => {
      const fresh = await countedApp({ db, clock: new ManualClock() });
      try {
        const c = await citizenWithPassword(fresh.t);
        await attemptLogin(fresh.t, { nir: kind === 'unknown NIR' ? uniqueNir() : c.nir, password: 'not the password at all', ip: freshIp() });
        return fresh.hasher.snapshot();
      } finally {
        await fresh.t.close();
      }
    };
    assert.deepEqual(await first('unknown NIR'), await first('wrong password'));
  });
});
