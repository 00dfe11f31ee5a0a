import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, DEFAULT_RETRY } from '../../src/mail/retry.ts';
import { deliveryErrorClass } from '../../src/mail/transport.ts';
import { messageIdFor, siteFromConfig } from '../../src/mail/site.ts';

describe('mail retry policy', () => {
  test('doubles from the base, capped at the maximum', () => {
    const p = { baseMs: 1000, maxMs: 10_000, maxAttempts: 8 };
    assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, p)), [1000, 2000, 4000, 8000, 10_000, 10_000]);
  });

  test('the default spans hours, not minutes', () => {
    let total = 0;
    for (let n = 1; n < DEFAULT_RETRY.maxAttempts; n++) total += backoffMs(n, DEFAULT_RETRY);
    assert.ok(total > 4 * 3_600_000 && total < 12 * 3_600_000, `${total}`);
  });
});

describe('delivery error classes', () => {
  test('an SMTP refusal keeps its code and nothing of its text', () => {
    const err = Object.assign(new Error('Can\'t send mail - all recipients were rejected: 550 5.1.1 <camille@example.fr>: unknown'), {
      code: 'EENVELOPE',
      responseCode: 550,
      response: '550 5.1.1 <camille@example.fr>: unknown',
      rejected: ['camille@example.fr'],
    });
    assert.equal(deliveryErrorClass(err), 'smtp-550');
  });

  test('connection trouble, timeouts, file errors and the unknown', () => {
    assert.equal(deliveryErrorClass(Object.assign(new Error('x'), { code: 'ECONNECTION' })), 'connection');
    assert.equal(deliveryErrorClass(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), 'connection');
    assert.equal(deliveryErrorClass(Object.assign(new Error('x'), { code: 'ETIMEDOUT' })), 'timeout');
    assert.equal(deliveryErrorClass(Object.assign(new Error('x'), { code: 'EACCES' })), 'error-eacces');
    assert.equal(deliveryErrorClass(Object.assign(new Error('x'), { code: 'camille@example.fr' })), 'error');
    assert.equal(deliveryErrorClass('boom'), 'error');
    assert.equal(deliveryErrorClass(null), 'error');
  });
});

describe('message ids', () => {
  test('one per outbox row, on the site host, without the port', () => {
    const site = siteFromConfig({ serviceName: 'Sésame', publicUrl: new URL('http://localhost:8080/'), timeZone: 'Europe/Paris' });
    assert.equal(site.siteAddress, 'localhost:8080');
    assert.equal(messageIdFor('0b6c0d1e-0000-4000-8000-000000000000', site), '<0b6c0d1e-0000-4000-8000-000000000000@localhost>');
  });
});
