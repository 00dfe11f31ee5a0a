import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirement } from '../support/requirements.ts';
import { failures, runIsolation, summary } from './run-isolation.ts';

/**
 * The concurrency isolation test in `npm test`: 200 citizens, 3 real server processes on one
 * PostgreSQL database, all logged in and clicking through "My Account" at once, shorter than
 * `npm run test:isolation` (SESAME_ISOLATION_SECONDS, default 8). No response may carry
 * another citizen's name, IBAN or procedure; each file holds exactly its owner's changes; the
 * tripwire records nothing. Skipped only without DATABASE_URL outside CI.
 */
const options = { citizens: 200, processes: 3, durationMs: Number(process.env.SESAME_ISOLATION_SECONDS ?? 8) * 1000 };

test('200 citizens on 3 server processes: nobody sees or changes anybody else’s file', { ...requirement('postgres'), timeout: 10 * 60_000 }, async (t) => {
  const report = await runIsolation({ ...options, log: (line) => t.diagnostic(line) });
  for (const line of summary(report).split('\n')) t.diagnostic(line);
  assert.deepEqual(failures(report, options), []);
});
