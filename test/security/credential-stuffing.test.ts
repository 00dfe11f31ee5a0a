import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { backends, type TestDatabase } from '../support/databases.ts';
import type { TestApp } from '../support/app.ts';
import { uniqueNir } from '../support/fixtures.ts';
import { citizenWithPassword } from '../support/login.ts';
import { clientFailures, throttleOf } from '../support/rules-db.ts';
import { countedApp, type CountingHasher } from '../support/rules-hasher.ts';
import { attemptLogin, freshIp } from '../support/rules-login.ts';

/**
 * Credential stuffing: lists of NIR + password pairs from other breaches, tried in bulk. One
 * address trying many NIRs is capped (50 failures per 15 minutes by default); many addresses
 * on one NIR meet the account throttle; and since the counters live in the database, a
 * second server instance behind the load balancer sees the failures the first one counted.
 */
describe('one instance', () => {
  let db: OpenDatabase;
  let t: TestApp;
  let hasher: CountingHasher;
  before(async () => {
    db = await openDatabase({ migrate: true });
    ({ t, hasher } = await countedApp({ db, clock: new ManualClock() }));
  });
  after(async () => {
    await t.close();
    await db.close();
  });

  test('one address trying many NIRs: 50 failures, then every attempt from it is refused without hashing, the right pair included', async () => {
    const c = await citizenWithPassword(t);
    const ip = freshIp();
    const start = hasher.snapshot();
    for (let i = 0; i < 50; i++) {
      const nir = i % 12 === 11 ? c.nir : uniqueNir(); // the list has the citizen's NIR 4 times, with stale passwords
      assert.equal((await attemptLogin(t, { nir, password: `leaked password ${i}`, ip })).status, 401, `pair ${i + 1}`);
    }
    assert.equal(hasher.verifies - start.verifies, 50);
    for (let i = 0; i < 5; i++) assert.equal((await attemptLogin(t, { nir: uniqueNir(), password: 'leaked', ip })).status, 429);
    const right = await attemptLogin(t, { nir: c.nir, password: c.password, ip });
    assert.equal(right.status, 429, 'even the right pair, from this address');
    assert.equal(right.retryAfter, 15 * 60);
    assert.equal(hasher.verifies - start.verifies, 50, 'no hash computed once capped');
    assert.equal(await clientFailures(t.deps, ip), 50);
    assert.equal((await throttleOf(t.deps, c.nir))?.consecutive_failures, 4, 'the account saw only the 4 tries on its NIR');
    assert.equal((await attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() })).status, 303, 'the citizen, elsewhere, logs in');
  });

  test('many addresses on one NIR: the account throttle stops them after 5, whatever the address', async () => {
    const c = await citizenWithPassword(t);
    const start = hasher.snapshot();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attemptLogin(t, { nir: c.nir, password: `leaked password ${i}`, ip: freshIp() })).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429, 429, 429]);
    assert.equal(hasher.verifies - start.verifies, 5);
  });
});

// Two instances on one database: PostgreSQL when DATABASE_URL is set, one shared PGlite otherwise.
const shared = backends().find((b) => b.name === 'postgres' && !b.skip) ?? backends()[0];
assert.ok(shared);

