import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangeType, FileEventType, Part } from '../../src/file/catalogue.ts';
import type { ActorKind, FileEvent } from '../../src/file/events.ts';
import { cancellationOrder, planAccount } from '../../src/incident/cancel-plan.ts';

/**
 * The decision `sesame incident cancel` takes for one file, from its events alone: which
 * changes it undoes, which are conflicts (and with what), which were already undone.
 */

const W = { from: new Date('2021-10-14T08:00:00Z'), to: new Date('2021-10-14T19:00:00Z') };
const ACCOUNT = '00000000-0000-4000-8000-000000000001';
const PROC = '00000000-0000-4000-8000-0000000000aa';
const PART_OF: Record<ChangeType, Part> = {
  'contact.email-changed': 'contact.email-changed',
  'contact.phone-changed': 'contact.phone-changed',
  'contact.address-changed': 'contact.address-changed',
  'bank-details.changed': 'bank-details.changed',
  'procedure.submitted': 'procedure',
  'procedure.status-changed': 'procedure',
  'payment.recorded': 'payment',
};

/** A log built in order: each event names its type, when (hh:mm on the window's day, or a full instant), by whom. */
function log(specs: { id: string; type: ChangeType | ['event.cancelled', string]; at: string; by?: ActorKind; key?: string }[]): FileEvent[] {
  const byId = new Map<string, ChangeType>();
  return specs.map((s, i) => {
    const cancels = Array.isArray(s.type) ? s.type[1] : null;
    const of = cancels ? (byId.get(cancels) as ChangeType) : (s.type as ChangeType);
    const type: FileEventType = cancels ? 'event.cancelled' : of;
    byId.set(s.id, of);
    const key = s.key ?? (PART_OF[of] === 'procedure' ? PROC : null);
    return {
      id: s.id,
      accountId: ACCOUNT,
      seq: i + 1,
      type,
      data: { key, before: null, after: null },
      effect: { part: PART_OF[of], key, value: null },
      actor: { kind: s.by ?? 'citizen', id: s.by === 'agency' ? 'caf-75' : ACCOUNT },
      sessionId: null,
      level: null,
      occurredAt: new Date(s.at.includes('T') ? s.at : `2021-10-14T${s.at}:00Z`),
      cancels,
      effectiveAt: null,
    } as FileEvent;
  });
}

const actions = (events: FileEvent[]) => planAccount(events, W).changes.map((c) => [c.eventId, c.action, c.laterEventId ?? c.cancelledBy ?? null]);

test('only citizens’ changes inside [from, to): before, at `to`, and the agency’s are not selected', () => {
  const events = log([
    { id: 'before', type: 'contact.email-changed', at: '07:59' },
    { id: 'start', type: 'contact.phone-changed', at: '08:00' },
    { id: 'agency', type: 'payment.recorded', at: '09:00', by: 'agency', key: '00000000-0000-4000-8000-0000000000bb' },
    { id: 'end', type: 'contact.address-changed', at: '19:00' },
  ]);
  assert.deepEqual(actions(events), [['start', 'cancel', null]]);
});

test('several changes of one field in the window are undone newest first; no conflict among them', () => {
  const events = log([
    { id: 'p1', type: 'contact.phone-changed', at: '09:00' },
    { id: 'email', type: 'contact.email-changed', at: '09:30' },
    { id: 'p2', type: 'contact.phone-changed', at: '10:00' },
  ]);
  const plan = planAccount(events, W);
  assert.deepEqual(actions(events), [['p1', 'cancel', null], ['email', 'cancel', null], ['p2', 'cancel', null]]);
  assert.deepEqual(cancellationOrder(plan).map((c) => c.eventId), ['p2', 'email', 'p1']);
});

test('a later change of the same field outside the selection is a conflict, for every earlier change of it in the window', () => {
  const events = log([
    { id: 'p1', type: 'contact.phone-changed', at: '09:00' },
    { id: 'p2', type: 'contact.phone-changed', at: '10:00' },
    { id: 'email', type: 'contact.email-changed', at: '10:30' },
    { id: 'after', type: 'contact.phone-changed', at: '2021-10-15T09:00:00Z' },
  ]);
  assert.deepEqual(actions(events), [['p1', 'conflict', 'after'], ['p2', 'conflict', 'after'], ['email', 'cancel', null]]);
});

test('the agency changing the same thing in the window, after the citizen, is a conflict; a citizen change after the agency’s is undone', () => {
  const events = log([
    { id: 'mine', type: 'bank-details.changed', at: '09:00' },
    { id: 'agency', type: 'bank-details.changed', at: '10:00', by: 'agency' },
    { id: 'again', type: 'bank-details.changed', at: '11:00' },
  ]);
  assert.deepEqual(actions(events), [['mine', 'conflict', 'agency'], ['again', 'cancel', null]]);
});

test('a procedure the agency decided on afterwards is a conflict; another procedure is not', () => {
  const other = '00000000-0000-4000-8000-0000000000cc';
  const events = log([
    { id: 'filed', type: 'procedure.submitted', at: '09:00' },
    { id: 'filed2', type: 'procedure.submitted', at: '09:10', key: other },
    { id: 'review', type: 'procedure.status-changed', at: '2021-10-16T09:00:00Z', by: 'agency' },
  ]);
  assert.deepEqual(actions(events), [['filed', 'conflict', 'review'], ['filed2', 'cancel', null]]);
});

test('undone already (an earlier run, or the citizen after the window): already-cancelled, and no conflict for what came before it', () => {
  const events = log([
    { id: 'p1', type: 'contact.phone-changed', at: '09:00' },
    { id: 'p2', type: 'contact.phone-changed', at: '10:00' },
    { id: 'undo-p2', type: ['event.cancelled', 'p2'], at: '2021-10-20T09:00:00Z', by: 'operator' },
  ]);
  assert.deepEqual(actions(events), [['p1', 'cancel', null], ['p2', 'already-cancelled', 'undo-p2']]);
});

test('a citizen’s own cancellation in the window is left alone and listed apart', () => {
  const events = log([
    { id: 'before', type: 'bank-details.changed', at: '07:00' },
    { id: 'undo-before', type: ['event.cancelled', 'before'], at: '09:00' },
    { id: 'mine', type: 'contact.phone-changed', at: '10:00' },
    { id: 'undo-mine', type: ['event.cancelled', 'mine'], at: '10:05' },
  ]);
  const plan = planAccount(events, W);
  assert.deepEqual(actions(events), [['mine', 'already-cancelled', 'undo-mine']]);
  assert.deepEqual(
    plan.leftAlone.map((l) => [l.eventId, l.cancels]),
    [
      ['undo-before', 'before'],
      ['undo-mine', 'mine'],
    ],
  );
});
