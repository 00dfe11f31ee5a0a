import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { FILE_EVENT_TYPES, type FileEventType } from '../../src/file/catalogue.ts';
import { accessDirection, approximately, count, deadlineOf, type Report } from '../../src/incident/report.ts';
import { article34Text } from '../../src/incident/report-article34.ts';
import { reportMarkdown } from '../../src/incident/report-markdown.ts';
import { duration } from '../../src/incident/report-text.ts';
import { containsLink } from '../../src/mail/no-links.ts';

/** The arithmetic and the wording of the Article 33 draft, on a report built by hand. */

describe('incident report: deadline arithmetic', () => {
  const detectedAt = new Date('2021-10-14T17:00:00Z');

  test('72 hours from detection; minutes left counted on an injected clock', () => {
    const clock = new ManualClock('2021-10-14T17:00:00Z');
    assert.deepEqual(deadlineOf(detectedAt, clock.now()), { detectedAt: '2021-10-14T17:00:00.000Z', dueAt: '2021-10-17T17:00:00.000Z', minutesLeft: 72 * 60, overdue: false });
    clock.advance(10 * 3600_000 + 48 * 60_000 + 30_000);
    const d = deadlineOf(detectedAt, clock.now());
    assert.equal(d.minutesLeft, 61 * 60 + 11, 'whole minutes left, rounded down');
    assert.equal(duration('fr', d.minutesLeft), '61 h 11 min');
  });

  test('exactly at the deadline nothing is left and it is not yet overdue; a second later it is', () => {
    const clock = new ManualClock('2021-10-17T17:00:00Z');
    assert.deepEqual([deadlineOf(detectedAt, clock.now()).minutesLeft, deadlineOf(detectedAt, clock.now()).overdue], [0, false]);
    clock.advance(1000);
    const late = deadlineOf(detectedAt, clock.now());
    assert.equal(late.overdue, true);
    assert.equal(late.minutesLeft, -1);
    clock.advance(3 * 3600_000 + 4 * 60_000);
    assert.equal(duration('en', deadlineOf(detectedAt, clock.now()).minutesLeft), '3 h 05 min');
    clock.set('2021-10-27T20:30:00Z');
    assert.equal(duration('fr', deadlineOf(detectedAt, clock.now()).minutesLeft), '10 j 3 h');
    assert.equal(duration('en', deadlineOf(detectedAt, clock.now()).minutesLeft), '10 d 3 h');
  });
});

describe('incident report: approximate numbers', () => {
  test('exact below 100, two significant figures above', () => {
    assert.deepEqual([0, 7, 99, 100, 345, 1234, 6987, 7049, 123_456].map(approximately), [0, 7, 99, 100, 350, 1200, 7000, 7000, 120_000]);
    assert.deepEqual(count(6987), { exact: 6987, approximately: 7000 });
  });
});

describe('incident report: access steps', () => {
  test('the direction is read from the access command’s summary', () => {
    assert.equal(accessDirection({ action: 'close', scope: 'citizens' }), 'close');
    assert.equal(accessDirection({ action: 'open' }), 'open');
    assert.equal(accessDirection({ state: 'closed' }), 'close');
    assert.equal(accessDirection({ open: true }), 'open');
    assert.equal(accessDirection({ sessionsEnded: 3 }), null);
  });
});

const zero = Object.fromEntries(FILE_EVENT_TYPES.map((t) => [t, 0])) as Record<FileEventType, number>;

