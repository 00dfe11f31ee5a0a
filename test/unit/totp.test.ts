import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  base32Decode,
  base32Encode,
  confirmEnrolmentCode,
  hotp,
  matchingStep,
  newTotpSecret,
  otpauthUri,
  qrCodeSvg,
  totpStep,
} from '../../src/auth/methods/totp.ts';
import { newRecoveryCode, normaliseRecoveryCode } from '../../src/auth/methods/recovery-codes.ts';

/** RFC 6238 Appendix B, the SHA1 rows: seed "12345678901234567890", 8 digits, 30 s steps. */
const RFC_SEED = Buffer.from('12345678901234567890', 'ascii');
const RFC_VECTORS: readonly [seconds: number, code: string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

const at = (seconds: number): Date => new Date(seconds * 1000);
const codeAt = (key: Buffer, seconds: number): string => hotp(key, totpStep(at(seconds)));

describe('TOTP (RFC 6238)', () => {
  test('the RFC 6238 SHA1 test vectors', () => {
    for (const [seconds, code] of RFC_VECTORS) assert.equal(hotp(RFC_SEED, totpStep(at(seconds)), 8), code, `T = ${seconds}`);
  });

  test('RFC 4226 Appendix D HOTP values (6 digits), which the 6-digit TOTP codes are', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expected.forEach((code, counter) => assert.equal(hotp(RFC_SEED, counter), code));
  });

  test('steps of 30 seconds from the Unix epoch', () => {
    assert.equal(totpStep(at(0)), 0);
    assert.equal(totpStep(at(29)), 0);
    assert.equal(totpStep(at(30)), 1);
    assert.equal(totpStep(at(1111111109)), 37037036);
  });

  test('the previous, current and next steps are accepted; two steps away is not', () => {
    const now = 1_800_000_015;
    for (const offset of [-30, 0, 30]) assert.notEqual(matchingStep(RFC_SEED, codeAt(RFC_SEED, now + offset), at(now)).step, null, `offset ${offset}`);
    for (const offset of [-60, 60, -90, 90]) {
      const code = codeAt(RFC_SEED, now + offset);
      // A code of a far step may collide with one of the window (1 in 10^6 per step): skip that case.
      if ([-30, 0, 30].some((o) => codeAt(RFC_SEED, now + o) === code)) continue;
      assert.equal(matchingStep(RFC_SEED, code, at(now)).step, null, `offset ${offset}`);
    }
  });

  test('a step at or before the last one accepted is a replay, not a match', () => {
    const now = at(1_800_000_015);
    const step = totpStep(now);
    const code = hotp(RFC_SEED, step);
    assert.deepEqual(matchingStep(RFC_SEED, code, now, step - 1), { step });
    assert.deepEqual(matchingStep(RFC_SEED, code, now, step), { step: null, replayed: true });
    assert.deepEqual(matchingStep(RFC_SEED, code, now, step + 1), { step: null, replayed: true });
    assert.deepEqual(matchingStep(RFC_SEED, hotp(RFC_SEED, step + 1), now, step), { step: step + 1 });
  });

  test('the enrolment code: right, wrong, malformed; the step found is returned', () => {
    const secret = newTotpSecret();
    const key = base32Decode(secret);
    assert.ok(key);
    const now = at(1_800_000_015);
    const code = hotp(key, totpStep(now));
    assert.deepEqual(confirmEnrolmentCode(secret, code, now), { ok: true, step: totpStep(now) });
    assert.deepEqual(confirmEnrolmentCode(secret, `${code.slice(0, 3)} ${code.slice(3)}`, now), { ok: true, step: totpStep(now) });
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    if (![-1, 0, 1].some((d) => hotp(key, totpStep(now) + d) === wrong)) assert.deepEqual(confirmEnrolmentCode(secret, wrong, now), { ok: false, reason: 'wrong' });
    assert.deepEqual(confirmEnrolmentCode(secret, '12345', now), { ok: false, reason: 'malformed' });
    assert.deepEqual(confirmEnrolmentCode(secret, 'abcdef', now), { ok: false, reason: 'malformed' });
  });
});

describe('base32 (RFC 4648)', () => {
  test('the RFC 4648 §10 vectors, without padding', () => {
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      assert.equal(base32Encode(Buffer.from(plain)), encoded);
      assert.equal(base32Decode(encoded)?.toString(), plain);
      assert.equal(base32Decode(`${encoded.toLowerCase()}======`)?.toString(), plain, 'case and padding ignored');
    }
  });

  test('round trip of random bytes; a character outside the alphabet is refused', () => {
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(1 + (i % 25));
      assert.deepEqual(base32Decode(base32Encode(bytes)), bytes);
    }
    assert.equal(base32Decode('MZXW1'), null);
    assert.equal(base32Decode('MZXW!'), null);
  });

  test('a new secret is 160 random bits: 32 base32 characters, never the same twice', () => {
    const a = newTotpSecret();
    const b = newTotpSecret();
    assert.match(a, /^[A-Z2-7]{32}$/);
    assert.equal(base32Decode(a)?.length, 20);
    assert.notEqual(a, b);
  });
});

describe('otpauth URI and QR code', () => {
  test('the URI names the service and a generic account, and carries the parameters apps read', () => {
    const uri = otpauthUri({ issuer: 'Sésame', account: 'Mon compte', secret: 'JBSWY3DPEHPK3PXP' });
    assert.equal(uri, 'otpauth://totp/S%C3%A9same:Mon%20compte?secret=JBSWY3DPEHPK3PXP&issuer=S%C3%A9same&algorithm=SHA1&digits=6&period=30');
  });

  test('the QR code is an SVG made locally, with no script and no reference to another site', async () => {
    const svg = await qrCodeSvg('otpauth://totp/S%C3%A9same:Mon%20compte?secret=JBSWY3DPEHPK3PXP');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.doesNotMatch(svg, /<script|href=|style=/);
  });
});

describe('recovery codes', () => {
  test('XXXXX-XXXXX in base32, different every time', () => {
    const codes = new Set(Array.from({ length: 100 }, newRecoveryCode));
    assert.equal(codes.size, 100);
    for (const code of codes) assert.match(code, /^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
  });

  test('typed in lower case, without dash, with spaces, or with 0/1/8 for O/I/B: the same code', () => {
    assert.equal(normaliseRecoveryCode(' abcde-fgh23 '), 'ABCDEFGH23');
    assert.equal(normaliseRecoveryCode('ABCDE FGH23'), 'ABCDEFGH23');
    assert.equal(normaliseRecoveryCode('0I8AA-AAAAA'), 'OIBAAAAAAA');
  });
});
