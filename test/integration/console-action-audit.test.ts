import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audit } from '../../src/audit/log.ts';
import { closeAccess, openAccess, readAccess } from '../../src/incident/access.ts';
import { onEachBackend } from '../support/suites.ts';
import { auditTypes } from '../support/console.ts';

/**
 * The console's `staff.action` event is written in the switch's own transaction (the `also`
 * callback of closeAccess/openAccess): if the record cannot be written, the change does not
 * happen either, and the other way round.
 */
onEachBackend('console action and its record', ({ t }) => {
  const by = { kind: 'staff' as const, name: 'claire.ops' };

  test('a record that fails takes the close with it', async () => {
    const before = (await auditTypes(t, 'access.closed')).length;
    await assert.rejects(
      closeAccess(t.deps.db, t.deps.clock, {
        scope: 'citizens',
        by,
        reason: 'INC-TEST',
        also: () => Promise.reject(new Error('audit unavailable')),
      }),
      /audit unavailable/,
    );
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, true, 'still open');
    assert.equal((await auditTypes(t, 'access.closed')).length, before, 'no access.closed either');
  });

  test('the record is written with the change, in its transaction', async () => {
    const change = await closeAccess(t.deps.db, t.deps.clock, {
      scope: 'citizens',
      by,
      reason: 'INC-TEST',
      also: async (tx, c) => {
        // Inside the transaction the change is already visible.
        const { rows } = await tx.query<{ open: boolean }>(`SELECT open FROM citizen_access`);
        assert.equal(rows[0]?.open, false);
        await audit(tx, t.deps.clock, { type: 'staff.action', accountId: null, payload: { staffId: '00000000-0000-4000-8000-000000000000', sessionId: 'test', action: 'access-close', scope: 'citizens', changed: c.changed, incident: c.incident } });
      },
    });
    assert.equal(change.changed, true);
    const actions = (await auditTypes(t, 'staff.action')).filter((e) => e.payload.sessionId === 'test');
    assert.equal(actions.length, 1);
    await openAccess(t.deps.db, t.deps.clock, { scope: 'citizens', by });
  });
});
