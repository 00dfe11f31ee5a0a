import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { audit } from '../../src/audit/log.ts';
import { DEFAULT_AUTH_POLICY } from '../../src/auth/policy.ts';
import { startSession } from '../../src/auth/sessions.ts';
import { ManualClock } from '../../src/clock.ts';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { newId } from '../../src/crypto/random.ts';
import type { OpenDatabase } from '../../src/db/open.ts';
import { system } from '../../src/db/contexts.ts';
import { appendEvent, type Actor } from '../../src/file/events.ts';
import { saveCohort, type CohortMember } from '../../src/incident/cohort-store.ts';
import { openIncident, recordStep, resolveIncident, timelineOf, type Incident, type IncidentActor } from '../../src/incident/incidents.ts';
import type { Report } from '../../src/incident/report.ts';
import { containsLink } from '../../src/mail/no-links.ts';
import { backends } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { sesame } from '../support/cli.ts';
import { newAccount, uniqueNir } from '../support/fixtures.ts';

/**
 * `sesame incident report`: a small world written through the foundation functions (accounts,
 * real file events on each side of the window, a saved cohort, timeline steps and the audit
 * events the incident's steps write), then the report in Markdown (fr, en) and JSON. Counts
 * are asserted exactly; no fixture citizen's NIR, name, contact or IBAN may appear anywhere.
 */

const OPERATOR: IncidentActor = { kind: 'operator', name: 'oncall.martin' };
const AGENCY: Actor = { kind: 'agency', id: 'caf-75' };
const HOUR = 3600_000;

type ReportJson = Omit<Report, 'article34'> & { article34: { fr: string; en: string } };