function sample(over: Partial<Report> = {}): Report {
  return {
    incident: { reference: 'INC-2021-001', title: 'Dossiers visibles par *d’autres* allocataires', detectedAt: '2021-10-14T17:00:00.000Z', openedAt: '2021-10-14T17:30:00.000Z', closedAt: null },
    generatedAt: '2021-10-15T08:00:00.000Z',
    site: { serviceName: 'Sésame', siteAddress: 'sesame.example.fr', timeZone: 'Europe/Paris' },
    controller: 'Caisse d’allocations',
    dpo: { name: 'Claire Dupuis', email: 'dpo@caf.example', phone: '+33 1 23 45 67 89', postalAddress: '1 rue de la Paix\n75002 Paris' },
    deadline: deadlineOf(new Date('2021-10-14T17:00:00Z'), new Date('2021-10-15T08:00:00Z')),
    cohort: { id: '00000000-0000-4000-8000-000000000001', from: '2021-10-14T06:00:00.000Z', to: '2021-10-14T17:00:00.000Z', computedAt: '2021-10-14T18:00:00.000Z', computedBy: 'operator:oncall', options: {} },
    subjects: { total: count(6987), byCategory: { 'logged-in': count(2000), 'file-read': count(6987), 'file-changed': count(312), 'touched-by-others': count(6500) } },
    records: {
      identity: count(6987),
      contact: { email: count(6900), phone: count(4000), postalAddress: count(6987) },
      bankDetails: count(6000),
      previousBankDetails: 12,
      procedures: count(1500),
      payments: count(40_000),
      fileEventsInWindow: { total: count(400), byOthers: 312, byType: { ...zero, 'bank-details.changed': 300, 'procedure.submitted': 100 } },
      total: count(75_000),
    },
    dataCategories: ['identity', 'contact', 'bank-details', 'procedures', 'payments'],
    consequences: ['identity-theft', 'phishing', 'bank-fraud', 'diverted-payments', 'wrong-decisions', 'financial-situation-disclosed', 'account-takeover'],
    effects: {
      changesCancelled: 290,
      conflicts: 10,
      credentialsReset: { accounts: 6987, sessionsEnded: 120, authenticatorsRemoved: 4 },
      notified: { people: 0, messages: 0, sent: 0, failed: 0, byTemplate: {}, firstAt: null, lastAt: null },
    },
    measures: {
      taken: [
        { at: '2021-10-14T17:00:00.000Z', by: 'operator:oncall', step: 'opened', summary: {} },
        { at: '2021-10-14T17:05:00.000Z', by: 'operator:oncall', step: 'access', summary: { action: 'close', scope: 'citizens', sessionsEnded: 812 } },
        { at: '2021-10-14T18:00:00.000Z', by: 'operator:oncall', step: 'cohort', summary: { total: 6987 } },
      ],
      dryRuns: [{ at: '2021-10-14T18:30:00.000Z', by: 'operator:oncall', step: 'cancel', summary: { cancel: 300, conflict: 10 } }],
      proposed: ['review-conflicts', 'notify-people', 'reopen-access'],
    },
    ...over,
  };
}

