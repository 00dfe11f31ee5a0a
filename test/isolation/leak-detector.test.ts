import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidIban } from '../../src/file/catalogue.ts';
import { maskIban } from '../../src/file/projections/bank-details.ts';
import { distinctMasks, groupedIban, maskedIban } from '../support/french-ibans.ts';
import { LeakDetector } from './leaks.ts';
import { codeOf, nirOf, type SeededCitizen } from './seed.ts';
import { parseNir } from '../../src/accounts/nir.ts';

/**
 * The concurrency test is only as good as its reading of pages: this checks that the reader
 * sees another citizen's data in every form a page may write it, and never flags a citizen's own.
 */
const ibans = distinctMasks(3, 1000);
const citizens: SeededCitizen[] = [0, 1, 2].map((index) => ({
  index,
  code: codeOf(index),
  accountId: `00000000-0000-4000-8000-00000000000${index}`,
  nir: nirOf(index),
  email: `isoq${codeOf(index)}@example.fr`,
  givenNames: `Citq${codeOf(index)}`,
  familyName: `Isoq${codeOf(index)}`,
  iban: ibans[index] ?? '',
  paymentReferences: [`Payq${codeOf(index)}0`],
}));
const [own, other] = citizens as [SeededCitizen, SeededCitizen];

test('the test data is valid: NIRs, IBANs, masks as the app writes them', () => {
  for (const c of citizens) {
    assert.ok(parseNir(c.nir).ok, 'a valid NIR');
    assert.ok(isValidIban(c.iban), 'a valid IBAN');
    assert.equal(maskedIban(c.iban), maskIban(c.iban), 'masked as the app masks');
  }
  assert.equal(new Set(citizens.map((c) => maskedIban(c.iban))).size, citizens.length, 'masks all differ');
});

test('another citizen’s name, email, payment reference or IBAN in any form is a leak; one’s own is not', () => {
  const leaks = new LeakDetector(citizens);
  const nbsp = maskedIban(other.iban).replace(/ /g, '&nbsp;');
  const pages = [
    `<p>${other.givenNames} ${other.familyName.toUpperCase()}</p>`,
    `<td>${other.email}</td>`,
    `<td>${other.paymentReferences[0]}</td>`,
    `<td>${other.iban}</td>`,
    `<td>${groupedIban(other.iban)}</td>`,
    `<td>${maskedIban(other.iban)}</td>`,
    `<td>${nbsp}</td>`,
    `<td>${maskedIban(other.iban).replace(/ /g, '\u202f')}</td>`,
  ];
  for (const body of pages) assert.ok(leaks.scan(own.index, 'GET /x', body).length >= 1, body);
  const mine = `<p>${own.givenNames} ${own.familyName}</p><td>${maskedIban(own.iban)}</td><td>${own.iban}</td><td>${own.email}</td>`;
  assert.deepEqual(leaks.scan(own.index, 'GET /x', mine), []);
  assert.equal(leaks.scan(own.index, 'GET /x', '<p>FR76 3000 6000 0112 3456 7890 189</p>').length, 0, 'an IBAN of nobody is counted, not a leak');
  assert.equal(leaks.unknownIbans, 1);
});

test('procedure references and ids are attributed at the end, by their owner in the database', () => {
  const leaks = new LeakDetector(citizens);
  leaks.scan(own.index, 'GET /account/procedures', '<a href="/account/procedures/11111111-1111-4111-8111-111111111111">D-2026-ABCDEFGH</a>');
  leaks.scan(own.index, 'GET /account/procedures', '<a href="/account/procedures/22222222-2222-4222-8222-222222222222">D-2026-HJKLMNPQ</a>');
  const found = leaks.settle({
    byReference: new Map([
      ['D-2026-ABCDEFGH', own.index],
      ['D-2026-HJKLMNPQ', other.index],
    ]),
    byId: new Map([
      ['11111111-1111-4111-8111-111111111111', own.index],
      ['22222222-2222-4222-8222-222222222222', other.index],
    ]),
  });
  assert.deepEqual(found.map((l) => [l.kind, l.owner]).sort(), [
    ['procedure-id', other.index],
    ['procedure-reference', other.index],
  ]);
});
