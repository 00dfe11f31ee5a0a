import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyRing } from '../../src/crypto/keyring.ts';
import { system } from '../../src/db/contexts.ts';
import { backends } from '../support/databases.ts';
import { cliWorkspace, type CliWorkspace } from '../support/cli-workspace.ts';
import { sesame } from '../support/cli.ts';
import { testApp } from '../support/app.ts';
import { Browser } from '../support/login.ts';
import { authenticatorFor } from '../support/passkeys.ts';
import type { SoftAuthenticator } from '../support/webauthn.ts';
import { registerAt, staffLogin, submitEnrolmentCode } from '../support/console.ts';

/**
 * `sesame staff create|list|disable`: the code printed enrols in the console (same database,
 * same keys), once; usage errors name the flag; disabling ends the sessions.
 */
for (const backend of backends()) {
  describe(`sesame staff on ${backend.name}`, { skip: backend.skip }, () => {
    let ws: CliWorkspace;
    let env: NodeJS.ProcessEnv;
    const ring = KeyRing.generate('kek-test');

    before(async () => {
      ws = await cliWorkspace(backend, { prefix: 'sesame-staff-cli-', user: 'oncall.martin', ring });
      env = ws.env;
    });
    after(() => ws?.close());

    test('create prints a code that enrols in the console once; list and disable', async () => {
      const text = await sesame(['staff', 'create', '--role', 'operator', '--login', 'claire.ops', '--name', 'Claire Dupont'], env);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^created claire\.ops \(operator\)$/m);
      assert.match(text.stdout, /enrolment code: [0-9A-Z]{4}(-[0-9A-Z]{4}){4}$/m);
      assert.match(text.stdout, /http:\/\/localhost:\d+\/console\/enrol/);

      const created = await sesame(['staff', 'create', '--role', 'operator', '--login', 'paul.ops', '--name', 'Paul Martin', '--json'], env);
      assert.equal(created.code, 0, created.stderr);
      const json = JSON.parse(created.stdout) as { login: string; enrolmentCode: string; expiresAt: string };
      assert.deepEqual(Object.keys(json).sort(), ['enrolmentCode', 'expiresAt', 'login']);
      assert.equal(json.login, 'paul.ops');
      const hours = (new Date(json.expiresAt).getTime() - Date.now()) / 3600_000;
      assert.ok(hours > 23.9 && hours <= 24, `valid 24 hours (${hours})`);

      const duplicate = await sesame(['staff', 'create', '--role', 'operator', '--login', 'paul.ops', '--name', 'Paul'], env);
      assert.equal(duplicate.code, 1);
      assert.match(duplicate.stderr, /--login: a staff account with the login paul\.ops already exists/);
      assert.equal((await sesame(['staff', 'create', '--role', 'admin', '--login', 'x.y', '--name', 'X'], env)).code, 2);
      const badLogin = await sesame(['staff', 'create', '--role', 'operator', '--login', 'Paul Martin', '--name', 'X'], env);
      assert.equal(badLogin.code, 2);
      assert.match(badLogin.stderr, /--login: /);

      // The printed code, typed in the console of a server on the same database and keys.
      const db = await ws.open();
      const app = await testApp({ db, ring });
      app.clock.set(new Date());
      let authenticator: SoftAuthenticator | undefined;
      try {
        const b = new Browser(app);
        authenticator = authenticatorFor(app);
        const started = await submitEnrolmentCode(b, json.enrolmentCode);
        assert.equal(started.statusCode, 303, started.body);
        assert.equal((await registerAt(b, String(started.headers.location), authenticator)).statusCode, 200);
        assert.equal((await b.get('/console')).statusCode, 200);
        assert.equal((await submitEnrolmentCode(new Browser(app), json.enrolmentCode)).statusCode, 400, 'once');
      } finally {
        await app.close();
        await db.close();
      }

      const list = await sesame(['staff', 'list', '--json'], env);
      const staff = JSON.parse(list.stdout) as { login: string; passkeys: number; liveSessions: number; disabledAt: string | null }[];
      assert.deepEqual(
        staff.map((s) => [s.login, s.passkeys, s.liveSessions, s.disabledAt]),
        [
          ['claire.ops', 0, 0, null],
          ['paul.ops', 1, 1, null],
        ],
      );
      const disabled = await sesame(['staff', 'disable', '--login', 'paul.ops'], env);
      assert.equal(disabled.code, 0, disabled.stderr);
      assert.equal(disabled.stdout.trim(), 'disabled paul.ops; 1 session(s) ended');
      assert.equal((await sesame(['staff', 'disable', '--login', 'nobody'], env)).code, 1);

      const after = await ws.open();
      const again = await testApp({ db: after, ring });
      again.clock.set(new Date());
      try {
        assert.ok(authenticator);
        assert.equal((await staffLogin(new Browser(again), authenticator)).statusCode, 401, 'disabled: the passkey opens nothing');
        const { rows } = await system(after, 'test', (tx) => tx.query<{ type: string; actor: string }>(`SELECT type, actor FROM audit_log WHERE type LIKE 'staff.%' ORDER BY seq`));
        const byCli = rows.filter((r) => r.actor === 'operator:oncall.martin').map((r) => r.type);
        assert.deepEqual(byCli, ['staff.created', 'staff.enrolment-code-issued', 'staff.created', 'staff.enrolment-code-issued', 'staff.disabled']);
      } finally {
        await again.close();
        await after.close();
      }
    });
  });
}
