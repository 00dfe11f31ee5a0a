import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A cache that mixes people up: one citizen's page, address or bank details kept in process
 * memory under a key another citizen's request can hit. Every module-level Map or WeakMap of
 * src/ is listed here with why it cannot do that; a new one fails this test until someone has
 * looked at it and added it (personal data may only be kept per request, per transaction, or
 * under the session's own account).
 */
const REVIEWED: Record<string, string> = {
  'src/isolation/request-state.ts:states': 'per request (WeakMap keyed by the request): what the tripwire checks',
  'src/auth/session-plugin.ts:resolved': 'per request: the session of this request’s own cookie',
  'src/web/security-headers.ts:formTargets': 'per reply: the origin of the service the consent form leads to (no personal data)',
  'src/console/staff-session.ts:looked': 'per request: the staff session of this request’s own cookie',
  'src/web/user-agent.ts:recent': 'keyed by the User-Agent string; holds only the browser and OS parsed from that same string',
  'src/web/csrf.ts:issued': 'per request: the CSRF secret issued to this browser',
  'src/web/i18n.ts:resolved': 'per request: the language',
  'src/web/static.ts:assetVersions': 'content hashes of static files',
  'src/incident/access-cache.ts:cache': 'the kill switch flag, per database (no personal data)',
  'src/audit/log.ts:pending': 'per transaction: audit rows written at its commit',
  'src/crypto/mac.ts:keyObjects': 'keyed by the MAC key buffer: the server’s own key',
  'src/time-format.ts:formatters': 'Intl formatters by locale and time zone',
  'src/db/postgres.ts:names': 'prepared statement names by SQL text',
  'src/accounts/account-keys.ts:perTransaction': 'per transaction (WeakMap keyed by the transaction): account ciphers, never longer',
};

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODULE_MAP = /^(?:export )?(?:const|let) ([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*new (?:Map|WeakMap)\b/gm;

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []))));
  return nested.flat();
}

test('no module-level map in src/ holds personal data under a key another citizen can hit', async () => {
  const found: string[] = [];
  for (const file of await sources(path.join(ROOT, 'src'))) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(MODULE_MAP)) found.push(`${path.relative(ROOT, file).split(path.sep).join('/')}:${m[1]}`);
  }
  const unreviewed = found.filter((key) => !(key in REVIEWED));
  assert.deepEqual(unreviewed, [], 'a new in-process cache: check it keeps no personal data under another key than the request, the transaction or the session’s account, then list it here');
});
