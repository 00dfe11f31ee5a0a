import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_AUTH_POLICY } from '../../src/auth/policy.ts';
import { freshEmailCode, sensitiveAllowed } from '../../src/auth/sensitive.ts';
import type { Session } from '../../src/auth/sessions.ts';
import type { Level } from '../../src/auth/levels.ts';

const at = (iso: string): Date => new Date(iso);
const session = (o: { level: Level; authTime: string; sensitiveFrom?: string; emailCodeAt?: string }): Session => ({
  id: '00000000-0000-4000-8000-000000000001',
  accountId: '00000000-0000-4000-8000-000000000002',
  level: o.level,
  amr: [],
  authTime: at(o.authTime),
  sensitiveFrom: o.sensitiveFrom ? at(o.sensitiveFrom) : null,
  emailCodeAt: o.emailCodeAt ? at(o.emailCodeAt) : null,
  loginNirIndex: new Uint8Array(32),
  createdAt: at(o.authTime),
  lastSeenAt: at(o.authTime),
  expiresAt: at('2026-11-24T00:00:00Z'),
});
const NOW = at('2026-11-23T12:00:00Z');

test('sensitive operations: eidas2, within 5 minutes, past the cooling-off — each case of the table', () => {
  const table: [Parameters<typeof session>[0], ReturnType<typeof sensitiveAllowed>][] = [
    [{ level: 'eidas2', authTime: '2026-11-23T11:55:00Z' }, { ok: true }],
    [{ level: 'eidas3', authTime: '2026-11-23T11:59:00Z' }, { ok: true }],
    // An email code never opens them, however recent.
    [{ level: 'eidas1', authTime: '2026-11-23T11:59:59Z' }, { ok: false, reason: 'level' }],
    [{ level: 'eidas2', authTime: '2026-11-23T11:54:59Z' }, { ok: false, reason: 'stale' }],
    [
      { level: 'eidas2', authTime: '2026-11-23T11:59:00Z', sensitiveFrom: '2026-11-24T11:00:00Z' },
      { ok: false, reason: 'cooling-off', from: at('2026-11-24T11:00:00Z') },
    ],
    [{ level: 'eidas2', authTime: '2026-11-23T11:59:00Z', sensitiveFrom: '2026-11-23T12:00:00Z' }, { ok: true }],
  ];
  for (const [input, expected] of table) assert.deepEqual(sensitiveAllowed(session(input), DEFAULT_AUTH_POLICY, NOW), expected, JSON.stringify(input));
});

test('SESAME_STEP_UP_MAX_AGE_SECONDS moves the limit', () => {
  const policy = { ...DEFAULT_AUTH_POLICY, stepUpMaxAge: 60 };
  assert.deepEqual(sensitiveAllowed(session({ level: 'eidas2', authTime: '2026-11-23T11:59:00Z' }), policy, NOW), { ok: true });
  assert.deepEqual(sensitiveAllowed(session({ level: 'eidas2', authTime: '2026-11-23T11:58:59Z' }), policy, NOW), { ok: false, reason: 'stale' });
});

test('a fresh email code is one confirmed within the same 5 minutes', () => {
  assert.equal(freshEmailCode(session({ level: 'eidas1', authTime: '2026-11-23T08:00:00Z', emailCodeAt: '2026-11-23T11:55:00Z' }), DEFAULT_AUTH_POLICY, NOW), true);
  assert.equal(freshEmailCode(session({ level: 'eidas1', authTime: '2026-11-23T08:00:00Z', emailCodeAt: '2026-11-23T11:54:59Z' }), DEFAULT_AUTH_POLICY, NOW), false);
  // A passkey login had no email code at all.
  assert.equal(freshEmailCode(session({ level: 'eidas2', authTime: '2026-11-23T11:59:00Z' }), DEFAULT_AUTH_POLICY, NOW), false);
});
