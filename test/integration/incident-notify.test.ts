import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { audit } from '../../src/audit/log.ts';
import { ManualClock } from '../../src/clock.ts';
import { newId } from '../../src/crypto/random.ts';
import { system } from '../../src/db/contexts.ts';
import { resolveIncident } from '../../src/incident/incidents.ts';
import { containsLink } from '../../src/mail/no-links.ts';
import type { TestApp } from '../support/app.ts';
import { mailDelivery } from '../support/contact-bank.ts';
import { backends } from '../support/databases.ts';
import { sesame } from '../support/cli.ts';
import { citizenWithPassword, type Citizen } from '../support/login.ts';
import { operatorBench, saveTestCohort, type OperatorBench } from '../support/operator-bench.ts';
import type { ReceivedMail } from '../support/smtp-inbox.ts';

/**
 * `sesame incident notify --cohort --template …`: one mail per person of the cohort through
 * the outbox, delivered by the worker to a real SMTP server; nobody outside the cohort gets
 * one, a re-run sends nothing twice, people without an address are counted (for a letter),
 * the mail says what happened, which data, what was done, what to do and how to reach the
 * DPO, in French then English, without a single link. `--status` follows delivery.
 */
type Run = { reference: string; template: string; recipients: number; queued: number; alreadyNotified: number; noAddress: number; notReset: number; withoutAddress: string[] };
type Status = { counts: { queued: number; sent: number; failed: number }; recipients: { accountId: string; template: string; status: string; attempts: number }[] };

const DPO = {
  SESAME_CONTROLLER_NAME: 'Caisse d’allocations familiales de Paris',
  SESAME_DPO_NAME: 'Claire Dubois, déléguée à la protection des données',
  SESAME_DPO_EMAIL: 'dpo@caf-paris.example.fr',
  SESAME_DPO_POSTAL_ADDRESS: '50 rue du Docteur Finlay\\n75015 Paris',
  SESAME_DPO_PHONE: '+33 1 40 00 00 00',
};

