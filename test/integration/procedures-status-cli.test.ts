import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/clock.ts';
import { system } from '../../src/db/contexts.ts';
import { readEvents } from '../../src/file/events.ts';
import { testApp, type TestApp } from '../support/app.ts';
import { backends } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { sesame } from '../support/cli.ts';
import { Browser, citizenWithPassword, logIn, type Citizen } from '../support/login.ts';
import { fileProcedure, sectionById, textOf } from '../support/beneficiary-file.ts';

/**
 * `sesame procedures status REFERENCE in-review|accepted|rejected [--note TEXT] [--agency CODE]`:
 * the agency's decision is a procedure.status-changed event (system context, actor operator or
 * agency), along the allowed moves only, and the citizen sees it on the detail page. The app
 * and the command take turns on one database (PGlite allows one process at a time).
 */
for (const backend of backends()) {
  describe(`sesame procedures status on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: CliWorkspace;
    let env: NodeJS.ProcessEnv;
    // One clock for both runs of the app: the second login's code mail is the newest.
    const clock = new ManualClock();

    /** Runs `fn` with the web app on the shared database, then closes both. */
    async function withApp<T>(fn: (t: TestApp) => Promise<T>): Promise<T> {
      const db = await ws.open();
      const t = await testApp({ db, ring: ws.ring, clock });
      try {
        return await fn(t);
      } finally {
        await t.close();
        await db.close();
      }
    }

    before(async () => {
      // The app and the command share the keys as they share the database.
      ws = await cliWorkspace(backend, { prefix: 'sesame-procedures-cli-', user: 'agent.dupuis' });
      env = ws.env;
    });
    after(() => ws?.close());

    test('in review, then accepted with a note: the detail page shows the status and the note; a final status does not move', async () => {
      let c: Citizen | undefined;
      const { id, reference } = await withApp(async (t) => {
        c = await citizenWithPassword(t);
        const b = new Browser(t);
        await logIn(b, c);
        return fileProcedure(b, 'income-declaration', { quarter: '2025-Q4', 'salaries-1': '1500' });
      });
      assert.ok(c);

      const review = await sesame(['procedures', 'status', reference, 'in-review'], env);
      assert.equal(review.code, 0, review.stderr);
      assert.equal(review.stdout.trim(), `${reference}: submitted → in-review`);
      const accepted = await sesame(['procedures', 'status', reference.toLowerCase(), 'accepted', '--note', 'Déclaration enregistrée, merci.', '--agency', 'caf-75'], env);
      assert.equal(accepted.code, 0, accepted.stderr);
      assert.equal(accepted.stdout.trim(), `${reference}: in-review → accepted`);

      const final = await sesame(['procedures', 'status', reference, 'rejected'], env);
      assert.equal(final.code, 1);
      assert.match(final.stderr, /a procedure accepted cannot become rejected \(its status is final\)/);
      const backwards = await sesame(['procedures', 'status', reference, 'in-review'], env);
      assert.equal(backwards.code, 1);

      await withApp(async (t) => {
        const b = new Browser(t);
        await logIn(b, c as Citizen);
        const page = await b.get(`/account/procedures/${id}`);
        assert.match(sectionById(page.body, 'procedure-status', 'dd'), /data-status="accepted"/);
        assert.match(textOf(sectionById(page.body, 'procedure-status', 'dd')), /Acceptée/);
        assert.match(textOf(sectionById(page.body, 'procedure-note', 'div')), /Message de l’organisme Déclaration enregistrée, merci\./);
        const list = await b.get('/account/procedures?lang=en');
        assert.match(textOf(sectionById(list.body, 'procedures', 'table')), new RegExp(`${reference} Quarterly income declaration .* Accepted`));

        const { events, audit } = await system(t.deps.db, 'test', async (tx) => ({
          events: (await readEvents(tx, ws.ring, (c as Citizen).accountId)).filter((e) => e.type === 'procedure.status-changed'),
          audit: (await tx.query<{ actor: string; payload: Record<string, string> }>(`SELECT actor, payload FROM audit_log WHERE type = 'procedure.status-changed' ORDER BY seq`)).rows,
        }));
        assert.deepEqual(events.map((e) => [e.actor, e.sessionId, e.level]), [
          [{ kind: 'operator', id: 'agent.dupuis' }, null, null],
          [{ kind: 'agency', id: 'caf-75' }, null, null],
        ]);
        assert.deepEqual(audit.map((a) => [a.actor, a.payload.from, a.payload.to, a.payload.by]), [
          ['operator:agent.dupuis', 'submitted', 'in-review', 'operator'],
          ['system:cli:procedures-status', 'in-review', 'accepted', 'agency'],
        ]);
      });
    });

    test('an unknown reference fails (exit 1); a wrong command line is a usage error (exit 2), naming no value', async () => {
      const unknown = await sesame(['procedures', 'status', 'D-2026-ZZZZZZZZ', 'accepted'], env);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no procedure with this reference/);
      for (const args of [
        ['procedures', 'status'],
        ['procedures', 'status', 'D-2026-ZZZZZZZZ'],
        ['procedures', 'status', 'D-2026-ZZZZZZZZ', 'approved'],
        ['procedures', 'status', 'not a reference!', 'accepted'],
        ['procedures', 'status', 'D-2026-ZZZZZZZZ', 'accepted', '--note', ''],
        ['procedures', 'status', 'D-2026-ZZZZZZZZ', 'accepted', 'extra'],
        ['procedures', 'status', 'D-2026-ZZZZZZZZ', 'accepted', '--agency', 'caf 75'],
      ]) {
        const r = await sesame(args, env);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /Usage: sesame procedures status/);
      }
    });
  });
}
