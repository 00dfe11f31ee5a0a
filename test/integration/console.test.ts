import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { readAccess } from '../../src/incident/access.ts';
import { saveCohort } from '../../src/incident/cohort-store.ts';
import { openIncident, resolveIncident, timelineOf } from '../../src/incident/incidents.ts';
import { STAFF_COOKIE } from '../../src/console/staff-session.ts';
import { newId } from '../../src/crypto/random.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';
import { authenticatorFor } from '../support/passkeys.ts';
import { auditTypes, enrolStaff, newStaff, postKeptForm, registerAt, staffLogin, stepUpAt, submitEnrolmentCode } from '../support/console.ts';

/**
 * The operator console: enrolment by one-time code and passkey, login by passkey alone, the
 * open incidents with their timeline and cohort counts, and the access switch, every action
 * behind a fresh passkey and recorded (audit log and the incident's timeline).
 */
onEachBackend('operator console', ({ t }) => {
  test('an enrolment code enrols once, within 24 hours', async () => {
    const staff = await newStaff(t, 'camille.enrol');
    const b = new Browser(t);
    const page = await b.get('/console/enrol');
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['cache-control'], 'no-store, private');
    const started = await b.post('/console/enrol', { code: staff.code.toLowerCase().replaceAll('-', ' ') });
    assert.equal(started.statusCode, 303, 'any case, spaces for dashes');
    const done = await registerAt(b, String(started.headers.location), authenticatorFor(t));
    assert.deepEqual(done.json(), { redirect: '/console' });
    const home = await b.get('/console');
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /camille\.enrol/);

    const again = await submitEnrolmentCode(new Browser(t), staff.code);
    assert.equal(again.statusCode, 400, 'a used code is refused');
    assert.match(again.body, /Code refusé/);

    const late = await newStaff(t, 'camille.late');
    t.clock.advance(24 * 3600_000 + 1000);
    const expired = await submitEnrolmentCode(new Browser(t), late.code);
    assert.equal(expired.statusCode, 400, 'a code older than 24 hours is refused');
    const reasons = (await auditTypes(t, 'staff.refused')).map((e) => e.payload.reason);
    assert.deepEqual(reasons, ['code-used', 'code-expired']);
    const enrolled = await auditTypes(t, 'staff.enrolled');
    assert.equal(enrolled.length, 1);
    assert.doesNotMatch(JSON.stringify(await auditTypes(t, 'staff.')), /Opératrice|camille/, 'ids only in audit payloads and actors');
  });

  test('log in with the passkey alone; a cookie that is no session gives the login page', async () => {
    const { authenticator } = await enrolStaff(t, 'dominique.login');
    const b = new Browser(t);
    assert.equal((await b.get('/console')).headers.location, '/console/login', 'no cookie: the login page');
    const res = await staffLogin(b, authenticator);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), { redirect: '/console' });
    const cookie = res.cookies.find((c) => c.name === STAFF_COOKIE);
    assert.ok(cookie);
    assert.equal(cookie.sameSite, 'Strict');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.secure, true);
    assert.equal(cookie.path, '/');
    const home = await b.get('/console');
    assert.equal(home.statusCode, 200);
    assert.match(home.headers['content-security-policy']?.toString() ?? '', /script-src 'self'/);
    assert.doesNotMatch(home.body, /<script(?![^>]*\bsrc=)/, 'no inline script');

    const logout = await b.post('/console/logout', {});
    assert.equal(logout.headers.location, '/console/login?done=logged-out');
    assert.equal((await b.get('/console')).headers.location, '/console/login', 'logged out');

    // Idle for 15 minutes: the session ends.
    const again = new Browser(t);
    await staffLogin(again, authenticator);
    t.clock.advance(15 * 60_000 + 1000);
    assert.equal((await again.get('/console')).headers.location, '/console/login');
  });

  test('open incidents, the timeline and the latest cohort counts, without account ids', async () => {
    const { b } = await enrolStaff(t, 'sasha.view');
    t.clock.advance(1000);
    const detectedAt = new Date(t.clock.now().getTime() - 10 * 3600_000);
    const incident = await openIncident(t.deps.db, t.deps.clock, { title: 'Dossiers affichés à d’autres allocataires', detectedAt, by: { kind: 'operator', name: 'oncall' } });
    const home = await b.get('/console');
    assert.match(home.body, new RegExp(`href="/console/incidents/${incident.reference}"`));
    assert.match(home.body, /Dossiers affichés à d’autres allocataires/);
    assert.match(home.body, /reste 62 h 0 min/, '72 hours from detection, 10 hours gone');

    const members = [
      { accountId: newId(), categories: ['logged-in' as const] },
      { accountId: newId(), categories: ['logged-in' as const, 'file-read' as const] },
      { accountId: newId(), categories: ['file-changed' as const, 'touched-by-others' as const] },
    ];
    await system(t.deps.db, 'test', (tx) => saveCohort(tx, t.deps.clock, incident, { from: detectedAt, to: t.clock.now(), options: {}, by: { kind: 'operator', name: 'oncall' }, members }));
    const page = await b.get(`/console/incidents/${incident.reference.toLowerCase()}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<td>opened<\/td>/);
    assert.match(page.body, /operator:oncall/);
    assert.match(page.body, /id="cohort-total">3</);
    assert.match(page.body, /id="cohort-logged-in">2</);
    assert.match(page.body, /id="cohort-file-read">1</);
    assert.match(page.body, /id="cohort-touched-by-others">1</);
    for (const m of members) assert.ok(!page.body.includes(m.accountId), 'no account id on the page');
    assert.equal((await b.get('/console/incidents/INC-1999-999')).statusCode, 404);
    const en = await b.get(`/console/incidents/${incident.reference}?lang=en`);
    assert.match(en.body, /Timeline/);
  });

  test('close and reopen citizen access: stepped up, audited, on the timeline; the citizen site shows the maintenance page', async () => {
    const { b, login, authenticator, staffId } = await enrolStaff(t, 'alex.switch');
    // The incident opened by the test above, the only open one: the access steps go to its timeline.
    const incident = await system(t.deps.db, 'test', (tx) => resolveIncident(tx, undefined));
    const c = await citizenWithPassword(t);
    const citizen = new Browser(t);
    await logIn(citizen, c);
    // Just enrolled: the passkey is fresh, the action goes through at once.
    const form = await b.get('/console');
    for (const name of ['scope', 'reason-citizens', 'message_fr-citizens', 'message_en-citizens']) assert.match(form.body, new RegExp(`name="${name}"`), `the form posts ${name}`);
    assert.match(form.body, /id="sessions-to-end">Sessions d’usagers ouvertes, qui prendraient fin maintenant : 1\./, 'the citizen logged in above');
    const closed = await b.post('/console/access/close', { scope: 'citizens', 'reason-citizens': `${incident.reference} isolation`, 'message_fr-citizens': 'Maintenance en cours.', 'message_en-citizens': 'Maintenance in progress.' });
    assert.equal(closed.statusCode, 303, closed.body);
    assert.equal(closed.headers.location, '/console?done=closed');
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, false);
    assert.equal((await citizen.get('/account')).statusCode, 503, 'the citizen logged in before is out');
    const citizenHome = await new Browser(t).get('/');
    assert.equal(citizenHome.statusCode, 503);
    assert.match(citizenHome.body, /Maintenance en cours\./);
    const dashboard = await b.get('/console?done=closed');
    assert.equal(dashboard.statusCode, 200, 'the console stays open while citizen access is closed');
    assert.match(dashboard.body, /L’accès est fermé\./);
    assert.match(dashboard.body, /id="access-citizens-state">Fermé/);

    // Six minutes later the passkey is stale: the action asks for it, then runs with the kept form.
    t.clock.advance(6 * 60_000);
    await b.get('/console');
    const asked = await b.post('/console/access/open', { scope: 'citizens' });
    assert.equal(asked.statusCode, 303);
    const stepUp = String(asked.headers.location);
    assert.match(stepUp, /^\/console\/step-up\/[0-9a-f-]{36}$/);
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, false, 'nothing done before the passkey');
    const answer = await stepUpAt(b, stepUp, authenticator);
    assert.equal(answer.statusCode, 200, answer.body);
    assert.deepEqual(answer.json(), { form: { action: '/console/access/open', fields: { scope: 'citizens' } } });
    const opened = await postKeptForm(b, answer);
    assert.equal(opened.headers.location, '/console?done=opened');
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, true);
    assert.equal((await new Browser(t).get('/')).statusCode, 200);

    const steps = await system(t.deps.db, 'test', (tx) => timelineOf(tx, incident));
    const access = steps.filter((s) => s.kind === 'access');
    assert.deepEqual(
      access.map((s) => [s.by, s.applied, s.summary.action, s.summary.sessionsEnded]),
      [
        [`staff:${login}`, true, 'close', 1],
        [`staff:${login}`, true, 'open', 0],
      ],
    );
    const actions = (await auditTypes(t, 'staff.action')).map((e) => e.payload);
    assert.deepEqual(actions.map((p) => [p.staffId, p.action, p.scope, p.changed, p.incident]), [[staffId, 'access-close', 'citizens', true, incident.reference], [staffId, 'access-open', 'citizens', true, incident.reference]]);
    assert.equal((await auditTypes(t, 'staff.step-up')).length, 1);
    const page = await b.get(`/console/incidents/${incident.reference}`);
    assert.match(page.body, new RegExp(`staff:${login.replace('.', '\\.')}`));
  });

  test('a close without a reason is refused on the page, before any passkey is asked', async () => {
    const { b } = await enrolStaff(t, 'robin.form');
    t.clock.advance(6 * 60_000);
    await b.get('/console');
    const res = await b.post('/console/access/close', { scope: 'citizens', 'reason-citizens': ' ', 'message_fr-citizens': '', 'message_en-citizens': '' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /Indiquez un motif/);
    const half = await b.post('/console/access/close', { scope: 'citizens', 'reason-citizens': 'INC test', 'message_fr-citizens': 'Seulement en français', 'message_en-citizens': '' });
    assert.equal(half.statusCode, 400);
    assert.match(half.body, /message en anglais/);
    assert.equal((await readAccess(t.deps.db, 'citizens')).open, true);
  });
});
