import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser } from '../support/login.ts';
import { authenticatorFor } from '../support/passkeys.ts';
import { newStaff, registerAt, submitEnrolmentCode } from '../support/console.ts';

/**
 * An enrolment code seen over a shoulder, or in a terminal's scrollback, after it was used; or
 * two browsers racing with one code: one passkey is enrolled, never two. Only the code's HMAC
 * is stored.
 */
onEachBackend('staff enrolment code replay', ({ t }) => {
  test('two browsers start with one code: the first to finish enrols, the second is refused', async () => {
    const staff = await newStaff(t);
    const first = new Browser(t);
    const second = new Browser(t);
    const a = await submitEnrolmentCode(first, staff.code);
    const b = await submitEnrolmentCode(second, staff.code);
    assert.equal(a.statusCode, 303);
    assert.equal(b.statusCode, 303, 'typing the code spends nothing yet');
    const done = await registerAt(first, String(a.headers.location), authenticatorFor(t));
    assert.equal(done.statusCode, 200);
    const late = await registerAt(second, String(b.headers.location), authenticatorFor(t));
    assert.equal(late.statusCode, 401);
    const count = await system(t.deps.db, 'test', (tx) => tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM staff_passkeys WHERE staff_id = $1`, [staff.staffId]));
    assert.equal(count.rows[0]?.n, 1);
    assert.equal((await submitEnrolmentCode(new Browser(t), staff.code)).statusCode, 400, 'used: refused at once');
  });

  test("another browser cannot finish a ceremony it did not start; the code is kept only as an HMAC", async () => {
    const staff = await newStaff(t);
    const owner = new Browser(t);
    const started = await submitEnrolmentCode(owner, staff.code);
    const thief = new Browser(t);
    const res = await thief.get(String(started.headers.location));
    assert.equal(res.headers.location, '/console/enrol', "another browser's ceremony reads as gone");
    const rows = await system(t.deps.db, 'test', (tx) => tx.query<{ code_mac: Uint8Array }>(`SELECT code_mac FROM staff_enrolment_codes WHERE staff_id = $1`, [staff.staffId]));
    const stored = Buffer.from(rows.rows[0]?.code_mac ?? new Uint8Array()).toString('latin1');
    assert.ok(!stored.includes(staff.code.replaceAll('-', '')), 'no code in clear');
  });
});
