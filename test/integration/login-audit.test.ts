import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SESSION_COOKIE } from '../../src/auth/session-plugin.ts';
import { testApp } from '../support/app.ts';
import { uniqueNir } from '../support/fixtures.ts';
import { Browser, citizenWithPassword, lastCode, logIn, mailsFor, submitPassword, type Citizen } from '../support/login.ts';
import { auditSeq, auditSince, sessionsOf, type AuditRow } from '../support/rules-db.ts';
import { attemptLogin, freshIp } from '../support/rules-login.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * Every password attempt, success, failure, code sent, code refused, throttle and session
 * start or end is an audit event; none of them carries a NIR, a code, a password or an email
 * address (the audit log is kept for years and read by operators).
 */
type Expected = [type: string, accountId: string | null, payload: Record<string, unknown>];

/** The events one step wrote: [type, account, payload] with ids the test cannot know replaced by the ones given. */
const shape = (events: AuditRow[]): Expected[] => events.map((e) => [e.type, e.accountId, e.payload]);

onEachBackend('login audit', ({ t, tdb }) => {
  /**
   * Runs steps, returns the audit events each wrote; `end()` then scans every event seen for
   * the secrets the test noted.
   */
  function recorder() {
    const secrets: { label: string; value: string }[] = [];
    const seen: AuditRow[] = [];
    return {
      secret(label: string, value: string): void {
        secrets.push({ label, value });
      },
      citizen(c: Citizen): void {
        secrets.push({ label: 'NIR', value: c.nir }, { label: 'password', value: c.password }, { label: 'email', value: c.email });
        secrets.push({ label: 'email local part', value: c.email.split('@')[0] ?? '' }, { label: 'family name', value: c.familyName });
      },
      async step(fn: () => Promise<unknown>): Promise<AuditRow[]> {
        const seq = await auditSeq(tdb.db);
        await fn();
        const events = await auditSince(tdb.db, seq);
        seen.push(...events);
        return events;
      },
      /** No event holds a NIR, a code, a password, a token, an email address or a name. */
      end(): void {
        assert.ok(seen.length > 0);
        for (const e of seen) {
          for (const { label, value } of secrets) {
            assert.ok(value.length >= 6, `${label} long enough to search for`);
            // A code is 6 digits: only count it where it stands alone (ids and hashes are hex).
            const found = label.includes('code') ? new RegExp(`(^|[^0-9a-fA-F])${value}([^0-9a-fA-F]|$)`).test(e.json) : e.json.toLowerCase().includes(value.toLowerCase());
            assert.ok(!found, `${label} found in audit event ${e.type}: ${e.json}`);
          }
          // Nor anything shaped like a NIR or an email address.
          assert.doesNotMatch(e.json, /(^|[^0-9a-f])[12478]\d{14}([^0-9a-f]|$)/, `NIR-shaped value in ${e.type}`);
          assert.doesNotMatch(e.json, /[^\s"@]+@[^\s"@]+\.[a-z]{2,}/i, `email-shaped value in ${e.type}`);
        }
      },
    };
  }

  test('password failures of every kind, each one event with a reason code and no identifier', async () => {
    const r = recorder();
    const c = await citizenWithPassword(t);
    const pending = await citizenWithPassword(t, { status: 'pending_activation' });
    r.citizen(c);
    r.citizen(pending);
    const unknown = uniqueNir();
    const badKey = `${c.nir.slice(0, 13)}${c.nir.slice(13) === '01' ? '02' : '01'}`;
    r.secret('unknown NIR', unknown);
    r.secret('NIR with a wrong key', badKey);
    r.secret('typed password', 'Tr0ub4dor&3 typed wrong');

    assert.deepEqual(shape(await r.step(() => attemptLogin(t, { nir: c.nir, password: 'Tr0ub4dor&3 typed wrong', ip: freshIp() }))), [
      ['login.password-failed', c.accountId, { reason: 'wrong-password' }],
    ]);
    assert.deepEqual(shape(await r.step(() => attemptLogin(t, { nir: unknown, password: 'Tr0ub4dor&3 typed wrong', ip: freshIp() }))), [
      ['login.password-failed', null, { reason: 'unknown-nir' }],
    ]);
    assert.deepEqual(shape(await r.step(() => attemptLogin(t, { nir: badKey, password: 'Tr0ub4dor&3 typed wrong', ip: freshIp() }))), [
      ['login.password-failed', null, { reason: 'invalid-nir' }],
    ]);
    assert.deepEqual(shape(await r.step(() => attemptLogin(t, { nir: pending.nir, password: pending.password, ip: freshIp() }))), [
      ['login.password-failed', pending.accountId, { reason: 'not-active' }],
    ]);
    r.end();
  });

  test('a throttled attempt is one login.throttled event', async () => {
    const r = recorder();
    const c = await citizenWithPassword(t);
    r.citizen(c);
    for (let i = 1; i <= 5; i++) assert.equal((await r.step(() => attemptLogin(t, { nir: c.nir, password: `wrong guess ${i}`, ip: freshIp() }))).length, 1);
    assert.deepEqual(shape(await r.step(() => attemptLogin(t, { nir: c.nir, password: c.password, ip: freshIp() }))), [
      ['login.throttled', null, { reason: 'account-delay', step: 'login' }],
    ]);
    r.end();
  });

  test('a whole login then logout: password verified, code sent, code failed, code verified, session started, new browser, session ended', async () => {
    const r = recorder();
    const c = await citizenWithPassword(t);
    r.citizen(c);
    const b = new Browser(t);
    b.ip = freshIp();
    let flow = '';
    const verified = await r.step(async () => {
      flow = await submitPassword(b, c);
    });
    const flowId = flow.slice('/login/'.length);
    assert.deepEqual(shape(verified), [['login.password-verified', c.accountId, { flowId, rehashed: false }]]);

    t.clock.advance(1000);
    const sent = await r.step(() => b.post(`${flow}/send`, { method: 'email-code' }));
    const [queued] = sent;
    assert.deepEqual(shape(sent), [
      ['mail.queued', c.accountId, { messageId: queued?.payload.messageId, template: 'one-time-code' }],
      ['code.sent', c.accountId, { flowId, purpose: 'login', delivered: true, number: 1 }],
    ]);
    const code = await lastCode(t, c.accountId);
    r.secret('code', code);
    await b.get(flow);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    r.secret('wrong code typed', wrong);
    assert.deepEqual(shape(await r.step(() => b.post(flow, { method: 'email-code', code: wrong }))), [['code.failed', c.accountId, { flowId, reason: 'wrong', failures: 1 }]]);

    const done = await r.step(() => b.post(flow, { method: 'email-code', code }));
    const [session] = await sessionsOf(tdb.db, c.accountId);
    assert.ok(session);
    const newBrowserMail = done.find((e) => e.type === 'mail.queued');
    assert.deepEqual(shape(done), [
      ['code.verified', c.accountId, { flowId }],
      ['session.started', c.accountId, { sessionId: session.id, level: 'eidas1', amr: ['mail', 'pwd'] }],
      ['mail.queued', c.accountId, { messageId: newBrowserMail?.payload.messageId, template: 'new-browser-login' }],
      ['login.new-browser', c.accountId, { sessionId: session.id }],
    ]);
    const token = b.jar.get(SESSION_COOKIE);
    assert.ok(token);
    r.secret('session token', token);

    const out = await r.step(async () => b.post('/logout', {}, (await b.get('/account')).body));
    assert.deepEqual(shape(out), [['session.ended', c.accountId, { sessionId: session.id, reason: 'logout' }]]);
    assert.equal(out[0]?.json.includes(`citizen:${c.accountId}`), true, 'the citizen ended it');
    r.end();
  });

  test('a session ended for idleness and a code refused by the account cap are audited too', async () => {
    const r = recorder();
    const c = await citizenWithPassword(t);
    r.citizen(c);
    const b = new Browser(t);
    b.ip = freshIp();
    await logIn(b, c);
    for (const m of await mailsFor(t, c.accountId)) if (m.template === 'one-time-code') r.secret('code', String(m.params.code));
    const [session] = await sessionsOf(tdb.db, c.accountId);
    t.clock.advance(30 * 60 * 1000);
    assert.deepEqual(shape(await r.step(() => b.get('/account'))), [['session.ended', c.accountId, { sessionId: session?.id, reason: 'idle' }]]);

    const capped = await testApp({ db: tdb.db, clock: t.clock, ring: t.deps.ring, env: { SESAME_CODES_PER_ACCOUNT_PER_HOUR: '1' } });
    try {
      const other = new Browser(capped);
      other.ip = freshIp();
      const flow = await submitPassword(other, c);
      const refused = await r.step(() => other.post(`${flow}/send`, { method: 'email-code' }));
      assert.deepEqual(shape(refused), [['code.refused', c.accountId, { flowId: flow.slice('/login/'.length), reason: 'account-limit' }]]);
    } finally {
      await capped.close();
    }
    r.end();
  });
});
