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

test('the level table: every combination of methods, its level and amr', () => {
  const table: [MethodId[], Level | null, string[]?][] = [
    [['passkey'], 'eidas2', ['hwk', 'mfa', 'user']],
    [['password', 'totp'], 'eidas2', ['mfa', 'otp', 'pwd']],
    [['password', 'recovery-code'], 'eidas2', ['mfa', 'otp', 'pwd']],
    [['password', 'device-approval'], 'eidas2', ['mfa', 'pwd', 'swk']],
    [['password', 'email-code'], 'eidas1', ['mail', 'pwd']],
    // The strongest rule wins, and its amr says what made it.
    [['password', 'email-code', 'totp'], 'eidas2', ['mfa', 'otp', 'pwd']],
    [['password', 'email-code', 'passkey'], 'eidas2', ['hwk', 'mfa', 'user']],
    // A second factor without the password is nothing: a stolen phone alone does not log in.
    [['totp'], null],
    [['recovery-code'], null],
    [['device-approval'], null],
    [['email-code', 'totp'], null],
    [['email-code', 'device-approval'], null],
    [['totp', 'recovery-code', 'device-approval'], null],
  ];
  for (const [completed, level, amr] of table) {
    const result = levelOf(completed);
    assert.deepEqual(result, level === null ? null : { level, amr }, JSON.stringify(completed));
  }
});

test('email is not a possession factor: no combination without a strong method reaches eidas2', () => {
  const subsets = (xs: readonly MethodId[]): MethodId[][] => xs.reduce<MethodId[][]>((acc, x) => [...acc, ...acc.map((s) => [...s, x])], [[]]);
  for (const completed of subsets(['password', 'email-code'])) {
    const result = levelOf(completed);
    if (result) assert.equal(result.level, 'eidas1', JSON.stringify(completed));
  }
  // And no combination at all reaches eidas3: only an upstream identity provider asserts it.
  for (const completed of subsets(METHOD_IDS)) assert.notEqual(levelOf(completed)?.level, 'eidas3', JSON.stringify(completed));
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