describe(`two server instances sharing one database (${shared.name})`, () => {
  let tdb: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let hashA: CountingHasher;
  let hashB: CountingHasher;
  before(async () => {
    tdb = await shared.open();
    // One deployment: the same key file, each process its own clock (showing the same time).
    const ring = KeyRing.generate('kek-shared');
    const env = { SESAME_THROTTLE_IP_MAX_FAILURES: '8' };
    ({ t: a, hasher: hashA } = await countedApp({ db: tdb.db, ring, clock: new ManualClock(), env }));
    ({ t: b, hasher: hashB } = await countedApp({ db: tdb.db, ring, clock: new ManualClock(), env }));
  });
  after(async () => {
    await a.close();
    await b.close();
    await tdb.close();
  });

  test('failures on instance A count on instance B: 3 on A + 2 on B, then both refuse', async () => {
    const c = await citizenWithPassword(a);
    const start = [hashA.verifies, hashB.verifies];
    for (let i = 0; i < 3; i++) assert.equal((await attemptLogin(a, { nir: c.nir, password: `wrong ${i}`, ip: freshIp() })).status, 401);
    for (let i = 0; i < 2; i++) assert.equal((await attemptLogin(b, { nir: c.nir, password: `wrong ${i}`, ip: freshIp() })).status, 401);
    const onB = await attemptLogin(b, { nir: c.nir, password: c.password, ip: freshIp() });
    const onA = await attemptLogin(a, { nir: c.nir, password: c.password, ip: freshIp() });
    assert.deepEqual([onA.status, onB.status], [429, 429]);
    assert.deepEqual([onA.retryAfter, onB.retryAfter], [30, 30]);
    assert.deepEqual([hashA.verifies - (start[0] ?? 0), hashB.verifies - (start[1] ?? 0)], [3, 2]);
  });

  test('a success on B resets the counter A sees', async () => {
    const c = await citizenWithPassword(a);
    for (let i = 0; i < 4; i++) await attemptLogin(a, { nir: c.nir, password: `wrong ${i}`, ip: freshIp() });
    assert.equal((await attemptLogin(b, { nir: c.nir, password: c.password, ip: freshIp() })).status, 303);
    for (let i = 0; i < 5; i++) assert.equal((await attemptLogin(a, { nir: c.nir, password: `again ${i}`, ip: freshIp() })).status, 401, `free failure ${i + 1}`);
  });

  test('the per-address cap is shared too: 4 failures on A and 4 on B from one address, then both refuse it', async () => {
    const ip = freshIp();
    for (let i = 0; i < 4; i++) assert.equal((await attemptLogin(a, { nir: uniqueNir(), password: 'leaked', ip })).status, 401);
    for (let i = 0; i < 4; i++) assert.equal((await attemptLogin(b, { nir: uniqueNir(), password: 'leaked', ip })).status, 401);
    assert.equal((await attemptLogin(a, { nir: uniqueNir(), password: 'leaked', ip })).status, 429);
    assert.equal((await attemptLogin(b, { nir: uniqueNir(), password: 'leaked', ip })).status, 429);
  });

  test('20 attempts at once on a NIR that already failed once, from 20 addresses, split over both instances: exactly 4 more passwords checked', async () => {
    const c = await citizenWithPassword(a);
    assert.equal((await attemptLogin(b, { nir: c.nir, password: 'first try', ip: freshIp() })).status, 401);
    const start = hashA.verifies + hashB.verifies;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => attemptLogin(i % 2 === 0 ? a : b, { nir: c.nir, password: `leaked password ${i}`, ip: freshIp() })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.equal(hashA.verifies + hashB.verifies - start, 4, `passwords checked; statuses ${statuses.join(',')}`);
    assert.deepEqual(statuses, [...Array<number>(4).fill(401), ...Array<number>(16).fill(429)]);
    assert.equal((await throttleOf(a.deps, c.nir))?.consecutive_failures, 5);
  });

  test('20 attempts at once on a NIR nobody tried yet, from 20 addresses, split over both instances: exactly 5 passwords checked', async () => {
    const c = await citizenWithPassword(a);
    const start = hashA.verifies + hashB.verifies;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => attemptLogin(i % 2 === 0 ? a : b, { nir: c.nir, password: `leaked password ${i}`, ip: freshIp() })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.equal(hashA.verifies + hashB.verifies - start, 5, `passwords checked; statuses ${statuses.join(',')}`);
    assert.deepEqual(statuses, [...Array<number>(5).fill(401), ...Array<number>(15).fill(429)]);
    assert.equal((await throttleOf(a.deps, c.nir))?.consecutive_failures, 5, 'every failure counted');
  });
});
