import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csrfTokenIn, form } from '../support/app.ts';
import { atLoginCodeStep, Browser, citizenWithPassword, lastCode, submitPassword, type Citizen } from '../support/login.ts';
import { auditSeq, auditSince, flowRow, sessionsOf } from '../support/rules-db.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * Brute force of the 6-digit code by someone who has the password: 5 wrong entries end the
 * flow for good (the right code is refused after), and 20 guesses fired in parallel at one
 * flow get no more than 5 comparisons between them (the counter is raised before comparing,
 * under the flow's row lock). Across flows, an account's wrong codes are capped over a day
 * (20): codes asked in ten flows first and guessed afterwards, in turn or all at once, get no
 * more comparisons than that.
 */
onEachBackend('code brute force', ({ t, tdb }) => {
  const wrong = (code: string, n: number): string => String((Number(code) + n) % 1_000_000).padStart(6, '0');

  test('5 wrong codes: 4 × “wrong, n left”, then the flow is dead; the right code is refused after', async () => {
    const { c, b, flow, flowId, code } = await atLoginCodeStep(t);
    const page = b.lastPage;
    for (let i = 1; i <= 4; i++) {
      const res = await b.post(flow, { method: 'email-code', code: wrong(code, i) }, page);
      assert.equal(res.statusCode, 400);
      assert.match(res.body, new RegExp(`Il vous reste ${5 - i} essai\\(s\\)`));
    }
    const fifth = await b.post(flow, { method: 'email-code', code: wrong(code, 5) }, page);
    assert.equal(fifth.statusCode, 410);
    assert.match(fifth.body, /Cette étape n’est plus valable/);
    const sixth = await b.post(flow, { method: 'email-code', code }, page);
    assert.equal(sixth.statusCode, 410, 'the right code is refused');
    assert.equal((await b.get(flow)).statusCode, 410);
    assert.equal((await b.post(`${flow}/send`, { method: 'email-code' }, page)).statusCode, 410, 'no new code for a dead flow');
    const row = await flowRow(tdb.db, flowId);
    assert.equal(row?.code_failures, 5);
    assert.equal(row?.state, 'failed');
    assert.ok(row?.ended_at);
    assert.equal((await sessionsOf(tdb.db, c.accountId)).length, 0);
  });

  test('20 wrong codes in parallel on one flow: exactly 5 comparisons counted, the flow ended, the right code refused', async () => {
    const { c, b, flow, flowId, code } = await atLoginCodeStep(t);
    const token = csrfTokenIn(b.lastPage);
    const seq = await auditSeq(tdb.db);
    const guess = (n: number) => {
      const body = form({ _csrf: token, method: 'email-code', code: wrong(code, n) });
      return t.app.inject({ method: 'POST', url: flow, cookies: b.jar.cookies(), headers: body.headers, payload: body.payload, remoteAddress: b.ip });
    };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => guess(i + 1)));
    const statuses = results.map((r) => r.statusCode);
    // A refused guess re-reads its flow to show the page: if the others ended it meanwhile
    // (PostgreSQL runs them side by side), that page is already “over” (410).
    assert.ok(statuses.every((s) => s === 400 || s === 410), `statuses ${statuses.join(',')}`);
    assert.ok(statuses.filter((s) => s === 400).length <= 4);
    assert.equal(results.filter((r) => r.body.includes('Trop de codes incorrects ont été saisis')).length, 1, 'one guess exhausted the flow');

    const row = await flowRow(tdb.db, flowId);
    assert.equal(row?.code_failures, 5, 'never more than 5');
    assert.equal(row?.state, 'failed');
    assert.ok(row?.ended_at, 'the flow is ended');
    const compared = (await auditSince(tdb.db, seq)).filter((e) => e.type === 'code.failed' && e.payload.flowId === flowId);
    assert.equal(compared.length, 5, 'five comparisons, audited');
    assert.deepEqual(compared.map((e) => e.payload.failures), [1, 2, 3, 4, 5]);

    const body = form({ _csrf: token, method: 'email-code', code });
    const right = await t.app.inject({ method: 'POST', url: flow, cookies: b.jar.cookies(), headers: body.headers, payload: body.payload });
    assert.equal(right.statusCode, 410);
    assert.equal((await sessionsOf(tdb.db, c.accountId)).length, 0);
  });

  test('malformed entries (which cannot match) are refused without a comparison; a right code typed with a space still works', async () => {
    const { b, flow, flowId, code } = await atLoginCodeStep(t);
    const page = b.lastPage;
    for (const junk of ['12345', '1234567', 'abcdef', '12 34 5x', '']) {
      const res = await b.post(flow, { method: 'email-code', code: junk }, page);
      assert.equal(res.statusCode, 400, JSON.stringify(junk));
    }
    assert.equal((await flowRow(tdb.db, flowId))?.code_failures, 0);
    assert.equal((await b.post(flow, { method: 'email-code', code: `${code.slice(0, 3)} ${code.slice(3)}` }, page)).statusCode, 303, 'spaces are tolerated');
  });

  /** Ten login flows of one account (the hourly cap of codes), each sent its code, none guessed yet. */
  async function tenFlowsWithCodes(c: Citizen): Promise<{ b: Browser; flow: string; code: string; page: string }[]> {
    const flows = [];
    for (let i = 0; i < 10; i++) {
      const b = new Browser(t);
      b.ip = `198.51.100.${i + 1}`;
      t.clock.advance(1000);
      const flow = await submitPassword(b, c);
      assert.equal((await b.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
      await b.get(flow);
      flows.push({ b, flow, code: await lastCode(t, c.accountId), page: b.lastPage });
    }
    return flows;
  }
  const wrongCodesCompared = async (accountId: string, since: number): Promise<number> =>
    (await auditSince(tdb.db, since)).filter((e) => e.type === 'code.failed' && e.accountId === accountId).length;

  test('codes asked in ten flows, guessed afterwards: 20 wrong codes compared, then « réessayez demain » (429), the right code too, until the day has passed', async () => {
    const c = await citizenWithPassword(t);
    const flows = await tenFlowsWithCodes(c);
    const seq = await auditSeq(tdb.db);
    const answers: number[] = [];
    for (const f of flows.slice(0, 4)) for (let n = 1; n <= 5; n++) answers.push((await f.b.post(f.flow, { method: 'email-code', code: wrong(f.code, n) }, f.page)).statusCode);
    assert.equal(await wrongCodesCompared(c.accountId, seq), 20);
    const [fifth] = flows.slice(4);
    assert.ok(fifth);
    const refused = await fifth.b.post(fifth.flow, { method: 'email-code', code: wrong(fifth.code, 1) }, fifth.page);
    assert.equal(refused.statusCode, 429);
    assert.match(refused.body, /Trop de codes incorrects ont été saisis pour ce compte aujourd’hui\. Par sécurité, réessayez demain\./);
    assert.equal((await fifth.b.post(fifth.flow, { method: 'email-code', code: fifth.code }, fifth.page)).statusCode, 429, 'not even the right code is compared');
    assert.equal(await wrongCodesCompared(c.accountId, seq), 20);
    const capped = (await auditSince(tdb.db, seq)).filter((e) => e.type === 'code.refused');
    assert.deepEqual(capped.map((e) => e.payload.reason), ['failures-limit', 'failures-limit']);
    assert.equal((await sessionsOf(tdb.db, c.accountId)).length, 0);

    // Asking for a code says the same, not « in an hour ».
    const later = new Browser(t);
    later.ip = '198.51.100.99';
    t.clock.advance(61 * 60_000);
    const send = await later.post(`${await submitPassword(later, c)}/send`, { method: 'email-code' });
    assert.equal(send.statusCode, 429);
    assert.match(send.body, /réessayez demain/);

    // A day after those failures, a login goes through again.
    t.clock.advance(23 * 3600_000);
    const next = new Browser(t);
    next.ip = '198.51.100.100';
    const flow = await submitPassword(next, c);
    assert.equal((await next.post(`${flow}/send`, { method: 'email-code' })).statusCode, 303);
    await next.get(flow);
    assert.equal((await next.post(flow, { method: 'email-code', code: await lastCode(t, c.accountId) })).statusCode, 303);
  });

  test('50 wrong codes fired at once over ten flows: no more than 20 compared', async () => {
    const c = await citizenWithPassword(t);
    const flows = await tenFlowsWithCodes(c);
    const seq = await auditSeq(tdb.db);
    const guesses = flows.flatMap((f) =>
      Array.from({ length: 5 }, (_, n) => {
        const body = form({ _csrf: csrfTokenIn(f.page), method: 'email-code', code: wrong(f.code, n + 1) });
        return t.app.inject({ method: 'POST', url: f.flow, cookies: f.b.jar.cookies(), headers: body.headers, payload: body.payload, remoteAddress: f.b.ip });
      }),
    );
    const statuses = (await Promise.all(guesses)).map((r) => r.statusCode);
    assert.ok(statuses.every((s) => s === 400 || s === 410 || s === 429), statuses.join(','));
    assert.equal(await wrongCodesCompared(c.accountId, seq), 20);
  });
});
