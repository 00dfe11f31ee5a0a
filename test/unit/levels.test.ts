import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEVELS, levelOf, levelRank, meetsLevel, type Level } from '../../src/auth/levels.ts';
import { METHOD_IDS, isMethodId, type MethodId } from '../../src/auth/methods/method.ts';

/** Completed methods → level + amr: the one place where a login's assurance is decided. */

test('password + email code is eidas1 with amr ["mail", "pwd"], whatever the order or repetitions', () => {
  const expected = { level: 'eidas1', amr: ['mail', 'pwd'] };
  assert.deepEqual(levelOf(['password', 'email-code']), expected);
  assert.deepEqual(levelOf(['email-code', 'password']), expected);
  assert.deepEqual(levelOf(['password', 'email-code', 'password', 'email-code']), expected);
});

test('one factor alone is no level at all: every login needs a second step', () => {
  for (const completed of [[], ['password'], ['email-code'], ['email-code', 'email-code'], ['password', 'password']] as MethodId[][]) {
    assert.equal(levelOf(completed), null, JSON.stringify(completed));
  }
});

test('email is not a possession factor: no combination of today’s methods reaches eidas2', () => {
  const subsets = (xs: readonly MethodId[]): MethodId[][] => xs.reduce<MethodId[][]>((acc, x) => [...acc, ...acc.map((s) => [...s, x])], [[]]);
  for (const completed of subsets(METHOD_IDS)) {
    const result = levelOf(completed);
    if (result) assert.equal(result.level, 'eidas1', JSON.stringify(completed));
  }
});

test('levels are ordered eidas1 < eidas2 < eidas3, and meetsLevel follows that order', () => {
  assert.deepEqual(LEVELS, ['eidas1', 'eidas2', 'eidas3']);
  assert.deepEqual(LEVELS.map(levelRank), [0, 1, 2]);
  const table: [Level, Level, boolean][] = [
    ['eidas1', 'eidas1', true],
    ['eidas1', 'eidas2', false],
    ['eidas1', 'eidas3', false],
    ['eidas2', 'eidas1', true],
    ['eidas2', 'eidas2', true],
    ['eidas2', 'eidas3', false],
    ['eidas3', 'eidas1', true],
    ['eidas3', 'eidas2', true],
    ['eidas3', 'eidas3', true],
  ];
  for (const [have, need, ok] of table) assert.equal(meetsLevel(have, need), ok, `${have} meets ${need}`);
});

test('method ids are recognised exactly, nothing else is one', () => {
  for (const id of METHOD_IDS) assert.equal(isMethodId(id), true);
  for (const other of ['Password', 'email_code', 'passkey ', '', null, undefined, 1, ['password'], { id: 'password' }, 'toString', '__proto__']) {
    assert.equal(isMethodId(other), false, JSON.stringify(other));
  }
});
