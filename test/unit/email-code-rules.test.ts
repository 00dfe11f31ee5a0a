import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ManualClock } from '../../src/clock.ts';
import { randomDigits } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import { formatTime } from '../../src/time-format.ts';
import { t as translate } from '../../src/web/i18n.ts';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { Browser, citizenWithPassword, mailsFor, submitPassword } from '../support/login.ts';
import { BROWSER_B, codeMailCount, lastCodeMailed, loginFlowFor, send, sendAndRead, verify, wrongCode } from '../support/rules-codes.ts';
import { auditSince, auditSeq, codeRows, flowRow } from '../support/rules-db.ts';

/**
 * The rules of the 6-digit email code, each on an injected clock, with the defaults and with
 * their SESAME_* overrides: lifetime, single use, binding to the flow, storage as an HMAC,
 * attempt cap, resend cooldown, per-flow and per-account caps, revocation on resend.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;

let db: OpenDatabase;
before(async () => {
  db = await openDatabase({ migrate: true });
});
after(() => db.close());

/** An app on the shared database with its own clock; `env` as SESAME_* overrides. */
async function withApp(env: Record<string, string>, fn: (t: TestApp, clock: ManualClock) => Promise<void>): Promise<void> {
  const clock = new ManualClock();
  const t = await testApp({ db, clock, env });
  try {
    await fn(t, clock);
  } finally {
    await t.close();
  }
}

describe('the code itself', () => {
  test('6 decimal digits from the CSPRNG (node:crypto randomInt, no Math.random), leading zeros included', async () => {
    await withApp({}, async (t) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      assert.match(await sendAndRead(t, flow, c.accountId), /^\d{6}$/);
    });

    const [codeSource, randomSource] = await Promise.all([
      readFile(new URL('../../src/auth/methods/email-code.ts', import.meta.url), 'utf8'),
      readFile(new URL('../../src/crypto/random.ts', import.meta.url), 'utf8'),
    ]);
    assert.match(codeSource, /import \{[^}]*\brandomDigits\b[^}]*\} from '\.\.\/\.\.\/crypto\/random\.ts'/);
    assert.match(codeSource, /randomDigits\(6\)/);
    assert.match(randomSource, /import \{[^}]*\brandomInt\b[^}]*\} from 'node:crypto'/);
    for (const source of [codeSource, randomSource]) assert.doesNotMatch(source, /Math\.random/);

    // Uniform digits: 20,000 codes = 120,000 digits, 12,000 expected per digit.
    const counts = Array<number>(10).fill(0);
    let leadingZero = 0;
    for (let i = 0; i < 20_000; i++) {
      const code = randomDigits(6);
      assert.match(code, /^\d{6}$/);
      if (code.startsWith('0')) leadingZero++;
      for (const d of code) counts[Number(d)] = (counts[Number(d)] ?? 0) + 1;
    }
    for (const n of counts) assert.ok(n > 11_000 && n < 13_000, `digit counts ${counts.join(',')}`);
    assert.ok(leadingZero > 1_600 && leadingZero < 2_400, `${leadingZero} codes start with 0`);
  });

  test('stored as an HMAC: the table holds no 6-digit value, nor an unkeyed hash of the code', async () => {
    await withApp({}, async (t) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      const code = await sendAndRead(t, flow, c.accountId);
      const [row] = await codeRows(db, flow);
      assert.ok(row);
      const mac = Buffer.from(row.code_mac);
      assert.equal(mac.length, 32, 'a SHA-256 sized MAC');
      assert.ok(!row.json.includes(code), 'the code does not appear in the row');
      assert.ok(!mac.includes(Buffer.from(code)), 'nor in the MAC bytes');
      for (const unkeyed of [code, `${flow}${code}`, `email-code\u0000${flow}\u0000${code}`]) {
        assert.notDeepEqual(mac, createHash('sha256').update(unkeyed).digest(), 'not an unkeyed hash (6 digits are brute-forced in a millisecond)');
      }
      const columns = await system(db, 'test', async (tx) =>
        (await tx.query<{ data_type: string }>(`SELECT DISTINCT data_type FROM information_schema.columns WHERE table_name = 'one_time_codes' ORDER BY 1`)).rows.map((r) => r.data_type),
      );
      assert.deepEqual(columns, ['bytea', 'timestamp with time zone', 'uuid'], 'no text or number column that could hold a code');
    });
  });
});

