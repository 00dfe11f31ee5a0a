import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatNir, maskNir, nirKey, parseNir } from '../../src/accounts/nir.ts';
import type { NirError } from '../../src/accounts/nir.ts';

// Independent oracle: 13 digits stay below 2^53, so plain numbers are exact here.
function referenceKey(first13: string): string {
  const numeric = first13.slice(0, 5) + first13.slice(5, 7).replace('2A', '19').replace('2B', '18') + first13.slice(7);
  return String(97 - (Number(numeric) % 97)).padStart(2, '0');
}

const pad = (width: number) => (n: number) => String(n).padStart(width, '0');

const sexArb = fc.constantFrom('1', '2', '7', '8');
const yearArb = fc.integer({ min: 0, max: 99 }).map(pad(2));
const monthArb = fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 20, max: 42 }), fc.integer({ min: 50, max: 99 })).map(pad(2));
// Department + commune: always 5 characters together.
const placeArb = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 96 }).map(pad(2)), fc.integer({ min: 1, max: 999 }).map(pad(3))).map(([d, c]) => d + c),
  fc.tuple(fc.constantFrom('2A', '2B'), fc.integer({ min: 1, max: 999 }).map(pad(3))).map(([d, c]) => d + c),
  fc.tuple(fc.constantFrom('97', '98'), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 1, max: 99 }).map(pad(2))).map(([d, x, c]) => `${d}${x}${c}`),
  fc.integer({ min: 1, max: 999 }).map((country) => `99${pad(3)(country)}`),
);
const orderArb = fc.integer({ min: 1, max: 999 }).map(pad(3));

const validNirArb = fc.tuple(sexArb, yearArb, monthArb, placeArb, orderArb).map(([sex, year, month, place, order]) => {
  const body = sex + year + month + place + order;
  return body + referenceKey(body);
});

const separatorArb = fc.constantFrom('', '', ' ', '  ', '.', '\u00A0', '\t');

function errorOf(input: string): NirError {
  const result = parseNir(input);
  assert.equal(result.ok, false, 'expected a rejection');
  if (result.ok) throw new Error('unreachable');
  return result.error;
}

describe('parseNir properties', () => {
  test('every generated valid NIR parses, with kind nia iff sex digit is 7 or 8', () => {
    fc.assert(
      fc.property(validNirArb, (value) => {
        const result = parseNir(value);
        assert.ok(result.ok);
        assert.equal(result.nir.value, value);
        assert.equal(result.nir.kind, value[0] === '7' || value[0] === '8' ? 'nia' : 'nir');
        assert.equal(result.nir.sex, value[0] === '1' || value[0] === '7' ? 1 : 2);
        assert.equal(result.nir.key, value.slice(13));
        assert.equal(nirKey(value.slice(0, 13)), value.slice(13));
      }),
      { numRuns: 2000 },
    );
  });

  test('separators and lowercase still give the same canonical value', () => {
    fc.assert(
      fc.property(validNirArb, fc.array(separatorArb, { minLength: 16, maxLength: 16 }), fc.boolean(), (value, seps, lower) => {
        let typed: string = seps[0] ?? '';
        for (let i = 0; i < value.length; i++) typed += (value[i] ?? '') + (seps[i + 1] ?? '');
        if (lower) typed = typed.toLowerCase();
        const result = parseNir(typed);
        assert.ok(result.ok);
        assert.equal(result.nir.value, value);
      }),
    );
  });

  test('every single-character substitution is rejected, at every position including the key', () => {
    fc.assert(
      fc.property(validNirArb, fc.integer({ min: 0, max: 14 }), fc.constantFrom(...'0123456789AB'), (value, position, replacement) => {
        // Letters only make a plausible typo as the department's second character (2x ↔ 2A/2B).
        fc.pre(/[0-9]/.test(replacement) || position === 6);
        fc.pre(value[position] !== replacement);
        const changed = value.slice(0, position) + replacement + value.slice(position + 1);
        assert.equal(parseNir(changed).ok, false);
      }),
      { numRuns: 5000 },
    );
  });

  test('exhaustive single-digit substitutions on a few fixed numbers, Corsica included', () => {
    for (const value of ['185072A01234514', '185072B01234541', '185072001234584', '285079710123452', '269054958815780']) {
      assert.ok(parseNir(value).ok, 'fixture must be valid');
      for (let position = 0; position < 15; position++) {
        for (const replacement of '0123456789AB') {
          if (value[position] === replacement) continue;
          const changed = value.slice(0, position) + replacement + value.slice(position + 1);
          assert.equal(parseNir(changed).ok, false, `position ${position} → ${replacement}`);
        }
      }
    }
  });

  test('swapping two adjacent different characters of the 13-digit body is rejected', () => {
    fc.assert(
      fc.property(validNirArb, fc.integer({ min: 0, max: 11 }), (value, position) => {
        const a = value[position] ?? '';
        const b = value[position + 1] ?? '';
        fc.pre(a !== b);
        const swapped = value.slice(0, position) + b + a + value.slice(position + 2);
        assert.equal(parseNir(swapped).ok, false);
      }),
    );
  });

  test('an invalid month is reported as such even with a matching key', () => {
    const badMonth = fc.oneof(fc.constant(0), fc.integer({ min: 13, max: 19 }), fc.integer({ min: 43, max: 49 })).map(pad(2));
    fc.assert(
      fc.property(validNirArb, badMonth, (value, month) => {
        const body = value.slice(0, 3) + month + value.slice(5, 13);
        assert.equal(errorOf(body + referenceKey(body)).code, 'month');
      }),
    );
  });

  test('an invalid sex digit is reported as such even with a matching key', () => {
    fc.assert(
      fc.property(validNirArb, fc.constantFrom('0', '3', '4', '5', '6', '9'), (value, sex) => {
        const body = sex + value.slice(1, 13);
        assert.equal(errorOf(body + referenceKey(body)).code, 'sex');
      }),
    );
  });

  test('messages never repeat the number', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789AB .-x'), maxLength: 40 }), (input) => {
        const result = parseNir(input);
        if (result.ok) return;
        for (const message of [result.error.message.fr, result.error.message.en]) {
          assert.doesNotMatch(message, /\d{4}/);
          assert.ok(message.length > 20);
        }
      }),
    );
  });
});

