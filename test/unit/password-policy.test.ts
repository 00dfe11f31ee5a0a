import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { commonPasswordCount, isCommonPassword } from '../../src/accounts/common-passwords.ts';
import { nirKey } from '../../src/accounts/nir.ts';
import { checkPassword, PASSWORD_MAX, PASSWORD_MIN } from '../../src/accounts/password-policy.ts';

const code = (password: string, context?: { nir?: string }) => checkPassword(password, context)?.code ?? null;

const FIRST13 = '1850578006084';
const NIR = FIRST13 + nirKey(FIRST13);

describe('password policy', () => {
  test('length is counted in code points after NFC', () => {
    const varied = 'qwkvjpfhzbmxtrgd';
    assert.equal(code(varied.slice(0, PASSWORD_MIN)), null, 'exactly the minimum');
    assert.equal(code(varied.slice(0, PASSWORD_MIN - 1)), 'too_short');
    // "é" typed as e + combining accent is one character once composed.
    const decomposed = 'é'.normalize('NFD') + 'qwkvjpfhzb';
    assert.equal([...decomposed].length, PASSWORD_MIN);
    assert.equal(code(decomposed), 'too_short', '12 code points before NFC, 11 after');
    assert.equal(code(decomposed + 'x'), null);
    // Outside the BMP: one code point, two UTF-16 units.
    assert.equal(code('🔑🚲🌵'.repeat(PASSWORD_MIN / 3)), null);
    assert.equal(code('🔑🚲🌵'.repeat(PASSWORD_MIN / 3).slice(0, -2)), 'too_short');
    assert.equal(code('k7x'.repeat(PASSWORD_MAX / 2).slice(0, PASSWORD_MAX)), null, 'exactly the maximum');
    assert.equal(code('k7x'.repeat(PASSWORD_MAX / 2).slice(0, PASSWORD_MAX + 1)), 'too_long');
  });

  test('common passwords are refused, whatever the case and padding', () => {
    for (const pw of ['azertyuiopqsdfghjklm', 'motdepasse1234', 'MotDePasse1234', 'Password2024!!!!', 'PASSWORD123456', '2024Marseille!!', '123456789012', 'azertyuiop123', 'Jetaime123456!', 'iloveyou12345'])
      assert.equal(code(pw), 'common', pw);
    assert.ok(isCommonPassword('Password2024!!!!'));
    assert.ok(isCommonPassword('AZERTY'));
    assert.ok(!isCommonPassword('abc1234567890'), 'a remainder under 4 characters is not enough');
  });

  test('repetitive or sequential characters are refused, whatever their length, and blanks or invisible characters do not count', () => {
    for (const pw of ['aaaaaaaaaaaa', '111111111111', 'abababababab', 'AbAbAbAbAbAb', ' '.repeat(12), '\u200b'.repeat(12), '\u0000'.repeat(12), 'aa\u200baa\u200baa\u200baa\u200b', 'abcdefghijkl', 'LKJIHGFEDCBA', '345678901234', '987654321098', 'a b c d e f g h', '🔑'.repeat(PASSWORD_MIN)])
      assert.equal(code(pw), 'too_simple', JSON.stringify(pw));
    for (const pw of ['abcdefghijkz', 'cab cab cab cab', 'zyx wvu tsr qp 7']) assert.equal(code(pw), null, pw);
  });

  test('a common password is found under full-width letters or leading symbols', () => {
    for (const pw of ['ｐａｓｓｗｏｒｄ１２３４', '!!!!password', '##motdepasse##', '…azertyuiop…']) assert.equal(code(pw), 'common', pw);
  });

  test('a long random passphrase is accepted', () => {
    for (const pw of ['cheval agrafe pile correcte', 'Tartine-Volcan-Mistral-42', 'lune brouette 7 kiwi océan'])
      assert.equal(code(pw), null, pw);
  });

  test('a password containing the NIR (13 first digits or whole, spaces ignored) is refused', () => {
    const nir = { nir: NIR };
    assert.equal(code(`moi${FIRST13}zut`, nir), 'contains_nir');
    assert.equal(code(`${NIR}!`, nir), 'contains_nir');
    assert.equal(code('ma secu 1 85 05 78 006 084', nir), 'contains_nir');
    assert.equal(code(`moi${FIRST13}zut`, { nir: '1 85 05 78 006 084 ' + NIR.slice(13) }), 'contains_nir', 'NIR given with spaces');
    assert.equal(code(`moi${FIRST13}zut`), null, 'no NIR known: nothing to compare with');
    assert.equal(code(`moi${FIRST13.slice(0, 12)}zut`, nir), null, '12 digits are not the NIR');
    assert.equal(code('tartine volcan mistral', { nir: '' }), null, 'an empty NIR matches nothing');
  });

  test('messages are given in French and English and never echo the password', () => {
    const cases: [string, { nir?: string }][] = [['Sh0rt!', {}], ['x'.repeat(200), {}], ['qqqqqqqqqqqqqq', {}], ['Password2024!!!!', {}], [`moi${NIR}`, { nir: NIR }]];
    for (const [pw, context] of cases) {
      const problem = checkPassword(pw, context);
      assert.ok(problem, pw);
      for (const message of [problem.message.fr, problem.message.en]) {
        assert.ok(message.length > 0);
        assert.ok(!message.includes(pw.slice(0, 8)), 'message does not quote the password');
        assert.ok(!message.includes(FIRST13));
      }
    }
  });

  test('the blocklist is loaded and large', () => {
    assert.ok(commonPasswordCount() >= 10_000, String(commonPasswordCount()));
  });
});
