import { test } from 'node:test';
import assert from 'node:assert/strict';
import { citizen, system } from '../../src/db/contexts.ts';
import { readEvents } from '../../src/file/events.ts';
import { NoFreeReferenceError, submitProcedure, type Submission } from '../../src/file/procedures/submit.ts';
import { listProcedures } from '../../src/file/projections/procedures.ts';
import { newAccount } from '../support/fixtures.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * References are random and unique across all files: one already taken by another citizen
 * (whose procedures this citizen's context cannot see) is drawn again before anything is
 * written; the database function says "taken" and nothing more.
 */
onEachBackend('procedure references', ({ t }) => {
  const submission = (accountId: string): Submission => ({
    accountId,
    sessionId: '00000000-0000-4000-8000-000000000001',
    level: 'eidas1',
    kind: 'payment-certificate',
    data: { from: '2025-01', to: '2025-06' },
    status: 'accepted',
  });

  test('a reference already taken in another file is drawn again: one event, no gap in the log', async () => {
    const a = await newAccount(t.deps.db, t.deps);
    const b = await newAccount(t.deps.db, t.deps);
    const taken = 'D-2026-AAAAAAAA';
    await citizen(t.deps.db, a, (tx) => submitProcedure(tx, t.deps, submission(a), { reference: () => taken }));

    const draws = [taken, taken, 'D-2026-BBBBBBBB'];
    const r = await citizen(t.deps.db, b, (tx) => submitProcedure(tx, t.deps, submission(b), { reference: () => draws.shift() ?? 'D-2026-CCCCCCCC' }));
    assert.equal(r.reference, 'D-2026-BBBBBBBB');
    const { events, procedures } = await system(t.deps.db, 'test', async (tx) => ({ events: await readEvents(tx, t.deps.ring, b), procedures: await listProcedures(tx, t.deps.ring, b) }));
    assert.deepEqual(events.map((e) => [e.seq, e.type]), [[1, 'procedure.submitted']]);
    assert.deepEqual(procedures.map((p) => [p.id, p.reference, p.status]), [[r.id, 'D-2026-BBBBBBBB', 'accepted']]);
  });

  test('the check tells a citizen context about other files only "taken or not"', async () => {
    const a = await newAccount(t.deps.db, t.deps);
    const b = await newAccount(t.deps.db, t.deps);
    await citizen(t.deps.db, a, (tx) => submitProcedure(tx, t.deps, submission(a), { reference: () => 'D-2026-EEEEEEEE' }));
    const seen = await citizen(t.deps.db, b, async (tx) => ({
      taken: (await tx.query<{ taken: boolean }>(`SELECT procedure_reference_taken($1) AS taken`, ['D-2026-EEEEEEEE'])).rows[0]?.taken,
      free: (await tx.query<{ taken: boolean }>(`SELECT procedure_reference_taken($1) AS taken`, ['D-2026-FFFFFFFF'])).rows[0]?.taken,
      rows: (await tx.query(`SELECT id FROM file_procedures WHERE reference = $1`, ['D-2026-EEEEEEEE'])).rows.length,
    }));
    assert.deepEqual(seen, { taken: true, free: false, rows: 0 });
  });

  test('after five draws all taken it gives up, and nothing is filed', async () => {
    const a = await newAccount(t.deps.db, t.deps);
    const b = await newAccount(t.deps.db, t.deps);
    await citizen(t.deps.db, a, (tx) => submitProcedure(tx, t.deps, submission(a), { reference: () => 'D-2026-DDDDDDDD' }));
    await assert.rejects(citizen(t.deps.db, b, (tx) => submitProcedure(tx, t.deps, submission(b), { reference: () => 'D-2026-DDDDDDDD' })), NoFreeReferenceError);
    const events = await system(t.deps.db, 'test', (tx) => readEvents(tx, t.deps.ring, b));
    assert.equal(events.length, 0);
  });
});