describe('parseNir examples', () => {
  test('known valid NIR', () => {
    const result = parseNir('2 69 05 49 588 157 80');
    assert.ok(result.ok);
    assert.deepEqual(result.nir, {
      value: '269054958815780',
      kind: 'nir',
      sex: 2,
      year: '69',
      month: '05',
      department: '49',
      key: '80',
    });
  });

  test('Corsica 2A and 2B use 19 and 18 for the key', () => {
    const a = parseNir('1 85 07 2A 012 345 14');
    assert.ok(a.ok);
    assert.equal(a.nir.value, '185072A01234514');
    assert.equal(a.nir.department, '2A');
    const b = parseNir('185072B01234541');
    assert.ok(b.ok);
    assert.equal(b.nir.department, '2B');
    // Same digits with the other Corsican department: only the key tells them apart.
    assert.equal(errorOf('185072B01234514').code, 'key');
    assert.equal(nirKey('185072A012345'), '14');
    assert.equal(nirKey('185072B012345'), '41');
  });

  test('lowercase 2a / 2b are accepted', () => {
    const result = parseNir('1 85 07 2a 012 345 14');
    assert.ok(result.ok);
    assert.equal(result.nir.value, '185072A01234514');
    assert.ok(parseNir('185072b01234541').ok);
  });

  test('20 (Corsica before 1976) stays valid', () => {
    const result = parseNir('185072001234584');
    assert.ok(result.ok);
    assert.equal(result.nir.department, '20');
  });

  test('overseas 97x has a 3-digit department', () => {
    const result = parseNir('2 85 07 971 01 234 52');
    assert.ok(result.ok);
    assert.equal(result.nir.department, '971');
  });

  test('born abroad (99) and pseudo months', () => {
    const result = parseNir('785079912345630');
    assert.ok(result.ok);
    assert.equal(result.nir.department, '99');
    assert.ok(parseNir('255109935001288').ok, 'born abroad, month 10');
    const body = '1853099350012';
    assert.ok(parseNir(body + referenceKey(body)).ok, 'pseudo month 30');
  });

  test('NIA (temporary number) is flagged and maps sex 7 → 1, 8 → 2', () => {
    const seven = parseNir('785079912345630');
    assert.ok(seven.ok);
    assert.equal(seven.nir.kind, 'nia');
    assert.equal(seven.nir.sex, 1);
    const body = '8850775056789';
    const eight = parseNir(body + referenceKey(body));
    assert.ok(eight.ok);
    assert.equal(eight.nir.kind, 'nia');
    assert.equal(eight.nir.sex, 2);
  });

  test('spaces, dots, non-breaking spaces and tabs are stripped', () => {
    for (const typed of ['1.85.07.75.056.789.36', '1\u00A085\u00A007\u00A075\u00A0056\u00A0789\u00A036', '1\t85 07.75\u202F056 789 36', ' 185077505678936 ']) {
      const result = parseNir(typed);
      assert.ok(result.ok, JSON.stringify(typed));
      assert.equal(result.nir.value, '185077505678936');
    }
  });

  test('length error counts the characters left after stripping', () => {
    const error = errorOf('1 85 07 75 056 789 3');
    assert.equal(error.code, 'length');
    assert.equal(
      error.message.fr,
      'Le numéro doit comporter 15 caractères (13 chiffres et la clé de 2 chiffres) ; vous en avez saisi 14.',
    );
    assert.equal(error.message.en, 'The number must be 15 characters long (13 digits and the 2-digit key); you entered 14.');
    assert.match(errorOf('1850775056789361').message.fr, /vous en avez saisi 16\.$/);
    assert.equal(errorOf('').code, 'length');
    assert.equal(errorOf(' . ').code, 'length');
  });

  test('characters error for letters outside 2A/2B and for other symbols', () => {
    for (const typed of ['18507750567893X', '185072C01234514', '1850A2001234514', '1-85-07-75-056-789-36', '１８５０７７５０５６７８９３６']) {
      const error = errorOf(typed);
      assert.equal(error.code, 'characters', typed);
      assert.equal(
        error.message.fr,
        'Le numéro ne doit contenir que des chiffres, sauf pour la Corse (2A ou 2B aux 6e et 7e caractères).',
      );
      assert.match(error.message.en, /only contain digits/);
    }
  });

  test('sex error', () => {
    const body = '3850775056789';
    const error = errorOf(body + referenceKey(body));
    assert.equal(error.code, 'sex');
    assert.equal(error.message.fr, 'Le premier chiffre doit être 1 ou 2 (7 ou 8 pour un numéro provisoire).');
    assert.equal(error.message.en, 'The first digit must be 1 or 2 (7 or 8 for a temporary number).');
  });

  test('month error for 00, 13-19 and 43-49', () => {
    for (const month of ['00', '13', '19', '43', '49']) {
      const body = `185${month}75056789`;
      const error = errorOf(body + referenceKey(body));
      assert.equal(error.code, 'month', month);
      assert.match(error.message.fr, /^Le mois de naissance \(4e et 5e chiffres\) n’est pas valide/);
      assert.match(error.message.en, /^The month of birth \(4th and 5th digits\) is not valid/);
    }
    for (const month of ['01', '12', '20', '42', '50', '99']) {
      const body = `185${month}75056789`;
      assert.ok(parseNir(body + referenceKey(body)).ok, month);
    }
  });

  test('department error for 00', () => {
    const body = '1850700056789';
    const error = errorOf(body + referenceKey(body));
    assert.equal(error.code, 'department');
    assert.equal(error.message.fr, 'Le département de naissance (6e et 7e caractères) n’est pas valide.');
    assert.equal(error.message.en, 'The department of birth (6th and 7th characters) is not valid.');
  });

  test('key error', () => {
    const error = errorOf('185077505678937');
    assert.equal(error.code, 'key');
    assert.equal(error.message.fr, 'La clé (2 derniers chiffres) ne correspond pas au numéro : vérifiez la saisie.');
    assert.equal(error.message.en, 'The key (last 2 digits) does not match the number: please check what you entered.');
    // 00, 98 and 99 can never be computed keys.
    for (const key of ['00', '98', '99']) assert.equal(errorOf(`1850775056789${key}`).code, 'key');
  });

  test('key 97 and leading-zero keys', () => {
    assert.equal(nirKey('1000101001001'), '05');
    // A body that is a multiple of 97 gets key 97.
    const body = String(97n * 12345678901n);
    assert.equal(body.length, 13);
    assert.equal(nirKey(body), '97');
  });

  test('nirKey rejects malformed input without echoing it', () => {
    assert.throws(() => nirKey('12345'), (error: unknown) => error instanceof RangeError && !error.message.includes('12345'));
    assert.throws(() => nirKey('18507X5056789'), RangeError);
  });
});

describe('display', () => {
  test('formatNir groups 1 2 2 2 3 3 2', () => {
    assert.equal(formatNir('185072B01234541'), '1 85 07 2B 012 345 41');
    assert.equal(formatNir('1.85.07.2b.012.345.41'), '1 85 07 2B 012 345 41');
    assert.equal(formatNir('285079710123452'), '2 85 07 97 101 234 52');
  });

  test('maskNir shows only sex, year, month and key', () => {
    assert.equal(maskNir('185077505678936'), '1 85 07 ** *** *** 36');
    assert.equal(maskNir('185072B01234541'), '1 85 07 ** *** *** 41');
  });

  test('display helpers refuse a wrong length without echoing the value', () => {
    for (const fn of [formatNir, maskNir]) {
      assert.throws(() => fn('1850775056789'), (error: unknown) => error instanceof RangeError && !error.message.includes('1850775056789'));
    }
  });
});
