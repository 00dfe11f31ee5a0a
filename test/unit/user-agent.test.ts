import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { containsLink } from '../../src/mail/no-links.ts';
import { describeUserAgent } from '../../src/web/user-agent.ts';

const UA = {
  chromeWindows: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  safariIphone: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  samsungAndroid: 'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36',
  safariMac: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
};

/** What a mail may carry: short, plain text, nothing a mail client would make a link of. */
function assertSafe(part: string | null): void {
  if (part === null) return;
  assert.ok(part.length > 0 && part.length <= 60, part);
  assert.match(part, /^[\p{L}\p{N} .()-]+$/u);
  assert.ok(!containsLink(part), part);
}

describe('describeUserAgent', () => {
  test('real browsers: name and major version, then the system', () => {
    assert.deepEqual(describeUserAgent(UA.chromeWindows), { browser: 'Chrome 131', os: 'Windows 10' });
    assert.deepEqual(describeUserAgent(UA.firefoxLinux), { browser: 'Firefox 128', os: 'Linux' });
    assert.deepEqual(describeUserAgent(UA.safariIphone), { browser: 'Safari 17', os: 'iOS 17' });
    assert.deepEqual(describeUserAgent(UA.safariMac), { browser: 'Safari 17', os: 'macOS' });
    const samsung = describeUserAgent(UA.samsungAndroid);
    assert.match(samsung.browser ?? '', /^Samsung Internet.* 25$/);
    assert.equal(samsung.os, 'Android 14');
  });

  test('unknown, garbage or empty: null, never an error', () => {
    for (const ua of [undefined, '', '   ', 'asdkjh ;;; 123', 'curl/8.5.0', '\u0000\u202e', 'x'.repeat(100_000)])
      assert.deepEqual(describeUserAgent(ua), { browser: null, os: null }, JSON.stringify(ua?.slice(0, 20)));
  });

  test('a User-Agent cannot put a link or its own words into the summary', () => {
    for (const ua of [
      'Mozilla/5.0 (compatible; EvilBot/1.0; +https://evil.example/bot)',
      'EvilBrowser/1.0 (https://evil.example) <script>alert(1)</script>',
      'https://evil.example/1.0 (Windows NT 10.0; Win64; x64)',
      'Appelez0800123456/1.0',
      `${UA.firefoxLinux} https://evil.example`,
    ]) {
      const { browser, os } = describeUserAgent(ua);
      for (const part of [browser, os]) {
        assertSafe(part);
        assert.doesNotMatch(part ?? '', /evil|https|script|Appelez|0800/i);
      }
    }
  });

  test('any input gives a safe summary', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom(...Object.values(UA)).chain((ua) => fc.string().map((s) => ua + s))), (ua) => {
        const { browser, os } = describeUserAgent(ua);
        assertSafe(browser);
        assertSafe(os);
      }),
    );
  });
});
