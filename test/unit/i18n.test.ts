import { test } from 'node:test';
import assert from 'node:assert/strict';
import { negotiate, t } from '../../src/web/i18n.ts';

test('t: a message in each language, its variables replaced, an unknown variable left as written', () => {
  assert.equal(t('fr', 'login.title'), 'Se connecter');
  assert.equal(t('en', 'login.title'), 'Sign in');
  assert.match(t('fr', 'login.throttled.body', { time: '14:05' }), /jusqu’à 14:05\./);
  assert.match(t('en', 'login.throttled.body', { time: '14:05' }), /until 14:05\./);
  assert.match(t('en', 'login.throttled.body'), /until \{time\}\./);
  // A value is inserted as given, once: no second pass over what it brought.
  assert.match(t('en', 'login.throttled.body', { time: '{time}' }), /until \{time\}\./);
});

test('negotiate: the first of fr and en by decreasing q, else French', () => {
  assert.equal(negotiate(undefined), 'fr');
  assert.equal(negotiate('en-GB,en;q=0.9'), 'en');
  assert.equal(negotiate('de-DE,en;q=0.5,fr;q=0.8'), 'fr');
  assert.equal(negotiate('de,es'), 'fr');
  assert.equal(negotiate('en;q=0'), 'fr');
});
