import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeAccess, openAccess } from '../../src/incident/access.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * The operators' message on the maintenance page is plain text: markup typed into it (by
 * mistake, or by someone who got hold of an operator's shell or a staff session) is shown as
 * text, never run, on the citizens' page and on the console's; the database refuses a message
 * that is not one paragraph even when the application's checks are bypassed.
 */
const FR = `<script>alert("fr")</script><a href="https://phish.example/">Connectez-vous ici</a> & "guillemets"`;
const EN = `</p><img src=x onerror=alert(1)><iframe src="https://phish.example/"></iframe>`;
const OPERATOR = { kind: 'operator', name: 'oncall' } as const;

onEachBackend('maintenance message injection', (s) => {
  for (const scope of ['citizens', 'staff'] as const) {
    test(`markup in the ${scope} message is escaped in both languages`, async () => {
      await closeAccess(s.t.deps.db, s.t.clock, { scope, by: OPERATOR, reason: 'INC-99', messages: { fr: FR, en: EN } });
      try {
        const url = scope === 'staff' ? '/console/anything' : '/account';
        for (const lang of ['fr', 'en']) {
          const res = await s.t.app.inject({ url: `${url}?lang=${lang}` });
          assert.equal(res.statusCode, 503);
          assert.ok(res.body.includes('&lt;script&gt;alert(&quot;fr&quot;)&lt;/script&gt;'), 'the French message, escaped');
          assert.ok(res.body.includes('&lt;/p&gt;&lt;img src=x onerror=alert(1)&gt;'), 'the English message, escaped');
          for (const raw of ['<script>alert', '<img src=x', '<iframe', 'href="https://phish.example/"', '& "guillemets"']) assert.ok(!res.body.includes(raw), `${lang}: ${raw} came out raw`);
          assert.equal(res.headers['cache-control'], 'no-store, private');
        }
      } finally {
        await openAccess(s.t.deps.db, s.t.clock, { scope, by: OPERATOR });
      }
    });
  }

  test('the database itself refuses a message with line breaks or control characters, or longer than 500 characters', async () => {
    for (const bad of ['deux\nlignes', 'cloche\u0007', 'x'.repeat(501), '']) {
      for (const table of ['citizen_access', 'staff_access']) {
        await assert.rejects(s.tdb.superuser(`UPDATE ${table} SET message_fr = $1`, [bad]), /check constraint/, `${table}: ${JSON.stringify(bad.slice(0, 20))}`);
      }
    }
  });
});
