import { test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { STAFF_POLICY } from '../../src/staff/policy.ts';
import { onEachBackend } from '../support/suites.ts';
import { Browser } from '../support/login.ts';
import { auditTypes, enrolStaff, newStaff, staffLogin, submitEnrolmentCode } from '../support/console.ts';

/**
 * Guessing enrolment codes, or trying passkeys at /console/login, from one address: after
 * STAFF_POLICY.clientMaxFailures failures the address gets 429 with Retry-After, before any
 * lookup, so even the right code is refused until the window ends; another address is not
 * affected. An account whose passkey keeps failing waits for the window's end, audited, and is
 * suspended by nothing.
 */
onEachBackend('console brute force', ({ t }) => {
  const from = (ip: string): Browser => {
    const b = new Browser(t);
    b.ip = ip;
    return b;
  };

  test('wrong enrolment codes from one address: 429 after the limit, the right code too; another address is unaffected', async () => {
    const staff = await newStaff(t);
    const attacker = from('198.51.100.23');
    for (let i = 0; i < STAFF_POLICY.clientMaxFailures; i++) {
      const res = await submitEnrolmentCode(attacker, `AAAA-BBBB-CCCC-DDDD-${String(i).padStart(4, '0')}`);
      assert.equal(res.statusCode, 400, `guess ${i + 1} is refused as a wrong code`);
    }
    const throttled = await submitEnrolmentCode(attacker, 'AAAA-BBBB-CCCC-DDDD-EEEE');
    assert.equal(throttled.statusCode, 429);
    const retryAfter = Number(throttled.headers['retry-after']);
    assert.ok(retryAfter > 0 && retryAfter <= STAFF_POLICY.throttleWindow, `Retry-After ${String(throttled.headers['retry-after'])}`);
    assert.match(throttled.body, /Trop de tentatives|Too many attempts/);

    const right = await submitEnrolmentCode(attacker, staff.code);
    assert.equal(right.statusCode, 429, 'the right code from a throttled address is refused too');
    const unused = await system(t.deps.db, 'test', (tx) => tx.query<{ used_at: Date | null }>(`SELECT used_at FROM staff_enrolment_codes WHERE staff_id = $1`, [staff.staffId]));
    assert.equal(unused.rows[0]?.used_at, null, 'the code is still good');

    const colleague = from('192.0.2.44');
    const ok = await submitEnrolmentCode(colleague, staff.code);
    assert.equal(ok.statusCode, 303, 'another address is not throttled');

    t.clock.advance(STAFF_POLICY.throttleWindow * 1000);
    assert.equal((await submitEnrolmentCode(attacker, staff.code)).statusCode, 303, 'the window over, the address may try again');
  });

  test('an account whose passkey keeps failing waits for the window, audited, and is not suspended', async () => {
    const staff = await enrolStaff(t);
    const b = from('198.51.100.77');
    staff.authenticator.flags = 0x01; // no user verification: every assertion fails, naming the account
    for (let i = 0; i < STAFF_POLICY.staffMaxFailures; i++) assert.equal((await staffLogin(b, staff.authenticator)).statusCode, 401);
    staff.authenticator.flags = 0x05;
    const good = from('192.0.2.99');
    const refused = await staffLogin(good, staff.authenticator);
    assert.equal(refused.statusCode, 429, 'even a good assertion waits for the window');
    assert.ok(Number(refused.headers['retry-after']) > 0);

    const refusals = (await auditTypes(t, 'staff.refused')).filter((e) => e.payload.staffId === staff.staffId).map((e) => e.payload.reason);
    assert.ok(refusals.includes('failure-cap-reached'), JSON.stringify(refusals));
    assert.ok(refusals.includes('throttled'));
    const active = await system(t.deps.db, 'test', (tx) => tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM staff_accounts WHERE id = $1 AND disabled_at IS NULL`, [staff.staffId]));
    assert.equal(active.rows[0]?.n, 1, 'the account is not disabled');

    t.clock.advance(STAFF_POLICY.throttleWindow * 1000);
    const later = await staffLogin(from('192.0.2.100'), staff.authenticator);
    assert.equal(later.statusCode, 200, later.body);
  });
});
