import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Progress } from '../../src/import/progress.ts';
import { dataOf, DpoConfigError, dpoOf } from '../../src/incident/notify-params.ts';

/** What `incident notify` decides without a database: which data a notice names, the DPO lines, the progress it draws. */
describe('incident notify', () => {
  test('the data a notice names follows how the incident touched the person', () => {
    assert.deepEqual(dataOf(['logged-in']), [], 'a login alone exposed nothing of theirs');
    assert.deepEqual(dataOf(['file-changed']), ['contact', 'bank-details', 'procedures']);
    assert.deepEqual(dataOf(['logged-in', 'file-read']), ['identity', 'contact', 'bank-details', 'payments', 'procedures']);
    assert.deepEqual(dataOf(['touched-by-others', 'file-changed']), ['identity', 'contact', 'bank-details', 'payments', 'procedures']);
  });

  test('the DPO as a mail shows it: postal lines joined, a value that looks like a link refused by its variable', () => {
    const base = { controller: 'CAF de Paris', dpoName: 'Claire Dubois', dpoEmail: 'dpo@caf.example.fr', dpoPostalAddress: '50 rue du Docteur Finlay\n75015 Paris', dpoPhone: null };
    assert.deepEqual(dpoOf({ dataProtection: base }), {
      controller: 'CAF de Paris',
      dpo: { name: 'Claire Dubois', email: 'dpo@caf.example.fr', postalAddress: '50 rue du Docteur Finlay, 75015 Paris', phone: null },
    });
    assert.equal(dpoOf({ dataProtection: { ...base, dpoPostalAddress: 'BP 12\\n75015 Paris' } }).dpo.postalAddress, 'BP 12, 75015 Paris', '`\\n` as written in an environment file');
    assert.throws(() => dpoOf({ dataProtection: { ...base, dpoPostalAddress: 'https://caf.example.fr/contact' } }), (err: unknown) => err instanceof DpoConfigError && /SESAME_DPO_POSTAL_ADDRESS/.test(err.message) && !err.message.includes('caf.example'));
  });

  test('progress counts mails: a bar on a terminal, plain lines otherwise', () => {
    let now = 0;
    const tty = new PassThrough();
    let drawn = '';
    tty.on('data', (c: Buffer) => (drawn += c.toString()));
    const bar = new Progress(tty, { label: 'notify', totalBytes: 10, now: () => now, tty: true, columns: 80, unit: 'mails' });
    now = 1000;
    bar.update(5, 5);
    assert.match(drawn, /\r\x1b\[Knotify \[#+\.+\]  50% · 5 mails · 5 mails\/s · 0:01 left/);
    const plain = new PassThrough();
    let lines = '';
    plain.on('data', (c: Buffer) => (lines += c.toString()));
    const log = new Progress(plain, { label: 'notify', totalBytes: 10, now: () => now, tty: false, unit: 'mails' });
    log.update(10, 10, true);
    assert.match(lines, /^notify: 100% · 10 mails · /);
  });
});
