import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../src/db/open.ts';
import { system } from '../../src/db/contexts.ts';
import { captureLogs } from '../support/app.ts';

// A database error quotes the value that broke it; a logged error must not carry it.
test('a database error is logged with its SQLSTATE, not its message', async () => {
  const db = await openDatabase({ migrate: true });
  try {
    const secret = '1850775123456xx-jean.dupont@example.fr';
    const err = await system(db, 'test', (tx) => tx.query(`SELECT $1::uuid`, [secret])).then(
      () => assert.fail('the cast should fail'),
      (e: unknown) => e,
    );
    const { logger, lines } = captureLogs();
    logger.error({ err }, 'request failed');
    const line = JSON.stringify(lines());
    assert.ok(!line.includes(secret), 'the value is not in the log line');
    assert.match(line, /"sqlState":"22P02"/);
    assert.match(line, /"stack":"\s*at /, 'where it was thrown is kept');
  } finally {
    await db.close();
  }
});

test('other errors keep their message', () => {
  const { logger, lines } = captureLogs();
  logger.error({ err: new TypeError('flow id must be a uuid') }, 'failed');
  assert.match(JSON.stringify(lines()), /flow id must be a uuid/);
});