const LINKS = [/<a[\s>]/i, /href\s*=/i, /https?:\/\//i, /www\./i, /mailto:/i];

/** Delivers what the outbox holds (the clock moved past the command's real time first). */
async function deliverAll(t: TestApp): Promise<ReceivedMail[]> {
  const delivery = await mailDelivery(t);
  try {
    t.clock.set(new Date(Date.now() + 60_000));
    await delivery.deliver();
    return [...delivery.mails];
  } finally {
    await delivery.close();
  }
}

function assertNoLink(mail: ReceivedMail, siteAddress: string): void {
  for (const part of [mail.subject, mail.text, mail.html]) {
    for (const re of LINKS) assert.doesNotMatch(part, re);
    assert.equal(containsLink(part.split(siteAddress).join(' ')), false);
  }
}

for (const backend of backends()) {
  describe(`sesame incident notify on ${backend.name}`, { skip: backend.skip }, () => {
    let bench: OperatorBench;
    let reference: string;
    let alice: Citizen;
    let bob: Citizen;
    let carol: Citizen;
    let dan: Citizen;
    before(async () => {
      // Started at the real time: the command queues at the real time, the worker reads this clock.
      bench = await operatorBench(backend, 'incident-notify', new ManualClock(new Date()));
      Object.assign(bench.env, DPO);
      const opened = await bench.cli(['incident', 'open', '--title', 'Dossiers visibles par d’autres allocataires', '--detected-at', '2026-01-01T00:00:00Z', '--json']);
      assert.equal(opened.code, 0, opened.stderr);
      reference = (JSON.parse(opened.stdout) as { reference: string }).reference;
      await bench.withApp(async (t) => {
        const from = new Date(t.clock.now().getTime() - 3600_000);
        alice = await citizenWithPassword(t);
        bob = await citizenWithPassword(t);
        carol = await citizenWithPassword(t);
        dan = await citizenWithPassword(t, { contact: { email: null } });
        await saveTestCohort(t, {
          from,
          to: new Date(from.getTime() + 1800_000),
          members: [
            { accountId: alice.accountId, categories: ['file-changed', 'touched-by-others'] },
            { accountId: bob.accountId, categories: ['logged-in'] },
            { accountId: dan.accountId, categories: ['file-read'] },
          ],
        });
        // What `incident cancel` records for each change it cancelled on Alice's file.
        await system(t.deps.db, 'test', async (tx) => {
          const incident = await resolveIncident(tx, undefined);
          await audit(tx, t.clock, { type: 'incident.change-cancelled', accountId: alice.accountId, payload: { incidentId: incident.id, eventId: newId(), cancellationId: newId() } });
        });
      });
    });
    after(() => bench.close());

    test('dry run, then one mail per person of the cohort with an address; a re-run queues nothing; French then English, no link, the DPO; --status follows delivery', async () => {
      const dry = await bench.cli(['incident', 'notify', '--cohort', '--template', 'data-exposed', '--json']);
      assert.equal(dry.code, 0, dry.stderr);
      const planned = JSON.parse(dry.stdout) as Run;
      assert.deepEqual([planned.reference, planned.recipients, planned.queued, planned.alreadyNotified, planned.noAddress], [reference, 3, 2, 0, 1]);
      assert.deepEqual(planned.withoutAddress, [dan.accountId]);
      const dryHuman = await bench.cli(['incident', 'notify', '--cohort', '--template', 'data-exposed']);
      assert.match(dryHuman.stdout, /2 to queue, 0 already notified \(not sent again\), 1 without an email address/);
      assert.match(dryHuman.stdout, /by post/);
      assert.match(dryHuman.stdout, /Run again with --apply to do it: sesame incident notify --cohort --template data-exposed --apply/);

      const run = await bench.cli(['incident', 'notify', '--cohort', '--template', 'data-exposed', '--rate', '50', '--apply']);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /queuing 2 notices at 50 per second/);
      assert.match(run.stdout, /2 queued, 0 already notified/);
      assert.match(run.stderr, /notify: 100% · 2 mails/, 'a progress line when not on a terminal');
      const rerun = JSON.parse((await bench.cli(['incident', 'notify', '--cohort', '--template', 'data-exposed', '--apply', '--json'])).stdout) as Run;
      assert.deepEqual([rerun.recipients, rerun.queued, rerun.alreadyNotified, rerun.noAddress], [3, 0, 2, 1]);

      const queued = JSON.parse((await bench.cli(['incident', 'notify', '--status', '--json'])).stdout) as Status;
      assert.deepEqual(queued.counts, { queued: 2, sent: 0, failed: 0 });

      const mails = await bench.withApp(async (t) => {
        const got = await deliverAll(t);
        const site = t.deps.config.publicUrl.host;
        for (const m of got) assertNoLink(m, site);
        return got;
      });
      assert.deepEqual(mails.map((m) => m.to).flat().sort(), [alice.email, bob.email].sort(), 'each person with an address once, nobody else');
      const toAlice = mails.find((m) => m.to.includes(alice.email));
      const toBob = mails.find((m) => m.to.includes(bob.email));
      assert.ok(toAlice && toBob);
      assert.equal(toAlice.subject, `Sésame : incident de sécurité concernant vos données (${reference})`);
      const text = toAlice.text.replace(/\s+/g, ' ');
      // What happened, which data, what was done, what to do, whom to ask; then in English.
      assert.match(text, /une erreur de Sésame a pu montrer des informations de votre dossier à une autre personne/);
      assert.match(text, /Les informations concernées sont : votre identité .* vos coordonnées .* vos coordonnées bancaires \(IBAN\), vos paiements .* et vos démarches\./);
      assert.match(text, /Ce que nous avons fait : 1 changement fait sur votre dossier pendant cette période a été annulé/);
      assert.match(text, /Ce que vous pouvez faire : tapez vous-même l’adresse localhost:\d+ dans votre navigateur/);
      assert.match(text, /changez votre mot de passe avec « Mot de passe oublié »/);
      assert.match(text, /signalez-le à Sésame .* en rappelant la référence INC-/);
      assert.match(text, /Claire Dubois, déléguée à la protection des données, par courriel à l’adresse dpo@caf-paris\.example\.fr, par courrier au 50 rue du Docteur Finlay, 75015 Paris, par téléphone au \+33 1 40 00 00 00/);
      assert.match(text, /délégué à la protection des données de Caisse d’allocations familiales de Paris/);
      assert.match(text, /— English version — Hello, Between .* a fault in Sésame may have shown information from your file/);
      assert.match(text, /The information concerned is: your identity/);
      assert.match(text, /by email at the address dpo@caf-paris\.example\.fr/);
      assert.ok(text.indexOf('Bonjour') < text.indexOf('Hello'), 'French first');
      assert.match(toBob.text.replace(/\s+/g, ' '), /Nous n’avons trouvé aucun signe que les informations de votre dossier aient été vues ou modifiées/);
      assert.doesNotMatch(toBob.text, /Ce que nous avons fait/, 'nothing was done to Bob’s file: not claimed');

      const statusRun = await bench.cli(['incident', 'notify', '--status', '--json']);
      const sent = JSON.parse(statusRun.stdout) as Status;
      assert.deepEqual(sent.counts, { queued: 0, sent: 2, failed: 0 });
      assert.deepEqual(
        sent.recipients.map((r) => [r.accountId, r.template, r.status, r.attempts]).sort(),
        [alice.accountId, bob.accountId].sort().map((id) => [id, 'incident-data-exposed', 'sent', 1]),
      );
      const human = await bench.cli(['incident', 'notify', '--status']);
      assert.match(human.stdout, /2 notices: 2 sent, 0 queued, 0 failed/);
      for (const out of [statusRun.stdout, human.stdout, run.stdout, run.stderr]) {
        for (const c of [alice, bob, carol]) assert.ok(!out.includes(c.email) && !out.includes(c.familyName), 'no address or name printed');
      }

      // Audit and timeline: ids, counts, codes.
      await bench.withApp(async (t) => {
        const events = await system(t.deps.db, 'test', async (tx) => (await tx.query<{ account_id: string; actor: string; payload: Record<string, unknown> }>(`SELECT account_id, actor, payload FROM audit_log WHERE type = 'incident.notified' ORDER BY seq`)).rows);
        assert.deepEqual(events.map((e) => e.account_id).sort(), [alice.accountId, bob.accountId].sort());
        for (const e of events) {
          assert.equal(e.actor, 'operator:oncall.martin');
          assert.deepEqual(Object.keys(e.payload).sort(), ['incidentId', 'messageId', 'template']);
        }
      });
      const timeline = JSON.parse((await bench.cli(['incident', 'status', '--json'])).stdout) as { timeline: { step: string; applied: boolean; summary: Record<string, unknown> }[] };
      const steps = timeline.timeline.filter((s) => s.step === 'notify');
      assert.deepEqual(steps.map((s) => [s.applied, s.summary.template, s.summary.queued, s.summary.alreadyNotified]), [
        [false, 'data-exposed', 2, 0],
        [false, 'data-exposed', 2, 0],
        [true, 'data-exposed', 2, 0],
        [true, 'data-exposed', 0, 2],
      ]);
      assert.ok(!JSON.stringify(timeline).includes('@'), 'no address on the timeline');
    });

    test('credentials-reset goes only to those reset, says to choose a new password, and is paced by --rate', async () => {
      const before = JSON.parse((await bench.cli(['incident', 'notify', '--cohort', '--template', 'credentials-reset', '--json'])).stdout) as Run;
      assert.deepEqual([before.recipients, before.queued, before.notReset], [0, 0, 3], 'nobody reset yet: nobody to tell');
      const reset = await bench.cli(['incident', 'reset-credentials', '--cohort', '--apply']);
      assert.equal(reset.code, 0, reset.stderr);

      const started = Date.now();
      const run = JSON.parse((await bench.cli(['incident', 'notify', '--cohort', '--template', 'credentials-reset', '--rate', '1', '--apply', '--json'])).stdout) as Run;
      const elapsed = Date.now() - started;
      assert.deepEqual([run.recipients, run.queued, run.alreadyNotified, run.noAddress, run.notReset], [3, 2, 0, 1, 0]);
      assert.ok(elapsed >= 900, `two mails at one per second take a second (${elapsed} ms)`);

      const mails = await bench.withApp((t) => deliverAll(t));
      assert.deepEqual(mails.map((m) => m.to).flat().sort(), [alice.email, bob.email].sort());
      const text = (mails.find((m) => m.to.includes(bob.email))?.text ?? '').replace(/\s+/g, ' ');
      assert.match(text, /Par précaution, nous avons réinitialisé vos moyens de connexion : votre mot de passe actuel ne permet plus de vous connecter/);
      assert.match(text, /nous avons fermé toutes les sessions ouvertes sur votre compte et rendu votre mot de passe inutilisable/);
      assert.match(text, /choisissez un nouveau mot de passe avec « Mot de passe oublié »/);
      assert.match(text, /choose a new password with “Forgotten password”/);

      const status = JSON.parse((await bench.cli(['incident', 'notify', '--status', '--json'])).stdout) as Status;
      assert.deepEqual(status.counts, { queued: 0, sent: 4, failed: 0 });
    });

    test('bad flags exit 2 naming the flag', async () => {
      for (const [args, message] of [
        [['--template', 'data-exposed'], /--cohort is required/],
        [['--cohort'], /--template is required: data-exposed or credentials-reset/],
        [['--cohort', '--template', 'isolation-breach'], /--template must be data-exposed or credentials-reset/],
        [['--cohort', '--template', 'data-exposed', '--rate', '0'], /--rate must be a whole number/],
        [['--cohort', '--template', 'data-exposed', '--rate', '2.5'], /--rate must be a whole number/],
        [['--status', '--cohort'], /--cohort does not go with --status/],
        [['--status', '--apply'], /--apply does not go with --status/],
        [['--cohort', '--template', 'data-exposed', '--colour', 'red'], /Unknown option '--colour'/],
      ] as const) {
        const res = await bench.cli(['incident', 'notify', ...args]);
        assert.equal(res.code, 2, args.join(' '));
        assert.match(res.stderr, message);
      }
    });

    test('a DPO contact a mail would refuse stops the command before anything is queued, naming the variable', async () => {
      const res = await sesame(['incident', 'notify', '--cohort', '--template', 'data-exposed', '--apply'], { ...bench.env, SESAME_DPO_NAME: 'voir www.caf.example.fr' });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /SESAME_DPO_NAME: not accepted in a mail .*nothing was queued/);
      assert.ok(!res.stderr.includes('www.'), 'the value is not quoted');
    });
  });
}

