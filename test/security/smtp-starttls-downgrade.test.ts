import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { transportFor } from '../../src/mail/transport.ts';

/**
 * A relay (or someone in the middle) that does not offer STARTTLS: in production the codes
 * must not go out in clear, so the message is not sent; development accepts a local relay.
 */
test('production refuses to send over smtp:// without STARTTLS; development sends', async () => {
  const received: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received.push('mail');
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  const mail = { messageId: '<t@sesame.test>', from: 'sesame@sesame.test', to: 'camille@example.fr', subject: 'Code', text: '123456', html: '<p>123456</p>' };
  try {
    const production = transportFor({ env: 'production', smtpUrl: url, dataDir: '/nonexistent' });
    await assert.rejects(production.send(mail), /STARTTLS|TLS/i);
    await production.close?.();
    assert.deepEqual(received, [], 'nothing reached the relay in clear');

    const development = transportFor({ env: 'development', smtpUrl: url, dataDir: '/nonexistent' });
    await development.send(mail);
    await development.close?.();
    assert.deepEqual(received, ['mail']);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
