import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { findIncident, timelineOf } from '../../src/incident/incidents.ts';
import { instantFromLocal, localFromInstant } from '../../src/time-format.ts';
import { auditTypes, enrolStaff, postKeptForm, stepUpAt } from '../support/console.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * On-call staff away from a terminal open an incident from the console, as `sesame incident
 * open` does: a title and the detection time typed in the site's zone; a wrong field is shown
 * again with its message and nothing is opened; the action needs a fresh passkey and is
 * recorded (the incident's timeline, a staff.action audit event).
 */
test('datetime-local values are read in the site zone, both ways, and nonsense is refused', () => {
  assert.equal(instantFromLocal('2026-12-03T18:05', 'Europe/Paris')?.toISOString(), '2026-12-03T17:05:00.000Z');
  assert.equal(instantFromLocal('2026-07-01T12:00', 'Europe/Paris')?.toISOString(), '2026-07-01T10:00:00.000Z');
  assert.equal(instantFromLocal('2026-07-01T12:00', 'America/Cayenne')?.toISOString(), '2026-07-01T15:00:00.000Z');
  for (const bad of ['2026-02-30T10:00', '2026-12-03T24:00', '2026-12-03 18:05', '03/12/2026 18:05', '']) assert.equal(instantFromLocal(bad, 'Europe/Paris'), null, bad);
  assert.equal(localFromInstant(new Date('2026-12-03T17:05:00Z'), 'Europe/Paris'), '2026-12-03T18:05');
  assert.equal(localFromInstant(new Date('2026-07-01T10:00:00Z'), 'Europe/Paris'), '2026-07-01T12:00');
});

onEachBackend('opening an incident from the console', ({ t, tdb }) => {
  const zone = (): string => t.deps.config.timeZone;

  test('a title and a detection time: the incident is opened under the next reference, by this staff member, and shown', async () => {
    const staff = await enrolStaff(t, 'alex.oncall');
    const home = await staff.b.get('/console');
    assert.match(home.body, /<form method="post" action="\/console\/incidents" id="open-incident"/);
    assert.match(home.body, /name="_csrf"/);
    const detected = new Date(t.clock.now().getTime() - 3600_000);
    const res = await staff.b.post('/console/incidents', { title: 'Dossiers visibles par d’autres allocataires', detected_at: localFromInstant(detected, zone()) });
    assert.equal(res.statusCode, 303, res.body);
    const year = t.clock.now().getUTCFullYear();
    assert.equal(res.headers.location, `/console/incidents/INC-${year}-001`);
    const page = await staff.b.get(String(res.headers.location));
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Dossiers visibles par d’autres allocataires/);

    const stored = await system(t.deps.db, 'test', async (tx) => {
      const incident = await findIncident(tx, `INC-${year}-001`);
      assert.ok(incident);
      return { incident, steps: await timelineOf(tx, incident) };
    });
    // To the minute, as typed.
    assert.equal(stored.incident.detectedAt.getTime(), Math.floor(detected.getTime() / 60_000) * 60_000);
    assert.equal(stored.incident.openedBy, 'staff:alex.oncall');
    assert.deepEqual(stored.steps.map((s) => [s.kind, s.by]), [['opened', 'staff:alex.oncall']]);
    const actions = (await auditTypes(t, 'staff.action')).map((e) => e.payload).filter((p) => p.action === 'incident-open');
    assert.deepEqual(actions, [{ staffId: staff.staffId, sessionId: actions[0]?.sessionId, action: 'incident-open', scope: null, changed: true, incident: `INC-${year}-001` }]);
  });

  test('a wrong field is shown again with its message, the other kept, and nothing is opened', async () => {
    const staff = await enrolStaff(t);
    await staff.b.get('/console');
    const count = async (): Promise<number> => ((await tdb.superuser(`SELECT count(*)::int AS n FROM incidents`)).rows[0] as { n: number }).n;
    const before = await count();
    const now = localFromInstant(t.clock.now(), zone());
    const future = localFromInstant(new Date(t.clock.now().getTime() + 2 * 3600_000), zone());
    for (const [fields, field, message] of [
      [{ title: ' ', detected_at: now }, 'title', /Saisissez un titre d’une ligne/],
      [{ title: 'x'.repeat(201), detected_at: now }, 'title', /Saisissez un titre d’une ligne/],
      [{ title: 'Fuite chez un partenaire', detected_at: future }, 'detected_at', /au plus tard maintenant/],
      [{ title: 'Fuite chez un partenaire', detected_at: '2026-02-30T10:00' }, 'detected_at', /au plus tard maintenant/],
      [{ title: 'Fuite chez un partenaire', detected_at: 'hier soir' }, 'detected_at', /au plus tard maintenant/],
    ] as const) {
      const res = await staff.b.post('/console/incidents', fields);
      assert.equal(res.statusCode, 400, JSON.stringify(fields));
      assert.match(res.body, message);
      assert.match(res.body, new RegExp(`id="${field}"[^>]*aria-describedby="${field}-messages"`));
      if (field === 'detected_at') assert.match(res.body, /value="Fuite chez un partenaire"/, 'the title is kept');
      assert.equal(res.headers['cache-control'], 'no-store, private');
    }
    assert.equal(await count(), before);
  });

  test('without a fresh passkey the form waits for the step-up, then opens the incident', async () => {
    const staff = await enrolStaff(t);
    t.clock.advance(6 * 60_000);
    await staff.b.get('/console');
    const res = await staff.b.post('/console/incidents', { title: 'Comptes de partenaire utilisés hors horaires', detected_at: localFromInstant(new Date(t.clock.now().getTime() - 60_000), zone()) });
    assert.equal(res.statusCode, 303);
    const stepUp = String(res.headers.location);
    assert.match(stepUp, /^\/console\/step-up\//);
    const answer = await stepUpAt(staff.b, stepUp, staff.authenticator);
    assert.equal(answer.statusCode, 200, answer.body);
    const opened = await postKeptForm(staff.b, answer);
    assert.equal(opened.statusCode, 303, opened.body);
    assert.match(String(opened.headers.location), /^\/console\/incidents\/INC-\d{4}-\d{3}$/);
    const page = await staff.b.get(String(opened.headers.location));
    assert.match(page.body, /Comptes de partenaire utilisés hors horaires/);
  });

  test('a post without the form’s CSRF token opens nothing', async () => {
    const staff = await enrolStaff(t);
    await staff.b.get('/console');
    const res = await staff.b.post('/console/incidents', { title: 'Sans jeton', detected_at: localFromInstant(t.clock.now(), zone()) }, '<input type="hidden" name="_csrf" value="forged">');
    assert.equal(res.statusCode, 403);
    assert.equal(((await tdb.superuser(`SELECT count(*)::int AS n FROM incidents WHERE title = 'Sans jeton'`)).rows[0] as { n: number }).n, 0);
  });
});
