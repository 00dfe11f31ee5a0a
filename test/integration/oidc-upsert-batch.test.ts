import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { system } from '../../src/db/contexts.ts';
import type { Queryable } from '../../src/db/database.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { systemClock } from '../../src/clock.ts';
import { OidcPayloadKeys } from '../../src/oidc/payload-keys.ts';
import { UpsertBatch, type UpsertRow } from '../../src/oidc/upsert-batch.ts';
import { createOidcStore, PgAdapter } from '../../src/oidc/adapter.ts';
import { revokeGrant } from '../../src/oidc/connected-services.ts';
import { backends, type TestDatabase } from '../support/databases.ts';

/**
 * The provider's saves of one event-loop turn go to PostgreSQL as one statement (upsert-batch.ts,
 * the token endpoint's hot path). Each caller must still learn whether its own row was written,
 * and the result must be what one statement per save would have left.
 */
const postgres = backends().find((b) => b.name === 'postgres');
assert.ok(postgres);

describe('UpsertBatch on postgres (PGlite has no round trips to save: it keeps one statement per save)', { skip: postgres.skip }, () => {
  let t: TestDatabase;
  let keyId: string;
  const sent: string[] = [];
  let counted: Queryable;

  before(async () => {
    t = await postgres.open();
    const statements = t.db.oidcSystemStatements;
    assert.ok(statements, 'PostgreSQL has the system statements');
    counted = {
      query: (sql, params) => {
        sent.push(sql.includes('unnest') ? 'many' : 'one');
        return statements.query(sql, params);
      },
    };
    keyId = (await new OidcPayloadKeys(t.db, KeyRing.generate('kek-batch'), systemClock).current()).id;
  });
  after(() => t.close());

  const row = (over: { model?: string; idMac?: Buffer; keyId?: string; consumedAt?: Date | null; payload?: string } = {}): UpsertRow => [
    over.model ?? 'AccessToken',
    over.idMac ?? randomBytes(32),
    over.keyId ?? keyId,
    Buffer.from(over.payload ?? 'sealed'),
    null,
    null,
    null,
    null,
    new Date(Date.now() + 60_000),
    over.consumedAt ?? null,
  ];
  const stored = (idMac: Buffer): Promise<{ payload: string; consumed: boolean }[]> =>
    system(t.db, 'test', async (tx) =>
      (await tx.query<{ payload: Uint8Array; consumed_at: Date | null }>(`SELECT payload, consumed_at FROM oidc_payloads WHERE id_mac = $1`, [idMac])).rows.map((r) => ({ payload: Buffer.from(r.payload).toString(), consumed: r.consumed_at !== null })),
    );

  test('saves made in the same turn leave as one statement, and each caller waits for its row', async () => {
    const batch = new UpsertBatch(counted);
    sent.length = 0;
    const rows = Array.from({ length: 5 }, () => row());
    await Promise.all(rows.map((r) => batch.add(r)));
    assert.deepEqual(sent, ['many']);
    for (const r of rows) assert.equal((await stored(r[1])).length, 1);
  });

  test('a save alone is the one-row statement; saves of later turns are later statements', async () => {
    const batch = new UpsertBatch(counted);
    sent.length = 0;
    await batch.add(row());
    await batch.add(row());
    assert.deepEqual(sent, ['one', 'one']);
  });

  test('the same row twice in a turn: the later save, with the earlier consumed mark kept', async () => {
    const batch = new UpsertBatch(counted);
    const idMac = randomBytes(32);
    await Promise.all([batch.add(row({ idMac, consumedAt: new Date(), payload: 'first' })), batch.add(row({ idMac, payload: 'second' })), batch.add(row())]);
    assert.deepEqual(await stored(idMac), [{ payload: 'second', consumed: true }]);
  });

  test('a consumed mark already stored survives a batched save without one', async () => {
    const batch = new UpsertBatch(counted);
    const idMac = randomBytes(32);
    await batch.add(row({ idMac, consumedAt: new Date() }));
    await Promise.all([batch.add(row({ idMac, payload: 'again' })), batch.add(row())]);
    assert.deepEqual(await stored(idMac), [{ payload: 'again', consumed: true }]);
  });

  test('two saves of one row in a turn, both consumed: the first mark stays, as two statements would leave it', async () => {
    const batch = new UpsertBatch(counted);
    const idMac = randomBytes(32);
    const first = new Date(Date.now() - 5000);
    await Promise.all([batch.add(row({ idMac, consumedAt: first })), batch.add(row({ idMac, consumedAt: new Date() })), batch.add(row())]);
    const { rows } = await t.superuser(`SELECT consumed_at FROM oidc_payloads WHERE id_mac = $1`, [idMac]);
    assert.equal((rows[0] as { consumed_at: Date }).consumed_at.getTime(), first.getTime());
  });

  test('two batches on the wire at once with the same rows in opposite orders: no deadlock, no fallback', async () => {
    const fallbacks: number[] = [];
    const a = new UpsertBatch(counted, (_err, rows) => fallbacks.push(rows));
    const b = new UpsertBatch(counted, (_err, rows) => fallbacks.push(rows));
    for (let round = 0; round < 5; round++) {
      const rows = Array.from({ length: 20 }, () => row());
      const started = performance.now();
      await Promise.all([...rows.map((r) => a.add(r)), ...[...rows].reverse().map((r) => b.add(r))]);
      // A deadlock is found after deadlock_timeout (1 s) and one side retried row by row.
      assert.ok(performance.now() - started < 900, `round ${round} took ${Math.round(performance.now() - started)} ms`);
    }
    assert.deepEqual(fallbacks, []);
  });

  test('a save still queued when its row is destroyed lands before the delete, not after it', async () => {
    const store = createOidcStore({ db: t.db, ring: KeyRing.generate('kek-order'), clock: systemClock });
    const tokens = new PgAdapter('AccessToken', store);
    await store.keys.current(); // the data key known, as on a warm server: a save is queued within the tick
    const queued = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
    const saved = tokens.upsert('token-saved-then-destroyed', { jti: 'token-saved-then-destroyed', kind: 'AccessToken', clientId: 'c' }, 60);
    await queued();
    await tokens.destroy('token-saved-then-destroyed');
    await saved;
    assert.equal(await tokens.find('token-saved-then-destroyed'), undefined);
    // And for a grant's revocation.
    const withGrant = tokens.upsert('token-of-revoked-grant', { jti: 'token-of-revoked-grant', kind: 'AccessToken', clientId: 'c', grantId: 'grant-revoked' }, 60);
    await queued();
    await tokens.revokeByGrantId('grant-revoked');
    await withGrant;
    assert.equal(await tokens.find('token-of-revoked-grant'), undefined);
  });

  test('a save still waiting for the data key when its row is destroyed lands before the delete, not after it', async () => {
    // A new store: its first save reads (or makes) the data key first, a transaction of its own.
    const store = createOidcStore({ db: t.db, ring: KeyRing.generate('kek-cold'), clock: systemClock });
    const tokens = new PgAdapter('AccessToken', store);
    const saved = tokens.upsert('token-of-a-cold-store', { jti: 'token-of-a-cold-store', kind: 'AccessToken', clientId: 'c' }, 60);
    await tokens.destroy('token-of-a-cold-store');
    await saved;
    assert.equal(await tokens.find('token-of-a-cold-store'), undefined);
  });

  test('a grant revoked (a consent withdrawn) through the provider\'s store while a token of it is still being saved: both gone, none left behind', async () => {
    const store = createOidcStore({ db: t.db, ring: KeyRing.generate('kek-withdraw'), clock: systemClock });
    const grants = new PgAdapter('Grant', store);
    const tokens = new PgAdapter('AccessToken', store);
    const saves = [
      grants.upsert('grant-withdrawn', { jti: 'grant-withdrawn', kind: 'Grant', accountId: randomUUID(), clientId: 'c' }, 60),
      tokens.upsert('token-of-withdrawn', { jti: 'token-of-withdrawn', kind: 'AccessToken', clientId: 'c', grantId: 'grant-withdrawn' }, 60),
    ];
    await revokeGrant(store, 'grant-withdrawn');
    await Promise.all(saves);
    assert.equal(await grants.find('grant-withdrawn'), undefined);
    assert.equal(await tokens.find('token-of-withdrawn'), undefined);
  });

  test('under a steady stream of saves (a new one every turn, none waited for), a destroy still ends', async () => {
    const store = createOidcStore({ db: t.db, ring: KeyRing.generate('kek-stream'), clock: systemClock });
    const tokens = new PgAdapter('AccessToken', store);
    await store.keys.current();
    let streaming = true;
    let n = 0;
    // A new save at every turn of the event loop, none waited for: some batch is always pending.
    const started: Promise<void>[] = [];
    const stream = (async () => {
      while (streaming) {
        started.push(tokens.upsert(`stream-${n}`, { jti: `stream-${n++}`, kind: 'AccessToken', clientId: 'c' }, 60));
        await new Promise((resolve) => setImmediate(resolve));
      }
      await Promise.all(started);
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const deadline = new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 3000));
    const outcome = await Promise.race([tokens.destroy('stream-0').then(() => 'done' as const), deadline]);
    streaming = false;
    await stream;
    assert.equal(outcome, 'done', 'the destroy did not wait for saves made after it');
    assert.ok(n > 50, `saves kept coming (${n})`);
    assert.equal(await tokens.find('stream-0'), undefined);
  });

  test('a row that cannot be written fails its own caller only; the others of its turn are written', async () => {
    const fallbacks: number[] = [];
    const batch = new UpsertBatch(counted, (_err, rows) => fallbacks.push(rows));
    sent.length = 0;
    const good = [row(), row()];
    const bad = row({ keyId: randomUUID() }); // no such data key: a foreign-key violation
    const results = await Promise.allSettled([batch.add(good[0] as UpsertRow), batch.add(bad), batch.add(good[1] as UpsertRow)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[1] as PromiseRejectedResult).reason as { code?: string };
    assert.equal(reason.code, '23503');
    assert.deepEqual(sent, ['many', 'one', 'one', 'one']);
    assert.deepEqual(fallbacks, [3], 'the fallback is reported (the server logs it)');
    for (const r of good) assert.equal((await stored(r[1])).length, 1);
    assert.equal((await stored(bad[1])).length, 0);
  });
});
