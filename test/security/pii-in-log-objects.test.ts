import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redact } from '../../src/logger.ts';
import { captureLogs } from '../support/app.ts';

/**
 * PII or a secret handed to the logger by mistake, in any shape: at the top of a line, nested,
 * in arrays, in a class instance, in an error's own fields, in a child logger's bindings. Each
 * is written as [redacted]; the caller's objects are left as they were.
 */
const SECRETS = ['1 84 12 75 108 234 56', 'camille@example.fr', 'hunter2-very-secret', 'FR7630006000011234567890189', '0612345678', 'session=cookie-secret', 'Bearer abc.def'];

test('sensitive keys are censored at every depth, in arrays and class instances, and the logged objects are not changed', () => {
  const { logger, lines } = captureLogs();
  class Person {
    readonly email: string;
    readonly id: string;
    constructor(email: string, id: string) {
      this.email = email;
      this.id = id;
    }
  }
  const nested = { account: { id: 'a1', contact: { email: 'camille@example.fr', phone: '0612345678' } }, list: [{ iban: 'FR7630006000011234567890189' }, 'plain'] };
  const before = JSON.stringify(nested);
  logger.info({ nir: '1 84 12 75 108 234 56', ...nested, who: new Person('camille@example.fr', 'p1'), headers: { cookie: 'session=cookie-secret', authorization: 'Bearer abc.def' }, at: new Date(0) }, 'looked up');
  assert.equal(JSON.stringify(nested), before, 'the caller\'s object is unchanged');
  const [line] = lines();
  assert.ok(line);
  const text = JSON.stringify(line);
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} is not written`);
  assert.equal(line.nir, '[redacted]');
  assert.deepEqual(line.account, { id: 'a1', contact: { email: '[redacted]', phone: '[redacted]' } }, 'what is not sensitive is kept');
  assert.deepEqual(line.list, [{ iban: '[redacted]' }, 'plain']);
  assert.deepEqual(line.who, { email: '[redacted]', id: 'p1' });
  assert.equal(line.at, '1970-01-01T00:00:00.000Z', 'a date is written as itself');
});

test('errors: their own fields are checked, a database error\'s detail is never written, a nested error is serialized', () => {
  const { logger, lines } = captureLogs();
  const err = Object.assign(new Error('lookup failed'), { detail: 'Key (email)=(camille@example.fr) already exists.', email: 'camille@example.fr' });
  logger.error({ err, context: { cause: Object.assign(new Error('inner'), { nir: '1 84 12 75 108 234 56' }) } }, 'failed');
  const [line] = lines();
  const text = JSON.stringify(line);
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} is not written`);
  assert.match(text, /lookup failed/);
  assert.match(text, /inner/, 'the nested error keeps its message');
});

test('a child logger\'s bindings are censored too', () => {
  const { logger, lines } = captureLogs();
  logger.child({ reqId: 'R-1', email: 'camille@example.fr' }).info('bound');
  const [line] = lines();
  assert.equal(line?.reqId, 'R-1');
  assert.equal(line?.email, '[redacted]');
});

test('a cycle or a very deep object ends; nothing past the depth limit is written', () => {
  const cyclic: Record<string, unknown> = { id: 'c' };
  cyclic.self = cyclic;
  let deep: Record<string, unknown> = { email: 'camille@example.fr' };
  for (let i = 0; i < 20; i++) deep = { next: deep };
  const out = JSON.stringify(redact({ cyclic, deep }));
  assert.ok(!out.includes('camille@example.fr'));
  assert.match(out, /too deep/);
});
