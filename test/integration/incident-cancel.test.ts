import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { accountCipher } from '../../src/accounts/account-keys.ts';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { newId } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import type { Part, PartValue } from '../../src/file/catalogue.ts';
import { appendEvent, cancelEvent, currentValue, readEvents, type AppendInput, type FileEvent } from '../../src/file/events.ts';
import { readBankDetails } from '../../src/file/projections/bank-details.ts';
import { readProcedure } from '../../src/file/projections/procedures.ts';
import { cancelIncidentChanges } from '../../src/incident/cancel.ts';
import { saveCohort } from '../../src/incident/cohort-store.ts';
import { findIncident } from '../../src/incident/incidents.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { AGENCY, fileProcedure, textOf } from '../support/beneficiary-file.ts';
import { backends } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { sesame, type CliResult } from '../support/cli.ts';
import { newAccount } from '../support/fixtures.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';

/**
 * `sesame incident cancel`: every change citizens made in the window is undone by an
 * operator's compensating event naming the incident (bank details, contact details, a
 * procedure), newest first so the value from before the window comes back; changes outside
 * the window, and in-window changes that something else changed again later (conflicts), are
 * kept; dry run first; a second run does nothing more; a run killed halfway is finished by the
 * next; the projections stay what the events say.
 */

const FROM = '2021-10-14T08:00:00Z';
const TO = '2021-10-14T19:00:00Z';
const at = (time: string): string => `2021-10-14T${time}:00Z`;
const IBAN_BEFORE = 'FR7630006000011234567890189';
const IBAN_INTRUDER = 'DE89370400440532013000';
const IBAN_BOB = 'FR1420041010050500013M02606';
const IBAN_AGENCY = 'GB82WEST12345698765432';

interface Change {
  accountId: string;
  eventId: string;
  type: string;
  occurredAt: string;
  action: 'cancel' | 'conflict' | 'already-cancelled';
  laterEventId?: string;
}
interface CancelJson {
  reference: string;
  from: string;
  to: string;
  changes: Change[];
  counts: { cancel: number; conflict: number; alreadyCancelled: number };
  citizenCancellations: { accountId: string; eventId: string; cancels: string }[];
}

