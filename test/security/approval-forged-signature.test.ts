import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { TestDevice, atApprovalStep } from '../support/device.ts';
import { onEachBackend } from '../support/suites.ts';

/**
 * The device has no session: its signature over a server nonce and the exact payload is its
 * only credential. Without the private key (which never leaves the phone), nothing it could
 * send approves; a captured request cannot be replayed nor altered.
 */
onEachBackend('approval with a forged signature', ({ t }) => {
  test('a signature by another key is refused and audited', async () => {
    const { device, approvalId, number, computer, wait } = await atApprovalStep(t);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = await device.signed('decide', '/device/decide', [approvalId, 'approve', String(number)], { approval: approvalId, decision: 'approve', number: String(number) }, { key: privateKey });
    assert.equal(forged.status, 401);
    assert.equal(forged.json.error, 'bad-signature');
    assert.equal(forged.json.nonce, undefined, 'no next nonce for a failed request');
    assert.equal((await computer.get(`${wait}/status`)).json().status, 'pending');
  });

  test('a payload changed after signing is refused (deny signed, approve sent)', async () => {
    const { device, approvalId, number, computer, wait } = await atApprovalStep(t);
    const [offered] = await device.poll();
    const other = offered?.numbers.find((n) => n !== number);
    const tampered = await device.signed('decide', '/device/decide', [approvalId, 'approve', String(other)], { approval: approvalId, decision: 'approve', number: String(other) }, {
      tamper: (body) => {
        body.number = String(number);
      },
    });
    assert.equal(tampered.status, 401);
    assert.equal(tampered.json.error, 'bad-signature');
    // A poll signature does not stand for a decision either.
    const nonce = await device.freshNonce();
    const swapped = await device.post('/device/decide', { device: device.keyId, nonce, signature: device.sign('poll', nonce, []), approval: approvalId, decision: 'approve', number: String(number) });
    assert.equal(swapped.status, 401);
    assert.equal((await computer.get(`${wait}/status`)).json().status, 'pending');
  });

  test('a captured request cannot be replayed, nor its nonce used twice', async () => {
    const { device, approvalId } = await atApprovalStep(t);
    const nonce = await device.freshNonce();
    const body = { device: device.keyId, nonce, signature: device.sign('decide', nonce, [approvalId, 'deny', '']), approval: approvalId, decision: 'deny', number: '' };
    const first = await device.post('/device/decide', body);
    assert.equal(first.status, 200);
    assert.equal(first.json.result, 'denied');
    const replay = await device.post('/device/decide', body);
    assert.equal(replay.status, 401);
    assert.equal(replay.json.error, 'stale-nonce');
    // A nonce expires: signed too late, it is refused.
    const late = await device.freshNonce();
    t.clock.advance(61_000);
    const res = await device.post('/device/poll', { device: device.keyId, nonce: late, signature: device.sign('poll', late, []) });
    assert.equal(res.status, 401);
    assert.equal(res.json.error, 'stale-nonce');
  });

  test('an unknown key, or a malformed request, gets nothing', async () => {
    await atApprovalStep(t);
    const stranger = new TestDevice(t);
    assert.equal((await stranger.post('/device/nonce', { device: stranger.keyId })).status, 404);
    const res = await stranger.post('/device/poll', { device: stranger.keyId, nonce: 'A'.repeat(43), signature: stranger.sign('poll', 'A'.repeat(43), []) });
    assert.equal(res.status, 401);
    assert.equal(res.json.error, 'unknown-device');
    assert.equal((await stranger.post('/device/poll', { device: 'x' })).status, 400);
    assert.equal((await stranger.post('/device/decide', 'not json' as unknown as Record<string, unknown>)).status, 400);
  });
});