describe('incident report: Markdown', () => {
  test('French by default: every Article 33(3) part, the deadline, measures, dry runs apart, Article 34 in both languages', () => {
    const md = reportMarkdown(sample(), 'fr');
    for (const heading of ['## Délai de notification', '## Nature de la violation (article 33, paragraphe 3, a)', '## Personnes concernées', '## Enregistrements de données personnelles concernés', '## Catégories de données concernées', '## Conséquences probables (article 33, paragraphe 3, c)', '## Mesures prises ou proposées (article 33, paragraphe 3, d)', '### Essais à blanc', '## Texte pour les personnes concernées (article 34)'])
      assert.ok(md.includes(heading), heading);
    assert.match(md, /Temps restant : \*\*57 h 00 min\*\*/);
    assert.match(md, /environ 7\u202f000 \(exactement 6\u202f987\) personnes/);
    assert.match(md, /numéro d’inscription au répertoire \(NIR/);
    assert.match(md, /IBAN/);
    assert.match(md, /Accès fermé \(périmètre : citizens\) \(operator:oncall\) — `action=close, scope=citizens, sessionsEnded=812`/);
    assert.match(md, /Cohorte des personnes concernées calculée : 6\u202f987 personnes/);
    assert.match(md, /### Essais à blanc\n\nListés à part : ils n’ont rien modifié et ne sont pas des mesures\.\n\n- .*Annulation des modifications/);
    assert.match(md, /Notification des personnes concernées \(article 34\) pas encore faite/);
    assert.match(md, /Délégué à la protection des données : Claire Dupuis/);
    assert.match(md, /Adresse postale : 1 rue de la Paix, 75002 Paris/);
    assert.match(md, /Intitulé : Dossiers visibles par \\\*d’autres\\\* allocataires/, 'the operator’s title cannot add Markdown');
    assert.ok(md.includes('> Madame, Monsieur,') && md.includes('> Dear Sir or Madam,'), 'Article 34 in French and English');
  });

  test('English on request; an overdue deadline asks for the reasons of the delay', () => {
    const md = reportMarkdown(sample({ deadline: deadlineOf(new Date('2021-10-14T17:00:00Z'), new Date('2021-10-17T20:05:00Z')) }), 'en');
    assert.match(md, /# Draft notification of a personal data breach — INC-2021-001/);
    assert.match(md, /\*\*Deadline passed by 3 h 05 min\.\*\* A notification made after 72 hours must be accompanied by the reasons for the delay \(Article 33\(1\)\)/);
    assert.match(md, /Reasons for the delay: _to be completed_/);
    assert.match(md, /approximately 7,000 \(exactly 6,987\) people/);
    assert.ok(!md.includes('Time left'));
    assert.ok(md.includes('> Madame, Monsieur,') && md.includes('> Dear Sir or Madam,'));
  });

  test('no cohort yet: says so and proposes computing one; unset DPO details are named by their variable', () => {
    const md = reportMarkdown(
      sample({
        cohort: null,
        dpo: { name: 'DPO', email: null, phone: null, postalAddress: null },
        measures: { taken: [], dryRuns: [], proposed: ['compute-cohort', 'close-access', 'notify-people'] },
      }),
      'fr',
    );
    assert.match(md, /Aucune cohorte n’a encore été calculée/);
    assert.match(md, /Calculer la cohorte des personnes concernées/);
    assert.match(md, /Courriel : _non renseigné \(SESAME_DPO_EMAIL\)_/);
    assert.match(md, /### Essais à blanc\n\nListés à part[^\n]*\n\nAucune\./);
  });
});

describe('incident report: Article 34 text', () => {
  test('plain language in both languages, the DPO’s contact, the address to type, no link', () => {
    const r = sample({ effects: { ...sample().effects, notified: { people: 1, messages: 1, sent: 1, failed: 0, byTemplate: { x: 1 }, firstAt: null, lastAt: null } } });
    const fr = article34Text(r, 'fr');
    const en = article34Text(r, 'en');
    assert.match(fr, /ont pu être vues et modifiées par d’autres personnes/);
    assert.match(fr, /numéro de sécurité sociale/);
    assert.match(fr, /en tapant vous-même l’adresse sesame\.example\.fr dans votre navigateur/);
    assert.match(fr, /nous avons annulé les modifications/);
    assert.match(fr, /dpo@caf\.example/);
    assert.match(fr, /\+33 1 23 45 67 89/);
    assert.match(en, /may have been seen and changed by other people/);
    assert.match(en, /by typing the address sesame\.example\.fr into your browser yourself/);
    assert.match(en, /our data protection officer \(Claire Dupuis\) by email at dpo@caf\.example, by telephone on \+33 1 23 45 67 89 or by post at 1 rue de la Paix, 75002 Paris/);
    assert.match(fr, /nous avons fermé l’accès au service/);
    for (const text of [fr, en]) assert.equal(containsLink(text), false);
  });

  test('only what is present: no bank advice without bank data, no “changed” without changes', () => {
    const base = sample();
    const r = sample({
      dataCategories: ['identity', 'contact'],
      consequences: ['identity-theft', 'phishing'],
      subjects: { ...base.subjects, byCategory: { ...base.subjects.byCategory, 'file-changed': count(0), 'logged-in': count(0) } },
      records: { ...base.records, fileEventsInWindow: { total: count(0), byOthers: 0, byType: zero } },
      effects: { changesCancelled: 0, conflicts: 0, credentialsReset: { accounts: 0, sessionsEnded: 0, authenticatorsRemoved: 0 }, notified: base.effects.notified },
      measures: { taken: [{ at: '2021-10-14T17:05:00.000Z', by: 'operator:oncall', step: 'access', summary: { action: 'open' } }], dryRuns: [], proposed: [] },
    });
    const fr = article34Text(r, 'fr');
    assert.match(fr, /ont pu être vues par d’autres/);
    assert.ok(!/IBAN|bancaire|modifiées|fermé l’accès|mot de passe à votre prochaine/.test(fr), fr);
  });
});