describe('lifetime and use', () => {
  test('valid 15 minutes after sending: accepted at 14:59, refused as expired at 15:00', async () => {
    await withApp({}, async (t, clock) => {
      const early = await citizenWithPassword(t);
      const late = await citizenWithPassword(t);
      const f1 = await loginFlowFor(t, early.accountId);
      const f2 = await loginFlowFor(t, late.accountId);
      const c1 = await sendAndRead(t, f1, early.accountId);
      const c2 = await sendAndRead(t, f2, late.accountId);
      const [row] = await codeRows(db, f1);
      assert.equal(row?.expires_at.getTime(), clock.now().getTime() + 15 * MINUTE);

      clock.advance(14 * MINUTE + 59 * SECOND);
      assert.deepEqual(await verify(t, f1, c1), { ok: true });
      clock.advance(1 * SECOND);
      assert.deepEqual(await verify(t, f2, c2), { ok: false, reason: 'expired', remaining: 4 });
    });
  });

  test('never past its flow: a code sent 20 minutes into a 30-minute login flow works until the flow ends, and the page and mail say so', async () => {
    await withApp({}, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const b = new Browser(t);
      const flow = await submitPassword(b, c);
      const flowEnds = clock.now().getTime() + 30 * MINUTE;
      clock.advance(20 * MINUTE);
      assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
      const [row] = await codeRows(db, flow.slice('/login/'.length));
      assert.equal(row?.expires_at.getTime(), flowEnds);
      const mails = (await mailsFor(t, c.accountId)).filter((m) => m.template === 'one-time-code');
      assert.equal(mails.at(-1)?.params.expiresAt, new Date(flowEnds).toISOString());
      const page = (await b.get(flow)).body;
      const until = formatTime('fr', new Date(flowEnds).toISOString(), t.deps.config.timeZone);
      assert.ok(page.includes(`<strong>${translate('fr', 'code.expires', { time: until })}</strong>`), until);
    });
  });

  test('single use: the same code a second time is refused, and the row says it was used', async () => {
    await withApp({}, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      const code = await sendAndRead(t, flow, c.accountId);
      clock.advance(30 * SECOND);
      assert.deepEqual(await verify(t, flow, code), { ok: true });
      assert.deepEqual(await verify(t, flow, code), { ok: false, reason: 'wrong', remaining: 4 });
      const [row] = await codeRows(db, flow);
      assert.equal(row?.used_at?.getTime(), clock.now().getTime());
    });
  });

  test('bound to its flow: a code of flow A fails in flow B of the same account; flow A from another browser is refused', async () => {
    await withApp({}, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const a = await loginFlowFor(t, c.accountId);
      const b = await loginFlowFor(t, c.accountId);
      await sendAndRead(t, b, c.accountId);
      clock.advance(SECOND); // so that A's mail is the newest
      const codeA = await sendAndRead(t, a, c.accountId);

      assert.deepEqual(await verify(t, b, codeA), { ok: false, reason: 'wrong', remaining: 4 });
      assert.deepEqual(await verify(t, a, codeA, BROWSER_B), { ok: false, reason: 'other-browser' });
      assert.equal((await flowRow(db, a))?.code_failures, 0, 'the other browser spent no attempt of flow A');
      assert.equal((await flowRow(db, b))?.code_failures, 1);
      assert.deepEqual(await verify(t, a, codeA), { ok: true });
    });
  });
});