for (const backend of backends()) {
  describe(`sesame incident report on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: CliWorkspace;
    let env: NodeJS.ProcessEnv;
    const ring = KeyRing.generate('kek-test');
    // Real time: the command measures the deadline on the system clock.
    const now = Date.now();
    const clock = new ManualClock(new Date(now));
    const deps = { ring, clock };
    const from = new Date(now - 20 * HOUR);
    const to = new Date(now - 12 * HOUR);
    /** Every personal value of the fixture: none may leave in the report. */
    const secrets: string[] = [];
    let recent: Incident;
    let old: Incident;

    const withDb = <T>(fn: (db: OpenDatabase) => Promise<T>): Promise<T> => ws.withDb(fn);

    async function person(db: OpenDatabase, n: number, contact: { email: string | null; phone: string | null; postalAddress: string | null }): Promise<string> {
      const nir = uniqueNir(n % 2 === 0 ? 2 : 1);
      const identity = { nir, givenNames: `Zéphyrine${n}`, familyName: `Quatremare${n}`, birthDate: '1979-03-0' + String((n % 9) + 1), birthPlace: `Pontarlier${n}` };
      secrets.push(nir, identity.givenNames, identity.familyName, identity.birthPlace, ...[contact.email, contact.phone, contact.postalAddress].filter((v): v is string => v !== null));
      return newAccount(db, deps, { identity, contact });
    }

    const change = (db: OpenDatabase, at: number, input: Parameters<typeof appendEvent>[2]) => {
      clock.set(new Date(at));
      return system(db, 'test', (tx) => appendEvent(tx, deps, input));
    };
    const bank = (db: OpenDatabase, at: number, accountId: string, iban: string, holder: string, actor: Actor) => {
      secrets.push(iban, holder);
      return change(db, at, { type: 'bank-details.changed', accountId, after: { iban, holder }, effectiveAt: null, actor, sessionId: null, level: null });
    };
    const payment = (db: OpenDatabase, at: number, accountId: string) =>
      change(db, at, {
        type: 'payment.recorded',
        accountId,
        key: newId(),
        after: { reference: `PAY-${newId().slice(0, 8)}`, date: new Date(at).toISOString().slice(0, 10), benefit: 'RSA', amountCents: 60712, status: 'paid', iban: null },
        actor: AGENCY,
        sessionId: null,
        level: null,
      });
    const procedure = (db: OpenDatabase, at: number, accountId: string, actor: Actor) =>
      change(db, at, {
        type: 'procedure.submitted',
        accountId,
        key: newId(),
        after: { kind: 'income-declaration', reference: `D-${newId().slice(0, 8).toUpperCase()}`, status: 'submitted', submittedAt: new Date(at).toISOString(), data: { income: 1234 }, note: null },
        actor,
        sessionId: null,
        level: null,
      });

    before(async () => {
      ws = await cliWorkspace(backend, {
        prefix: 'sesame-incident-report-',
        user: 'oncall.martin',
        ring,
        env: {
          SESAME_PUBLIC_URL: 'https://sesame.example.fr',
          SESAME_CONTROLLER_NAME: 'Caisse d’allocations familiales de Paris',
          SESAME_DPO_NAME: 'Claire Dupuis',
          SESAME_DPO_EMAIL: 'dpo@caf-paris.example',
          SESAME_DPO_PHONE: '+33 1 40 00 00 00',
          SESAME_DPO_POSTAL_ADDRESS: '50 rue du Docteur Finlay, 75015 Paris',
        },
      });
      env = ws.env;

      await withDb(async (db) => {
        const before = from.getTime() - 2 * HOUR;
        const inside = from.getTime() + HOUR;
        const afterTo = to.getTime() + HOUR;
        clock.set(new Date(before));
        const m1 = await person(db, 1, { email: 'zephyrine1@example.fr', phone: '+33 6 11 22 33 44', postalAddress: '12 impasse des Tilleuls\n25300 Pontarlier' });
        const m2 = await person(db, 2, { email: 'zephyrine2@example.fr', phone: null, postalAddress: null });
        const m3 = await person(db, 3, { email: 'zephyrine3@example.fr', phone: '+33 6 55 66 77 88', postalAddress: null });
        const m4 = await person(db, 4, { email: null, phone: null, postalAddress: null });
        const outsider = await person(db, 5, { email: 'outsider5@example.fr', phone: '+33 6 99 99 99 99', postalAddress: '1 place Nette\n75001 Paris' });

        // Before the window: what the agency holds (counted as records held, not as changes in the window).
        await bank(db, before, m1, 'FR7630006000011234567890189', 'Zéphyrine Quatremare1', AGENCY);
        await payment(db, before, m1);
        await payment(db, before + 1000, m1);
        await procedure(db, before, m1, { kind: 'citizen', id: m1 });
        // In the window: m2's bank details changed by m3 (someone else), m3's own procedure.
        await bank(db, inside, m2, 'DE89370400440532013000', 'Quatremare Autre', { kind: 'citizen', id: m3 });
        await procedure(db, inside, m3, { kind: 'citizen', id: m3 });
        // The 2021 fault: m4's file changed in m3's session, the app believing it was m4's own.
        clock.set(new Date(inside));
        const { session } = await system(db, 'test', (tx) =>
          startSession(tx, { ring, clock, policy: DEFAULT_AUTH_POLICY }, { accountId: m3, level: 'eidas1', amr: ['pwd'], authTime: clock.now(), client: { ip: '192.0.2.1', userAgent: null } }),
        );
        await change(db, inside + 60_000, { type: 'contact.address-changed', accountId: m4, after: '9 rue des Intrus\n75011 Paris', actor: { kind: 'citizen', id: m4 }, sessionId: session.id, level: 'eidas1' });
        secrets.push('9 rue des Intrus');
        // After the window: not a change in the window.
        await change(db, afterTo, { type: 'contact.phone-changed', accountId: m1, after: '+33 6 00 00 00 01', actor: { kind: 'citizen', id: m1 }, sessionId: null, level: null });
        secrets.push('+33 6 00 00 00 01');
        // The outsider has data everywhere, in the window too: never counted.
        await bank(db, before, outsider, 'GB82WEST12345698765432', 'Outsider Holder', AGENCY);
        await payment(db, before, outsider);
        await procedure(db, inside, outsider, { kind: 'citizen', id: m2 });

        clock.set(new Date(now - 60_000));
        recent = await openIncident(db, clock, { title: 'Dossiers visibles par d’autres allocataires', detectedAt: new Date(now - 10 * HOUR), by: OPERATOR });
        old = await openIncident(db, clock, { title: 'Incident de 2021', detectedAt: new Date('2021-10-14T17:00:00Z'), by: OPERATOR });

        const members: CohortMember[] = [
          { accountId: m1, categories: ['file-read', 'touched-by-others'] },
          { accountId: m2, categories: ['file-changed', 'logged-in', 'touched-by-others'] },
          { accountId: m3, categories: ['file-changed', 'logged-in'] },
          { accountId: m4, categories: ['file-read'] },
        ];
        await system(db, 'test', async (tx) => {
          await recordStep(tx, clock, recent, { kind: 'access', by: OPERATOR, applied: true, summary: { action: 'close', scope: 'citizens', sessionsEnded: 3 } });
          await saveCohort(tx, clock, recent, { from, to, options: { from: from.toISOString(), to: to.toISOString() }, by: OPERATOR, members });
          await recordStep(tx, clock, recent, { kind: 'cohort', by: OPERATOR, applied: true, summary: { total: 4 } });
        });
        await system(db, 'test', (tx) => recordStep(tx, clock, recent, { kind: 'cancel', by: OPERATOR, applied: false, summary: { cancel: 1, conflict: 0 } }));
        // Two applied runs (the first one resumed): the same conflict is audited by each.
        const conflict = { incidentId: recent.id, eventId: newId(), laterEventId: newId() };
        await system(db, 'test', async (tx) => {
          await audit(tx, clock, { type: 'incident.change-cancelled', accountId: m2, payload: { incidentId: recent.id, eventId: newId(), cancellationId: newId() } }, OPERATOR.name);
          await audit(tx, clock, { type: 'incident.change-conflict', accountId: m3, payload: conflict }, OPERATOR.name);
          await recordStep(tx, clock, recent, { kind: 'cancel', by: OPERATOR, applied: true, summary: { cancel: 1, conflict: 1 } });
        });
        await system(db, 'test', async (tx) => {
          await audit(tx, clock, { type: 'incident.change-conflict', accountId: m3, payload: conflict }, OPERATOR.name);
          await recordStep(tx, clock, recent, { kind: 'cancel', by: OPERATOR, applied: true, summary: { cancel: 0, conflict: 1 } });
        });
        await system(db, 'test', async (tx) => {
          for (const m of members) {
            await audit(tx, clock, { type: 'incident.credentials-reset', accountId: m.accountId, payload: { incidentId: recent.id, sessionsEnded: 1, authenticatorsRemoved: m.accountId === m2 ? 1 : 0 } }, OPERATOR.name);
          }
          await recordStep(tx, clock, recent, { kind: 'reset-credentials', by: OPERATOR, applied: true, summary: { accounts: 4 } });
        });
        await system(db, 'test', async (tx) => {
          // m4 has no address: three messages; the worker delivered two, gave up on one.
          const sent = [m1, m2];
          for (const accountId of [m1, m2, m3]) {
            const messageId = newId();
            await audit(tx, clock, { type: 'incident.notified', accountId, payload: { incidentId: recent.id, messageId, template: 'data-exposed' } }, OPERATOR.name);
            if (sent.includes(accountId)) await audit(tx, clock, { type: 'mail.sent', accountId, payload: { messageId, template: 'incident-data-exposed', attempts: 1 } });
            else await audit(tx, clock, { type: 'mail.failed', accountId, payload: { messageId, template: 'incident-data-exposed', attempts: 5, reason: 'attempts-exhausted', lastError: 'smtp-550' } });
          }
          await recordStep(tx, clock, recent, { kind: 'notify', by: OPERATOR, applied: true, summary: { template: 'data-exposed', queued: 3, noAddress: 1 } });
        });
        // Another incident's audit events must not count for this one.
        await system(db, 'test', (tx) => audit(tx, clock, { type: 'incident.change-cancelled', accountId: outsider, payload: { incidentId: old.id, eventId: newId(), cancellationId: newId() } }, OPERATOR.name));
      });
    });
    after(() => ws?.close());

    const noSecrets = (label: string, text: string): void => {
      for (const s of secrets) assert.ok(!text.includes(s), `${label} holds a fixture citizen's personal data`);
    };

    test('JSON: exact counts per category of people and records, effects from the audit, measures from the timeline, the deadline', async () => {
      const res = await sesame(['incident', 'report', '--incident', recent.reference, '--format', 'json'], env);
      assert.equal(res.code, 0, res.stderr);
      noSecrets('the JSON', res.stdout);
      const r = JSON.parse(res.stdout) as ReportJson;
      // Stable keys, in a fixed order: scripts and the console read this document.
      assert.deepEqual(Object.keys(r), ['incident', 'generatedAt', 'site', 'controller', 'dpo', 'deadline', 'cohort', 'subjects', 'records', 'dataCategories', 'consequences', 'effects', 'measures', 'article34']);
      assert.deepEqual(Object.keys(r.records), ['identity', 'contact', 'bankDetails', 'previousBankDetails', 'procedures', 'payments', 'fileEventsInWindow', 'total']);
      assert.equal(r.incident.reference, recent.reference);
      assert.deepEqual(r.dpo, { name: 'Claire Dupuis', email: 'dpo@caf-paris.example', phone: '+33 1 40 00 00 00', postalAddress: '50 rue du Docteur Finlay, 75015 Paris' });
      assert.equal(r.controller, 'Caisse d’allocations familiales de Paris');
      assert.equal(r.site.siteAddress, 'sesame.example.fr');
      assert.equal(r.cohort?.from, from.toISOString());

      assert.deepEqual(r.subjects.total, { exact: 4, approximately: 4 });
      assert.deepEqual(
        Object.fromEntries(Object.entries(r.subjects.byCategory).map(([k, v]) => [k, v.exact])),
        { 'logged-in': 2, 'file-read': 2, 'file-changed': 2, 'touched-by-others': 2 },
      );
      const rec = r.records;
      assert.deepEqual(
        [rec.identity.exact, rec.contact.email.exact, rec.contact.phone.exact, rec.contact.postalAddress.exact, rec.bankDetails.exact, rec.previousBankDetails, rec.procedures.exact, rec.payments.exact],
        [4, 3, 2, 2, 2, 0, 2, 2],
      );
      assert.equal(rec.fileEventsInWindow.total.exact, 3);
      assert.equal(rec.fileEventsInWindow.byOthers, 2, 'another citizen as actor, or a session of another account');
      assert.deepEqual(
        Object.entries(rec.fileEventsInWindow.byType).filter(([, n]) => n > 0),
        [
          ['contact.address-changed', 1],
          ['bank-details.changed', 1],
          ['procedure.submitted', 1],
        ],
      );
      assert.equal(rec.total.exact, 4 + 3 + 2 + 2 + 2 + 2 + 2 + 3);
      assert.deepEqual(r.dataCategories, ['identity', 'contact', 'bank-details', 'procedures', 'payments']);
      assert.deepEqual(r.consequences, ['identity-theft', 'phishing', 'bank-fraud', 'diverted-payments', 'wrong-decisions', 'financial-situation-disclosed', 'account-takeover']);

      assert.equal(r.effects.changesCancelled, 1, 'only this incident’s cancellations');
      assert.equal(r.effects.conflicts, 1, 'a conflict audited by two runs is one conflict');
      assert.deepEqual(r.effects.credentialsReset, { accounts: 4, sessionsEnded: 4, authenticatorsRemoved: 1 });
      assert.deepEqual({ ...r.effects.notified, firstAt: null, lastAt: null }, { people: 3, messages: 3, sent: 2, failed: 1, byTemplate: { 'data-exposed': 3 }, firstAt: null, lastAt: null });
      assert.ok(r.effects.notified.firstAt);

      assert.deepEqual(
        r.measures.taken.map((m) => m.step),
        ['opened', 'access', 'cohort', 'cancel', 'cancel', 'reset-credentials', 'notify'],
      );
      assert.deepEqual(
        r.measures.dryRuns.map((m) => [m.step, m.summary]),
        [['cancel', { cancel: 1, conflict: 0 }]],
      );
      assert.deepEqual(r.measures.proposed, ['review-conflicts', 'undelivered-notifications', 'reopen-access']);

      // Detected 10 hours ago: about 62 hours left (the command reads the system clock).
      assert.equal(r.deadline.overdue, false);
      assert.equal(r.deadline.dueAt, new Date(now - 10 * HOUR + 72 * HOUR).toISOString());
      assert.ok(r.deadline.minutesLeft <= 62 * 60 && r.deadline.minutesLeft >= 62 * 60 - 5, String(r.deadline.minutesLeft));

      assert.match(r.article34.fr, /Madame, Monsieur,/);
      assert.match(r.article34.en, /Dear Sir or Madam,/);
      for (const text of [r.article34.fr, r.article34.en]) {
        assert.equal(containsLink(text), false, 'no link in the text to the people concerned');
        assert.ok(text.includes('sesame.example.fr') && text.includes('dpo@caf-paris.example'));
      }
    });

    test('Markdown in French by default and in English on request, each with the Article 34 text in both languages', async () => {
      const fr = await sesame(['incident', 'report', '--incident', recent.reference], env);
      assert.equal(fr.code, 0, fr.stderr);
      noSecrets('the French report', fr.stdout);
      assert.match(fr.stdout, new RegExp(`^# Projet de notification d’une violation de données personnelles — ${recent.reference}`));
      assert.match(fr.stdout, /Temps restant : \*\*6[12] h \d\d min\*\*/);
      assert.match(fr.stdout, /Délégué à la protection des données : Claire Dupuis/);
      assert.match(fr.stdout, /Courriel : dpo@caf-paris\.example/);
      assert.match(fr.stdout, /\| Identité \(NIR, nom, prénoms, date de naissance\) \| 4 \| 4 \|/);
      assert.match(fr.stdout, /\| Coordonnées bancaires \(IBAN\) \| 2 \| 2 \|/);
      assert.match(fr.stdout, /\| \*\*Total\*\* \| 20 \| 20 \|/);
      assert.match(fr.stdout, /Accès fermé \(périmètre : citizens\) \(operator:oncall\.martin\)/);
      assert.match(fr.stdout, /Cohorte des personnes concernées calculée : 4 personnes/);
      assert.match(fr.stdout, /Modifications annulées : 1 ; conflits laissés en l’état : 1/);
      assert.match(fr.stdout, /Conflits à examiner un par un \(modifications laissées en l’état parce que modifiées à nouveau ensuite\) : 1\./);
      assert.match(fr.stdout, /Personnes notifiées : 3 \(messages : 3, remis : 2, non remis : 1/);
      assert.match(fr.stdout, /Messages de notification non remis : 1\. Prévenir ces personnes par un autre moyen/);
      assert.match(fr.stdout, /### Essais à blanc\n\nListés à part[^\n]*\n\n- [^\n]*Annulation des modifications faites pendant la période \(operator:oncall\.martin\) — `cancel=1, conflict=0`/);
      assert.match(fr.stdout, /numéro d’inscription au répertoire \(NIR/);
      assert.ok(fr.stdout.includes('### En français') && fr.stdout.includes('> Madame, Monsieur,'));
      assert.ok(fr.stdout.includes('### En anglais') && fr.stdout.includes('> Dear Sir or Madam,'));

      const en = await sesame(['incident', 'report', '--incident', recent.reference, '--lang', 'en'], env);
      assert.equal(en.code, 0, en.stderr);
      noSecrets('the English report', en.stdout);
      assert.match(en.stdout, /^# Draft notification of a personal data breach/);
      assert.match(en.stdout, /Time left: \*\*6[12] h \d\d min\*\*/);
      assert.match(en.stdout, /Data protection officer: Claire Dupuis/);
      assert.ok(en.stdout.includes('> Madame, Monsieur,') && en.stdout.includes('> Dear Sir or Madam,'));
      assert.match(en.stdout, /Draft notification to the authority prepared/, 'the earlier report run is on the timeline');
    });

    test('an incident detected long ago: overdue, the reasons for the delay asked for, and the missing steps proposed', async () => {
      const res = await sesame(['incident', 'report', '--incident', old.reference, '--json'], env);
      assert.equal(res.code, 0, res.stderr);
      const r = JSON.parse(res.stdout) as ReportJson;
      assert.equal(r.deadline.overdue, true);
      assert.equal(r.deadline.dueAt, '2021-10-17T17:00:00.000Z');
      assert.ok(r.deadline.minutesLeft < -(24 * 60 * 365));
      assert.equal(r.cohort, null);
      assert.equal(r.subjects.total.exact, 0);
      assert.equal(r.effects.changesCancelled, 1, 'its own audit events only');
      assert.deepEqual(r.measures.proposed, ['compute-cohort', 'close-access', 'notify-people']);
      const md = await sesame(['incident', 'report', '--incident', old.reference], env);
      assert.match(md.stdout, /\*\*Échéance dépassée de [\d\u202f]+ j \d+ h\.\*\* La notification faite après 72 heures doit être accompagnée des motifs du retard/);
      assert.match(md.stdout, /Motifs du retard : _à compléter_/);
      assert.match(md.stdout, /Aucune cohorte n’a encore été calculée/);
    });

    test('every run is a report step on the timeline with counts and options only, and audited', async () => {
      const { steps, audited } = await withDb((db) =>
        system(db, 'test', async (tx) => {
          const incident = await resolveIncident(tx, recent.reference);
          const all = await timelineOf(tx, incident);
          const { rows } = await tx.query<{ payload: { reference: string; step: string } }>(`SELECT payload FROM audit_log WHERE type = 'incident.step' AND payload->>'step' = 'report'`);
          return { steps: all.filter((s) => s.kind === 'report'), audited: rows.filter((r) => r.payload.reference === recent.reference).length };
        }),
      );
      assert.deepEqual(
        steps.map((s) => [s.applied, s.by, s.summary.format, s.summary.lang, s.summary.people, s.summary.records]),
        [
          [true, 'operator:oncall.martin', 'json', null, 4, 20],
          [true, 'operator:oncall.martin', 'md', 'fr', 4, 20],
          [true, 'operator:oncall.martin', 'md', 'en', 4, 20],
        ],
      );
      assert.equal(audited, 3);
      noSecrets('the timeline', JSON.stringify(steps));
    });

    test('bad flags exit 2 naming the flag; several open incidents need --incident', async () => {
      const cases: [string[], RegExp][] = [
        [['--format', 'pdf'], /--format must be md or json/],
        [['--lang', 'de'], /--lang must be fr or en/],
        [['--format', 'json', '--lang', 'en'], /--lang applies to --format md only/],
        [['--json', '--format', 'md'], /--json and --format md do not go together/],
        [['--colour', 'red'], /Unknown option '--colour'/],
        [['--format'], /--format/],
      ];
      for (const [args, message] of cases) {
        const res = await sesame(['incident', 'report', ...args], env);
        assert.equal(res.code, 2, args.join(' '));
        assert.match(res.stderr, message);
        assert.equal(res.stdout, '');
      }
      const ambiguous = await sesame(['incident', 'report'], env);
      assert.equal(ambiguous.code, 1);
      assert.match(ambiguous.stderr, /several incidents are open: name one with --incident/);
      const unknown = await sesame(['incident', 'report', '--incident', 'INC-1999-999'], env);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no incident INC-1999-999/);
    });
  });
}
