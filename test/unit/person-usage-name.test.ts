import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validatePerson, type PersonFields } from '../../src/accounts/person-input.ts';

/** The usage name (nom d'usage): optional, checked like the other names, none when it repeats the birth name. */
const base: PersonFields = { nir: '285057800608441', givenNames: 'Marie', familyName: 'Martin', birthDate: '1985-05-12' };
const today = new Date('2026-12-03T00:00:00Z');
const usageOf = (usageName: string | undefined): string | null | undefined => {
  const r = validatePerson({ ...base, usageName }, today);
  assert.ok(!('problems' in r), JSON.stringify(r));
  return r.identity.usageName;
};

test('absent: none; given: kept, spaces tidied as for the other names', () => {
  assert.equal(usageOf(undefined), null);
  assert.equal(usageOf('  Lefèvre   Martin '), 'Lefèvre Martin');
});

test('the family name again, whatever the case: none (agencies write names in capitals)', () => {
  assert.equal(usageOf('Martin'), null);
  assert.equal(usageOf('MARTIN'), null);
  assert.equal(usageOf('LEFÈVRE'), 'LEFÈVRE');
});

test('not a name: the field is named, the value is not repeated', () => {
  const r = validatePerson({ ...base, usageName: 'R2-D2' }, today);
  assert.ok('problems' in r);
  assert.deepEqual(r.problems, [{ field: 'usageName', message: 'must be 1 to 100 letters, spaces, hyphens or apostrophes' }]);
});