describe('attempts', () => {
  test('5 wrong entries kill the code and the flow; the right code is refused after', async () => {
    await withApp({}, async (t) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      const code = await sendAndRead(t, flow, c.accountId);
      for (let i = 1; i <= 4; i++) assert.deepEqual(await verify(t, flow, wrongCode(code, i)), { ok: false, reason: 'wrong', remaining: 5 - i });
      assert.deepEqual(await verify(t, flow, wrongCode(code, 5)), { ok: false, reason: 'exhausted', remaining: 0 });

      const row = await flowRow(db, flow);
      assert.equal(row?.code_failures, 5);
      assert.equal(row?.state, 'failed');
      assert.ok(row?.ended_at, 'the flow is ended');
      assert.ok((await codeRows(db, flow))[0]?.revoked_at, 'the code is revoked');
      assert.deepEqual(await verify(t, flow, code), { ok: false, reason: 'ended' });
      assert.deepEqual(await send(t, flow), { ok: false, reason: 'ended' });
    });
  });

  test('4 wrong entries, then the right code: accepted (the 5th entry is not a failure)', async () => {
    await withApp({}, async (t) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      const code = await sendAndRead(t, flow, c.accountId);
      for (let i = 1; i <= 4; i++) await verify(t, flow, wrongCode(code, i));
      assert.deepEqual(await verify(t, flow, code), { ok: true });
      assert.equal((await flowRow(db, flow))?.code_failures, 4);
    });
  });

  test('a new code does not reset the failure count: 3 wrong, resend, 2 wrong = dead', async () => {
    await withApp({}, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      const first = await sendAndRead(t, flow, c.accountId);
      for (let i = 1; i <= 3; i++) await verify(t, flow, wrongCode(first, i));
      clock.advance(MINUTE);
      const second = await sendAndRead(t, flow, c.accountId);
      assert.equal((await flowRow(db, flow))?.code_failures, 3, 'sending kept the count');
      assert.deepEqual(await verify(t, flow, wrongCode(second)), { ok: false, reason: 'wrong', remaining: 1 });
      assert.deepEqual(await verify(t, flow, wrongCode(second, 2)), { ok: false, reason: 'exhausted', remaining: 0 });
      assert.deepEqual(await verify(t, flow, second), { ok: false, reason: 'ended' });
    });
  });

  test('a new code revokes the previous one', async () => {
    await withApp({}, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      const first = await sendAndRead(t, flow, c.accountId);
      clock.advance(MINUTE);
      const second = await sendAndRead(t, flow, c.accountId);
      const rows = await codeRows(db, flow);
      assert.equal(rows.length, 2);
      assert.equal(rows[0]?.revoked_at?.getTime(), clock.now().getTime(), 'the first code was revoked when the second was sent');
      assert.equal(rows[1]?.revoked_at, null);
      if (first !== second) assert.deepEqual(await verify(t, flow, first), { ok: false, reason: 'wrong', remaining: 4 });
      assert.deepEqual(await verify(t, flow, second), { ok: true });
    });
  });
});