/** `sesame …` in a process of its own, killed (SIGKILL) `afterMs` after it says it started queuing. */
async function killedHalfway(args: string[], env: NodeJS.ProcessEnv, afterMs: number): Promise<string> {
  const child = spawn(process.execPath, [path.join(process.cwd(), 'bin/sesame.js'), ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('queuing')) resolve();
    });
    child.on('exit', () => reject(new Error(`the command ended before it was killed: ${out} ${err}`)));
  });
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  child.kill('SIGKILL');
  await exited;
  return out;
}

for (const backend of backends()) {
  describe(`sesame incident notify killed halfway on ${backend.name}`, { skip: backend.skip }, () => {
    let bench: OperatorBench;
    let members: Citizen[] = [];
    before(async () => {
      bench = await operatorBench(backend, 'incident-notify-kill', new ManualClock(new Date()));
      assert.equal((await bench.cli(['incident', 'open', '--title', 'Incident', '--detected-at', '2026-01-01T00:00:00Z'])).code, 0);
      members = await bench.withApp(async (t) => {
        const made: Citizen[] = [];
        for (let i = 0; i < 12; i++) made.push(await citizenWithPassword(t));
        const from = new Date(t.clock.now().getTime() - 3600_000);
        await saveTestCohort(t, { from, to: new Date(from.getTime() + 600_000), members: made.map((c) => ({ accountId: c.accountId, categories: ['file-read'] })) });
        return made;
      });
    });
    after(() => bench.close());

    test('a run killed halfway queued part of the cohort; the next run queues the rest, nobody twice', async () => {
      const out = await killedHalfway(['incident', 'notify', '--cohort', '--template', 'data-exposed', '--rate', '4', '--apply'], bench.env, 1300);
      assert.match(out, /queuing 12 notices at 4 per second/);
      const countRows = (t: TestApp) =>
        system(t.deps.db, 'test', async (tx) => (await tx.query<{ account_id: string; notices: number; mails: number }>(
          `SELECT m.id AS account_id,
                  (SELECT count(*)::int FROM incident_notifications n WHERE n.account_id = m.id) AS notices,
                  (SELECT count(*)::int FROM outbox o WHERE o.account_id = m.id AND o.template = 'incident-data-exposed') AS mails
             FROM unnest($1::uuid[]) AS m(id)`,
          [members.map((c) => c.accountId)],
        )).rows);
      const half = await bench.withApp(countRows);
      const done = half.filter((r) => r.notices === 1).length;
      assert.ok(done > 0 && done < 12, `part of the cohort was queued before the kill (${done})`);
      assert.ok(half.every((r) => r.notices === r.mails), 'a mail and its notice row are committed together');

      const second = await bench.cli(['incident', 'notify', '--cohort', '--template', 'data-exposed', '--rate', '1000', '--apply', '--json']);
      assert.equal(second.code, 0, second.stderr);
      const rest = JSON.parse(second.stdout) as Run;
      assert.deepEqual([rest.recipients, rest.queued, rest.alreadyNotified], [12, 12 - done, done]);
      const all = await bench.withApp(countRows);
      assert.ok(all.every((r) => r.notices === 1 && r.mails === 1), 'each person exactly one mail');
    });
  });
}
