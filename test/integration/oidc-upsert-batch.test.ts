import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { system } from '../../src/db/contexts.ts';
import type { Queryable } from '../../src/db/database.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { systemClock } from '../../src/clock.ts';
import { OidcPayloadKeys } from '../../src/oidc/payload-keys.ts';
import { UpsertBatch, type UpsertRow } from '../../src/oidc/upsert-batch.ts';
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

  test('a row that cannot be written fails its own caller only; the others of its turn are written', async () => {
    const batch = new UpsertBatch(counted);
    sent.length = 0;
    const good = [row(), row()];
    const bad = row({ keyId: randomUUID() }); // no such data key: a foreign-key violation
    const results = await Promise.allSettled([batch.add(good[0] as UpsertRow), batch.add(bad), batch.add(good[1] as UpsertRow)]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[1] as PromiseRejectedResult).reason as { code?: string };
    assert.equal(reason.code, '23503');
    assert.deepEqual(sent, ['many', 'one', 'one', 'one']);
    for (const r of good) assert.equal((await stored(r[1])).length, 1);
    assert.equal((await stored(bad[1])).length, 0);
  });
});