describe('sending', () => {
  test('resend cooldown 60 s: refused at 59 s (retry time given), allowed at 60 s', async () => {
    await withApp({}, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      const start = clock.now().getTime();
      await sendAndRead(t, flow, c.accountId);
      clock.advance(59 * SECOND);
      assert.deepEqual(await send(t, flow), { ok: false, reason: 'cooldown', retryAt: new Date(start + 60 * SECOND) });
      assert.equal(await codeMailCount(t, c.accountId), 1);
      clock.advance(SECOND);
      assert.equal((await send(t, flow)).ok, true);
      assert.equal(await codeMailCount(t, c.accountId), 2);
    });
  });

  test('the server refuses a resend at 59 s (429) even though the form is posted, and accepts it at 60 s', async () => {
    await withApp({}, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const b = new Browser(t);
      const flow = await submitPassword(b, c);
      assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
      await b.get(flow);
      clock.advance(59 * SECOND);
      const early = await b.post(`${flow}/send`, { method: 'email-code' });
      assert.equal(early.statusCode, 429);
      assert.match(early.body, /Attendez avant de demander un nouveau code \(à partir de 10:01\)/);
      assert.equal(await codeMailCount(t, c.accountId), 1);
      clock.advance(SECOND);
      assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
      assert.equal(await codeMailCount(t, c.accountId), 2);
    });
  });

  test('at most 3 codes per flow', async () => {
    await withApp({}, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      for (let i = 0; i < 3; i++) {
        assert.equal((await send(t, flow)).ok, true, `code ${i + 1}`);
        clock.advance(MINUTE);
      }
      assert.deepEqual(await send(t, flow), { ok: false, reason: 'flow-limit' });
      clock.advance(10 * MINUTE);
      assert.deepEqual(await send(t, flow), { ok: false, reason: 'flow-limit' });
      assert.equal(await codeMailCount(t, c.accountId), 3);
      assert.equal((await flowRow(db, flow))?.codes_sent, 3);
    });
  });

  test('at most 10 codes per account per hour, across flows; the 11th is refused and audited; allowed again an hour after the first', async () => {
    await withApp({}, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const t0 = clock.now().getTime();
      const flows: string[] = [];
      for (let i = 0; i < 10; i++) {
        if (i % 3 === 0) flows.push(await loginFlowFor(t, c.accountId));
        assert.equal((await send(t, flows.at(-1) ?? '')).ok, true, `code ${i + 1}`);
        clock.advance(MINUTE);
      }
      const seq = await auditSeq(db);
      // The 4th flow has sent one code: its own cap is not what refuses.
      assert.deepEqual(await send(t, flows.at(-1) ?? ''), { ok: false, reason: 'account-limit' });
      const refused = (await auditSince(db, seq)).filter((e) => e.accountId === c.accountId);
      assert.deepEqual(refused.map((e) => [e.type, e.payload.reason]), [['code.refused', 'account-limit']]);

      clock.set(new Date(t0 + 59 * MINUTE + 59 * SECOND));
      const fresh = await loginFlowFor(t, c.accountId);
      assert.deepEqual(await send(t, fresh), { ok: false, reason: 'account-limit' }, 'a new flow does not escape the account cap');
      assert.equal((await flowRow(db, fresh))?.codes_sent, 0, 'a refused send is not counted');
      clock.set(new Date(t0 + 60 * MINUTE));
      assert.equal((await send(t, fresh)).ok, true, 'the first code is more than an hour old');
      assert.deepEqual(await send(t, await loginFlowFor(t, c.accountId)), { ok: false, reason: 'account-limit' }, 'only one slot came back');
      assert.equal(await codeMailCount(t, c.accountId), 11);
    });
  });

  test('the account cap is per account: another account is not affected', async () => {
    await withApp({ SESAME_CODES_PER_ACCOUNT_PER_HOUR: '1' }, async (t) => {
      const one = await citizenWithPassword(t);
      const two = await citizenWithPassword(t);
      assert.equal((await send(t, await loginFlowFor(t, one.accountId))).ok, true);
      assert.deepEqual(await send(t, await loginFlowFor(t, one.accountId)), { ok: false, reason: 'account-limit' });
      assert.equal((await send(t, await loginFlowFor(t, two.accountId))).ok, true);
    });
  });
});