for (const backend of backends()) {
  describe(`sesame incident cancel on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: CliWorkspace;
    let env: NodeJS.ProcessEnv;
    const ring = KeyRing.generate('kek-test');
    const clock = new ManualClock('2021-10-13T12:00:00Z');
    let reference = '';

    /** The app on the command's database; closed before any command runs (PGlite has one writer). */
    async function withApp<T>(fn: (t: TestApp) => Promise<T>): Promise<T> {
      const db = await ws.open({ poolSize: 2 });
      const t = await testApp({ db, ring, clock });
      try {
        return await fn(t);
      } finally {
        await t.close();
        await db.close();
      }
    }
    const cli = (...args: string[]): Promise<CliResult> => sesame(args, env);
    const cancel = async (...args: string[]): Promise<CancelJson> => {
      const r = await cli('incident', 'cancel', '--from', FROM, '--to', TO, '--json', ...args);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as CancelJson;
    };
    const change = async (t: TestApp, time: string, input: AppendInput): Promise<string> => {
      clock.set(time);
      return (await system(t.deps.db, 'test', (tx) => appendEvent(tx, t.deps, input))).id;
    };
    const byCitizen = (accountId: string) => ({ accountId, actor: { kind: 'citizen', id: accountId }, sessionId: newId(), level: 'eidas2' }) as const;
    const value = <P extends Part>(t: TestApp, accountId: string, part: P, key: string | null = null): Promise<PartValue<P>> =>
      system(t.deps.db, 'test', async (tx) => {
        const cipher = await accountCipher(tx, ring, accountId);
        assert.ok(cipher);
        return currentValue(tx, t.deps, cipher, accountId, part, key);
      });
    const events = (t: TestApp, accountId: string): Promise<FileEvent[]> => system(t.deps.db, 'test', (tx) => readEvents(tx, ring, accountId));
    const countEvents = (t: TestApp): Promise<number> => system(t.deps.db, 'test', async (tx) => Number((await tx.query<{ n: string }>(`SELECT count(*)::text AS n FROM file_events`)).rows[0]?.n));

    // The people and what happened to their files (ids filled in by before()).
    let alice: Citizen;
    let bob = '';
    let carol = '';
    const ev: Record<string, string> = {};
    let procedureId = '';

    before(async () => {
      ws = await cliWorkspace(backend, { prefix: 'sesame-incident-cancel-', user: 'oncall.martin', ring });
      env = ws.env;
      const opened = await cli('incident', 'open', '--title', 'Dossiers visibles par d’autres allocataires', '--detected-at', '2021-10-14T19:00:00Z', '--json');
      assert.equal(opened.code, 0, opened.stderr);
      reference = (JSON.parse(opened.stdout) as { reference: string }).reference;

      await withApp(async (t) => {
        alice = await citizenWithPassword(t);
        bob = await newAccount(t.deps.db, t.deps);
        carol = await newAccount(t.deps.db, t.deps);
        const a = alice.accountId;
        // Alice: the agency's IBAN and her own phone before the window; in it, a held IBAN, her
        // email, her phone twice, and a change of address (a procedure and the file's address).
        ev.aliceBank0 = await change(t, at('06:00'), { type: 'bank-details.changed', accountId: a, actor: AGENCY, sessionId: null, level: null, after: { iban: IBAN_BEFORE, holder: 'Camille Martin' } });
        ev.alicePhone0 = await change(t, at('07:00'), { ...byCitizen(a), type: 'contact.phone-changed', after: '+33 6 11 11 11 11' });
        ev.aliceBank = await change(t, at('09:00'), {
          ...byCitizen(a),
          type: 'bank-details.changed',
          after: { iban: IBAN_INTRUDER, holder: 'Someone Else' },
          effectiveAt: new Date(Date.parse(at('09:00')) + 3 * 86400_000),
        });
        ev.aliceEmail = await change(t, at('10:00'), { ...byCitizen(a), type: 'contact.email-changed', after: 'intrus@example.com' });
        ev.alicePhone1 = await change(t, at('10:30'), { ...byCitizen(a), type: 'contact.phone-changed', after: '+33 6 22 22 22 22' });
        ev.alicePhone2 = await change(t, at('11:00'), { ...byCitizen(a), type: 'contact.phone-changed', after: '+33 6 33 33 33 33' });
        clock.set(at('11:50'));
        const b = new Browser(t);
        await logIn(b, alice);
        clock.set(at('12:00'));
        procedureId = (await fileProcedure(b, 'address-change', { street: '3 allée des Tilleuls', complement: '', postalCode: '33000', city: 'Bordeaux', moveDate: '2021-10-10' })).id;
        // After the window: a payment (another part) is not a conflict.
        await change(t, at('20:00'), { type: 'payment.recorded', accountId: a, key: newId(), actor: AGENCY, sessionId: null, level: null, after: { reference: 'PAY-1', date: '2021-10-20', benefit: 'RSA', amountCents: 50_000, status: 'scheduled', iban: null } });

        // Bob: his address changed in the window and again after it (a conflict); his IBAN changed
        // in the window, then by the agency in the window too (a conflict); an agency payment in
        // the window (not selected); a phone change he cancelled himself in the window.
        ev.bobAddress = await change(t, at('09:30'), { ...byCitizen(bob), type: 'contact.address-changed', after: '1 rue A\n75001 Paris' });
        ev.bobBank = await change(t, at('09:45'), { ...byCitizen(bob), type: 'bank-details.changed', after: { iban: IBAN_BOB, holder: 'Bob' } });
        ev.bobPayment = await change(t, at('13:00'), { type: 'payment.recorded', accountId: bob, key: newId(), actor: AGENCY, sessionId: null, level: null, after: { reference: 'PAY-2', date: '2021-10-20', benefit: 'RSA', amountCents: 1000, status: 'paid', iban: null } });
        ev.bobPhone = await change(t, at('14:00'), { ...byCitizen(bob), type: 'contact.phone-changed', after: '+33 7 00 00 00 00' });
        clock.set(at('14:30'));
        ev.bobPhoneCancel = (await system(t.deps.db, 'test', (tx) => cancelEvent(tx, t.deps, { ...byCitizen(bob), eventId: ev.bobPhone as string }))).id;
        ev.bobAgencyBank = await change(t, at('15:00'), { type: 'bank-details.changed', accountId: bob, actor: AGENCY, sessionId: null, level: null, after: { iban: IBAN_AGENCY, holder: 'Bob' } });
        ev.bobAddressLater = await change(t, at('20:00'), { ...byCitizen(bob), type: 'contact.address-changed', after: '2 rue B\n75002 Paris' });

        // Carol, outside the cohort: her email in the window.
        ev.carolEmail = await change(t, at('11:00'), { ...byCitizen(carol), type: 'contact.email-changed', after: 'carol.intrus@example.com' });
      });
    });
    after(() => ws?.close());

    test('bad flags exit 2 naming the flag', async () => {
      const cases: [string[], RegExp][] = [
        [['--to', TO], /--from is required/],
        [['--from', 'yesterday', '--to', TO], /--from must be an instant/],
        [['--from', TO, '--to', FROM], /--from must be before --to/],
        [['--from', FROM, '--to', TO, '--batch-size', '0'], /--batch-size must be/],
        [['--from', FROM, '--to', TO, '--batch-size', '1.5'], /--batch-size must be/],
        [['--from', FROM, '--to', TO, '--bogus'], /bogus/],
      ];
      for (const [args, message] of cases) {
        const r = await cli('incident', 'cancel', ...args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
    });

    test('--cohort without a saved cohort: exit 1, says how to compute one', async () => {
      const r = await cli('incident', 'cancel', '--from', FROM, '--to', TO, '--cohort');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no saved cohort: compute one with `sesame incident cohort/);
      await withApp(async (t) => {
        await system(t.deps.db, 'test', async (tx) => {
          const incident = await findIncident(tx, reference);
          assert.ok(incident);
          clock.set('2021-10-15T08:00:00Z');
          await saveCohort(tx, clock, incident, {
            from: new Date(FROM),
            to: new Date(TO),
            options: {},
            by: { kind: 'operator', name: 'oncall.martin' },
            members: [
              { accountId: alice.accountId, categories: ['file-changed'] },
              { accountId: bob, categories: ['file-changed'] },
            ],
          });
        });
      });
    });

    test('the dry run lists every change with its action and changes nothing', async () => {
      const before = await withApp((t) => countEvents(t));
      const dry = await cancel('--cohort');
      assert.equal(dry.reference, reference);
      const actions = Object.fromEntries(dry.changes.map((c) => [c.eventId, [c.action, c.laterEventId ?? null]]));
      const proc = await withApp((t) => events(t, alice.accountId));
      const submitted = proc.find((e) => e.type === 'procedure.submitted');
      const addressed = proc.find((e) => e.type === 'contact.address-changed');
      assert.ok(submitted && addressed);
      assert.deepEqual(actions, {
        [ev.aliceBank as string]: ['cancel', null],
        [ev.aliceEmail as string]: ['cancel', null],
        [ev.alicePhone1 as string]: ['cancel', null],
        [ev.alicePhone2 as string]: ['cancel', null],
        [addressed.id]: ['cancel', null],
        [submitted.id]: ['cancel', null],
        [ev.bobAddress as string]: ['conflict', ev.bobAddressLater],
        [ev.bobBank as string]: ['conflict', ev.bobAgencyBank],
        [ev.bobPhone as string]: ['already-cancelled', null],
      });
      assert.deepEqual(dry.counts, { cancel: 6, conflict: 2, alreadyCancelled: 1 });
      assert.deepEqual(
        dry.citizenCancellations.map((c) => [c.accountId, c.eventId, c.cancels]),
        [[bob, ev.bobPhoneCancel, ev.bobPhone]],
      );
      assert.ok(
        dry.changes.every((c) => c.accountId === alice.accountId || c.accountId === bob),
        'only the cohort',
      );
      assert.equal(await withApp((t) => countEvents(t)), before, 'nothing written');

      const text = await cli('incident', 'cancel', '--from', FROM, '--to', TO, '--cohort');
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`${ev.aliceEmail}  contact\\.email-changed\\s+2021-10-14T10:00:00\\.000Z  to cancel`));
      assert.match(text.stdout, new RegExp(`${ev.bobAddress}  contact\\.address-changed\\s+\\S+  conflict: changed again by ${ev.bobAddressLater}, kept`));
      assert.match(text.stdout, /6 to cancel, 2 conflicts .* 1 already cancelled, 1 citizen cancellations left alone/);
      assert.match(text.stdout, /dry run: nothing was changed\. Run again with --apply to do it: sesame incident cancel --from 2021-10-14T08:00:00Z --to 2021-10-14T19:00:00Z --cohort --apply/);
      assert.doesNotMatch(text.stdout, /batch \d+:/);
    });

    test('--apply cancels them: values from before the window back, conflicts kept, outside the cohort untouched', async () => {
      const r = await cli('incident', 'cancel', '--from', FROM, '--to', TO, '--cohort', '--apply');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^batch 1: 6 cancelled, 2 conflicts$/m);
      await withApp(async (t) => {
        const a = alice.accountId;
        assert.equal(await value(t, a, 'contact.email-changed'), alice.email);
        assert.equal(await value(t, a, 'contact.phone-changed'), '+33 6 11 11 11 11', 'two changes in the window: the value before both');
        assert.equal(await value(t, a, 'contact.address-changed'), null);
        const bank = await system(t.deps.db, 'test', (tx) => readBankDetails(tx, ring, a, clock.now()));
        assert.equal(bank?.iban, IBAN_BEFORE);
        assert.equal(bank?.pending, false, 'restored details take effect at once: no hold');
        assert.equal(bank?.effectiveAt, null);
        const procedure = await system(t.deps.db, 'test', (tx) => readProcedure(tx, ring, a, procedureId));
        assert.equal(procedure?.status, 'cancelled');
        assert.equal(procedure?.incident, reference);
        // Before the window: untouched.
        const aliceEvents = await events(t, a);
        for (const id of [ev.aliceBank0, ev.alicePhone0]) assert.ok(!aliceEvents.some((e) => e.cancels === id));
        const compensations = aliceEvents.filter((e) => e.type === 'event.cancelled');
        assert.equal(compensations.length, 6);
        for (const c of compensations) {
          assert.deepEqual(c.actor, { kind: 'operator', id: 'oncall.martin' });
          assert.equal(c.sessionId, null);
          assert.equal(c.level, null);
          assert.equal((c.data as { incident?: string }).incident, reference);
        }
        // Newest first: the phone's later change is undone before the earlier one.
        const phoneOrder = compensations.filter((c) => c.cancels === ev.alicePhone1 || c.cancels === ev.alicePhone2).map((c) => c.cancels);
        assert.deepEqual(phoneOrder, [ev.alicePhone2, ev.alicePhone1]);

        // Bob: the later address and the agency's IBAN are kept; nothing of his was cancelled.
        assert.equal(await value(t, bob, 'contact.address-changed'), '2 rue B\n75002 Paris');
        assert.equal(await value(t, bob, 'bank-details.changed').then((v) => v?.iban), IBAN_AGENCY);
        assert.equal((await events(t, bob)).filter((e) => e.actor.kind === 'operator').length, 0);
        // Carol is not in the cohort.
        assert.equal(await value(t, carol, 'contact.email-changed'), 'carol.intrus@example.com');

        // Audit: one line per cancelled change and per conflict, ids only.
        const audits = await system(t.deps.db, 'test', (tx) =>
          tx.query<{ type: string; account_id: string | null; actor: string; payload: Record<string, string> }>(
            `SELECT type, account_id, actor, payload FROM audit_log WHERE type IN ('incident.change-cancelled', 'incident.change-conflict') ORDER BY seq`,
          ),
        );
        const cancelled = audits.rows.filter((x) => x.type === 'incident.change-cancelled');
        const conflicts = audits.rows.filter((x) => x.type === 'incident.change-conflict');
        assert.equal(cancelled.length, 6);
        assert.ok(cancelled.every((x) => x.account_id === a && x.actor === 'operator:oncall.martin'));
        assert.deepEqual(new Set(cancelled.map((x) => x.payload.cancellationId)), new Set(compensations.map((c) => c.id)));
        assert.deepEqual(
          conflicts.map((x) => [x.account_id, x.payload.eventId, x.payload.laterEventId]),
          [
            [bob, ev.bobAddress, ev.bobAddressLater],
            [bob, ev.bobBank, ev.bobAgencyBank],
          ],
        );
        const dump = JSON.stringify(audits.rows);
        for (const pii of [IBAN_BEFORE, IBAN_INTRUDER, IBAN_AGENCY, 'intrus@', alice.email, '+33', 'rue', 'Bordeaux']) assert.ok(!dump.includes(pii), `no ${pii} in the audit`);
      });
    });

    test('a second run cancels nothing more: the first run’s work is already-cancelled', async () => {
      const before = await withApp((t) => countEvents(t));
      const again = await cancel('--cohort', '--apply');
      assert.deepEqual(again.counts, { cancel: 0, conflict: 2, alreadyCancelled: 7 });
      assert.equal(await withApp((t) => countEvents(t)), before);
    });

    test('the citizen’s procedure page says it was cancelled for the incident, in French and in English', async () => {
      await withApp(async (t) => {
        clock.set('2021-10-16T10:00:00Z');
        const b = new Browser(t);
        await logIn(b, alice);
        const fr = await b.get(`/account/procedures/${procedureId}`);
        assert.equal(fr.statusCode, 200);
        assert.match(textOf(fr.body), new RegExp(`Annulée — incident ${reference} :`));
        const en = await b.get(`/account/procedures/${procedureId}?lang=en`);
        assert.match(textOf(en.body), new RegExp(`Cancelled — incident ${reference}:`));
      });
    });

    test('`sesame file rebuild` afterwards corrects nothing: the projections are what the events say', async () => {
      const r = await cli('file', 'rebuild');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^done: \d+ accounts rebuilt, 0 projection parts corrected/m);
    });

    test('without --cohort every account: Carol’s change is cancelled too; the steps are on the timeline', async () => {
      const all = await cancel('--apply');
      assert.equal(all.counts.cancel, 1);
      assert.deepEqual(
        all.changes.filter((c) => c.action === 'cancel').map((c) => c.eventId),
        [ev.carolEmail],
      );
      await withApp(async (t) => assert.match(String(await value(t, carol, 'contact.email-changed')), /^camille\.martin\.\d+@example\.fr$/));
      const status = JSON.parse((await cli('incident', 'status', '--json')).stdout) as { timeline: { step: string; applied: boolean; summary: Record<string, unknown> }[] };
      const steps = status.timeline.filter((s) => s.step === 'cancel');
      assert.deepEqual(
        steps.map((s) => [s.applied, s.summary.cancelled, s.summary.conflicts, s.summary.cohort]),
        [
          [false, 6, 2, true],
          [false, 6, 2, true],
          [true, 6, 2, true],
          [true, 0, 2, true],
          [true, 1, 2, false],
        ],
      );
    });

    test('a citizen’s change at the same moment waits for the file’s lock: committed first, it is a conflict and is kept', async () => {
      const from = new Date('2021-12-01T00:00:00Z');
      const to = new Date('2021-12-02T00:00:00Z');
      await withApp(async (t) => {
        clock.set('2021-11-30T12:00:00Z');
        const id = await newAccount(t.deps.db, t.deps);
        const inWindow = await change(t, '2021-12-01T10:00:00Z', { ...byCitizen(id), type: 'contact.phone-changed', after: '+33 6 44 44 44 44' });
        clock.set('2021-12-05T10:00:00Z');
        let release = (): void => undefined;
        let locked = (): void => undefined;
        const hasLock = new Promise<void>((resolve) => (locked = resolve));
        let concurrent = '';
        // The citizen's transaction: holds the file's lock (appendEvent takes it) until released.
        const citizenTx = system(t.deps.db, 'test', async (tx) => {
          concurrent = (await appendEvent(tx, t.deps, { ...byCitizen(id), type: 'contact.phone-changed', after: '+33 6 55 55 55 55' })).id;
          locked();
          await new Promise<void>((resolve) => (release = resolve));
        });
        await hasLock;
        let finished = false;
        const run = cancelIncidentChanges(t.deps.db, t.deps, reference, { from, to, cohort: false, batchSize: 10, apply: true, by: { kind: 'operator', name: 'oncall.martin' } }).finally(() => (finished = true));
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(finished, false, 'the run waits for the citizen’s transaction');
        release();
        await citizenTx;
        const report = await run;
        assert.deepEqual(
          report.changes.map((c) => [c.eventId, c.action, c.laterEventId]),
          [[inWindow, 'conflict', concurrent]],
        );
        assert.equal(await value(t, id, 'contact.phone-changed'), '+33 6 55 55 55 55');
      });
    });

    test('a run killed after its first batch is finished by the next run, exactly', async () => {
      const from = '2021-11-02T00:00:00Z';
      const to = '2021-11-03T00:00:00Z';
      const people = await withApp(async (t) => {
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) {
          clock.set('2021-11-01T12:00:00Z');
          const id = await newAccount(t.deps.db, t.deps);
          await change(t, `2021-11-02T1${i}:00:00Z`, { ...byCitizen(id), type: 'contact.phone-changed', after: `+33 6 00 00 00 0${i}` });
          ids.push(id);
        }
        return ids;
      });
      const child = spawn(path.resolve('node_modules/.bin/node'), ['src/main.ts', 'incident', 'cancel', '--from', from, '--to', to, '--apply', '--batch-size', '1'], { env: { ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      for await (const line of createInterface({ input: child.stdout })) {
        if (/^batch 1: 1 cancelled, 0 conflicts$/.test(line)) {
          child.kill('SIGKILL');
          break;
        }
      }
      assert.equal(await exited, 'SIGKILL', `the run ended before it was killed: ${stderr}`);
      const done = await withApp((t) => system(t.deps.db, 'test', async (tx) => Number((await tx.query<{ n: string }>(`SELECT count(*)::text AS n FROM file_events WHERE type = 'event.cancelled' AND account_id = ANY($1::uuid[])`, [people])).rows[0]?.n)));
      assert.ok(done >= 1 && done < 6, `killed halfway (${done} of 6 done)`);

      const r = await cli('incident', 'cancel', '--from', from, '--to', to, '--apply', '--batch-size', '1', '--json');
      assert.equal(r.code, 0, r.stderr);
      const resumed = JSON.parse(r.stdout) as CancelJson;
      assert.deepEqual(resumed.counts, { cancel: 6 - done, conflict: 0, alreadyCancelled: done });
      await withApp(async (t) => {
        for (const id of people) {
          assert.equal(await value(t, id, 'contact.phone-changed'), null);
          assert.equal((await events(t, id)).filter((e) => e.type === 'event.cancelled').length, 1, 'each change cancelled once');
        }
      });
      // With --json the progress lines go to stderr, stdout is the document alone.
      assert.match(r.stderr, /^batch 1: \d cancelled, 0 conflicts$/m);
    });
  });
}
