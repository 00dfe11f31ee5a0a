import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { escapeHtml, html, raw } from '../../src/web/html.ts';
import { sendPage } from '../../src/web/layout.ts';
import { testApp } from '../support/app.ts';

/** Cross-site scripting: whatever a request carries reaches a page only escaped. */
const PAYLOAD = `"><script>alert(1)</script><img src=x onerror='alert(2)'>&`;

describe('the html template', () => {
  test('escapes every interpolation, in text and in attributes', () => {
    const out = html`<p title="${PAYLOAD}">${PAYLOAD}</p>`.toString();
    assert.equal(out, `<p title="${escapeHtml(PAYLOAD)}">${escapeHtml(PAYLOAD)}</p>`);
    assert.doesNotMatch(out, /<script|<img|onerror='/);
    assert.equal(escapeHtml(`&<>"'`), '&amp;&lt;&gt;&quot;&#39;');
  });

  test('joins arrays, nests html, renders nothing for null, undefined and false', () => {
    const items = ['<a>', 'b'].map((x) => html`<li>${x}</li>`);
    assert.equal(html`<ul>${items}</ul>`.toString(), '<ul><li>&lt;a&gt;</li><li>b</li></ul>');
    assert.equal(html`${null}${undefined}${false}${0}`.toString(), '0');
    assert.equal(html`${raw('<br>')}`.toString(), '<br>', 'raw() is the only way in for markup');
  });
});

describe('pages', () => {
  let db: OpenDatabase;
  before(async () => {
    db = await openDatabase({ migrate: true });
  });
  after(() => db.close());

  test('query strings, paths and service names are escaped in the layout', async () => {
    const t = await testApp({ db, env: { SESAME_SERVICE_NAME: PAYLOAD } });
    try {
      t.app.get('/test/echo', async (request, reply) =>
        sendPage(reply, { request, title: (request.query as { q?: string }).q ?? '', main: html`<p>${(request.query as { q?: string }).q}</p>` }),
      );
      const q = encodeURIComponent(PAYLOAD);
      for (const url of [`/?x=${q}`, `/test/echo?q=${q}`, `/nowhere/${encodeURIComponent('"><script>x</script>')}?y=${q}`]) {
        const res = await t.app.inject({ url });
        assert.doesNotMatch(res.body, /<script>alert|<img src=x|<script>x/, url);
        assert.equal((res.body.match(/<script/g) ?? []).length, 1, `${url}: only the DSFR module script`);
      }
    } finally {
      await t.close();
    }
  });
});