describe('each rule follows its SESAME_* override', () => {
  test('SESAME_CODE_TTL_SECONDS=600: accepted at 9:59, expired at 10:00', async () => {
    await withApp({ SESAME_CODE_TTL_SECONDS: '600' }, async (t, clock) => {
      assert.equal(t.deps.config.auth.codeTtl, 600);
      const one = await citizenWithPassword(t);
      const two = await citizenWithPassword(t);
      const f1 = await loginFlowFor(t, one.accountId);
      const f2 = await loginFlowFor(t, two.accountId);
      const c1 = await sendAndRead(t, f1, one.accountId);
      const c2 = await sendAndRead(t, f2, two.accountId);
      clock.advance(9 * MINUTE + 59 * SECOND);
      assert.deepEqual(await verify(t, f1, c1), { ok: true });
      clock.advance(SECOND);
      assert.deepEqual(await verify(t, f2, c2), { ok: false, reason: 'expired', remaining: 4 });
    });
  });

  test('SESAME_CODE_MAX_ATTEMPTS=3: the 3rd wrong entry ends the flow', async () => {
    await withApp({ SESAME_CODE_MAX_ATTEMPTS: '3' }, async (t) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      const code = await sendAndRead(t, flow, c.accountId);
      assert.deepEqual(await verify(t, flow, wrongCode(code, 1)), { ok: false, reason: 'wrong', remaining: 2 });
      assert.deepEqual(await verify(t, flow, wrongCode(code, 2)), { ok: false, reason: 'wrong', remaining: 1 });
      assert.deepEqual(await verify(t, flow, wrongCode(code, 3)), { ok: false, reason: 'exhausted', remaining: 0 });
      assert.deepEqual(await verify(t, flow, code), { ok: false, reason: 'ended' });
    });
  });

  test('SESAME_CODE_MAX_ATTEMPTS=8: 7 wrong entries still leave the right code usable', async () => {
    await withApp({ SESAME_CODE_MAX_ATTEMPTS: '8' }, async (t) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      const code = await sendAndRead(t, flow, c.accountId);
      for (let i = 1; i <= 7; i++) assert.deepEqual(await verify(t, flow, wrongCode(code, i)), { ok: false, reason: 'wrong', remaining: 8 - i });
      assert.deepEqual(await verify(t, flow, code), { ok: true });
    });
  });

  test('SESAME_CODE_RESEND_COOLDOWN_SECONDS=30: refused at 29 s, allowed at 30 s, over HTTP too', async () => {
    await withApp({ SESAME_CODE_RESEND_COOLDOWN_SECONDS: '30' }, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      await sendAndRead(t, flow, c.accountId);
      clock.advance(29 * SECOND);
      assert.equal((await send(t, flow)).ok, false);
      clock.advance(SECOND);
      assert.equal((await send(t, flow)).ok, true);

      const other = await citizenWithPassword(t);
      const b = new Browser(t);
      const path = await submitPassword(b, other);
      assert.equal((await b.post(`${path}/send`, { method: 'email-code' })).statusCode, 303);
      await b.get(path);
      clock.advance(29 * SECOND);
      assert.equal((await b.post(`${path}/send`, { method: 'email-code' })).statusCode, 429);
      clock.advance(SECOND);
      assert.equal((await b.post(`${path}/send`, { method: 'email-code' })).statusCode, 303);
    });
  });

  test('SESAME_CODES_PER_FLOW=2: the 3rd send of a flow is refused', async () => {
    await withApp({ SESAME_CODES_PER_FLOW: '2' }, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      assert.equal((await send(t, flow)).ok, true);
      clock.advance(MINUTE);
      assert.equal((await send(t, flow)).ok, true);
      clock.advance(MINUTE);
      assert.deepEqual(await send(t, flow), { ok: false, reason: 'flow-limit' });
    });
  });

  test('SESAME_CODES_PER_FLOW=5: a 4th and a 5th code are sent, not a 6th', async () => {
    await withApp({ SESAME_CODES_PER_FLOW: '5' }, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      for (let i = 0; i < 5; i++) {
        assert.equal((await send(t, flow)).ok, true, `code ${i + 1}`);
        clock.advance(MINUTE);
      }
      assert.deepEqual(await send(t, flow), { ok: false, reason: 'flow-limit' });
    });
  });

  test('SESAME_CODES_PER_ACCOUNT_PER_HOUR=4: the 5th code of the hour is refused, across flows', async () => {
    await withApp({ SESAME_CODES_PER_ACCOUNT_PER_HOUR: '4' }, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const t0 = clock.now().getTime();
      for (let i = 0; i < 4; i++) {
        assert.equal((await send(t, await loginFlowFor(t, c.accountId))).ok, true, `code ${i + 1}`);
        clock.advance(MINUTE);
      }
      assert.deepEqual(await send(t, await loginFlowFor(t, c.accountId)), { ok: false, reason: 'account-limit' });
      clock.set(new Date(t0 + 60 * MINUTE));
      assert.equal((await send(t, await loginFlowFor(t, c.accountId))).ok, true);
    });
  });

  test('a new code still follows the overridden TTL; the previous one still dies with it', async () => {
    await withApp({ SESAME_CODE_TTL_SECONDS: '120', SESAME_CODE_RESEND_COOLDOWN_SECONDS: '100' }, async (t, clock) => {
      const c = await citizenWithPassword(t);
      const flow = await loginFlowFor(t, c.accountId);
      await sendAndRead(t, flow, c.accountId);
      clock.advance(100 * SECOND);
      const second = await sendAndRead(t, flow, c.accountId);
      const rows = await codeRows(db, flow);
      assert.equal(rows[1]?.expires_at.getTime(), clock.now().getTime() + 120 * SECOND);
      clock.advance(120 * SECOND);
      assert.deepEqual(await verify(t, flow, second), { ok: false, reason: 'expired', remaining: 4 });
      assert.equal(await lastCodeMailed(t, c.accountId), second);
    });
  });
});
