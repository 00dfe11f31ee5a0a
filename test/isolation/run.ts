/**
 * `npm run test:isolation -- --duration=30 [--citizens=200] [--processes=3]`: the concurrency
 * isolation run at full length, on the PostgreSQL server DATABASE_URL names (a database is
 * created for the run and dropped after). Prints a summary; exits 1 if anything leaked, a
 * file does not hold exactly its owner's changes, the tripwire fired, or an answer was wrong.
 */
import { parseArgs } from 'node:util';
import { failures, runIsolation, summary } from './run-isolation.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    citizens: { type: 'string', default: '200' },
    processes: { type: 'string', default: '3' },
  },
  strict: true,
});

const number = (name: string, raw: string | undefined, min: number): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) {
    console.error(`--${name} must be a number ≥ ${min}`);
    process.exit(2);
  }
  return n;
};
const options = {
  durationMs: number('duration', values.duration, 1) * 1000,
  citizens: Math.floor(number('citizens', values.citizens, 2)),
  processes: Math.floor(number('processes', values.processes, 1)),
};
if (!process.env.DATABASE_URL) {
  console.error('DATABASE_URL is not set: the isolation run needs a PostgreSQL server it may create a database on (e.g. postgres://postgres@127.0.0.1:5432/postgres)');
  process.exit(2);
}

const report = await runIsolation({ ...options, log: (line) => console.log(line) });
console.log(summary(report));
const failed = failures(report, options);
if (failed.length > 0) {
  console.error(`\nFAILED:\n- ${failed.join('\n- ')}`);
  process.exit(1);
}
console.log('\nOK: no response carried another citizen’s data, every file holds exactly its owner’s changes, no isolation violation.');
