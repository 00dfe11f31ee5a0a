import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { system } from '../../src/db/contexts.ts';
import { backends } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { sesame } from '../support/cli.ts';

/**
 * `sesame incident open|status|close`: a reference per year in order, a timeline that starts
 * with the opening, JSON on request, clear refusals of bad flags, every step audited.
 */
for (const backend of backends()) {
  describe(`sesame incident open|status|close on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: CliWorkspace;
    let env: NodeJS.ProcessEnv;

    before(async () => {
      ws = await cliWorkspace(backend, { prefix: 'sesame-incident-cli-', user: 'oncall.martin' });
      env = ws.env;
    });
    after(() => ws?.close());

    test('open two, see each timeline, close one: references in order, JSON on request', async () => {
      const year = new Date().getUTCFullYear();
      const first = await sesame(['incident', 'open', '--title', 'Dossiers affichés à d’autres allocataires', '--detected-at', '2021-10-14T19:00:00+02:00', '--json'], env);
      assert.equal(first.code, 0, first.stderr);
      const opened = JSON.parse(first.stdout) as { reference: string; detectedAt: string; openedBy: string };
      assert.equal(opened.reference, `INC-${year}-001`);
      assert.equal(opened.detectedAt, '2021-10-14T17:00:00.000Z');
      assert.equal(opened.openedBy, 'operator:oncall.martin');

      const status = await sesame(['incident', 'status'], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, new RegExp(`INC-${year}-001  OPEN`));
      assert.match(status.stdout, /opened\s+applied\s+operator:oncall\.martin/);

      const second = await sesame(['incident', 'open', '--title', 'Second', '--detected-at', '2026-01-02T03:04:05Z'], env);
      assert.match(second.stdout, new RegExp(`opened INC-${year}-002`));
      assert.match(second.stdout, /due by 2026-01-05T03:04:05.000Z/, 'the 72-hour deadline from detection');
      const ambiguous = await sesame(['incident', 'status'], env);
      assert.equal(ambiguous.code, 1);
      assert.match(ambiguous.stderr, /several incidents are open: name one with --incident/);

      const closed = await sesame(['incident', 'close', '--incident', `inc-${year}-002`], env);
      assert.equal(closed.code, 0, closed.stderr);
      assert.equal((await sesame(['incident', 'close', '--incident', `INC-${year}-002`], env)).stdout.trim(), `INC-${year}-002 was already closed: nothing changed`);
      const json = JSON.parse((await sesame(['incident', 'status', '--incident', `INC-${year}-002`, '--json'], env)).stdout) as { closedAt: string | null; timeline: { step: string }[] };
      assert.ok(json.closedAt);
      assert.deepEqual(
        json.timeline.map((s) => s.step),
        ['opened', 'closed'],
      );
      const all = await sesame(['incident', 'status', '--all'], env);
      assert.match(all.stdout, new RegExp(`INC-${year}-002  closed`));
      assert.match(all.stdout, new RegExp(`INC-${year}-001  OPEN`));

      const { rows } = await ws.withDb((db) => system(db, 'test', (tx) => tx.query<{ actor: string; payload: { step: string; applied: boolean } }>(`SELECT actor, payload FROM audit_log WHERE type = 'incident.step' ORDER BY seq`)));
      assert.deepEqual(
        rows.map((r) => [r.actor, r.payload.step, r.payload.applied]),
        [
          ['operator:oncall.martin', 'opened', true],
          ['operator:oncall.martin', 'opened', true],
          ['operator:oncall.martin', 'closed', true],
        ],
      );
    });

    test('bad flags are refused with the flag named, exit 2, nothing opened', async () => {
      const cases: [string[], RegExp][] = [
        [['--detected-at', '2021-10-14T19:00:00+02:00'], /--title is required/],
        [['--title', 'X', '--detected-at', '2021-10-14 19:00'], /--detected-at must be an instant with its offset/],
        [['--title', 'X', '--detected-at', '2999-01-01T00:00:00Z'], /--detected-at is in the future/],
        [['--title', 'X', '--detected-at', '2021-10-14T19:00:00Z', '--incident', 'INC-2021-001'], /--incident does not apply/],
        [['--title', 'X', '--detected-at', '2021-10-14T19:00:00Z', '--colour', 'red'], /Unknown option '--colour'/],
      ];
      for (const [args, message] of cases) {
        const res = await sesame(['incident', 'open', ...args], env);
        assert.equal(res.code, 2, args.join(' '));
        assert.match(res.stderr, message);
      }
      const unknown = await sesame(['incident', 'status', '--incident', 'INC-1999-999'], env);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no incident INC-1999-999/);
    });
  });
}
