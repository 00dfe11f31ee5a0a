import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.ts';
import { openDatabase, type OpenDatabase } from '../../src/db/open.ts';
import { testApp } from '../support/app.ts';
import { uniqueNir } from '../support/fixtures.ts';
import { Browser } from '../support/login.ts';

/**
 * Credential stuffing that rotates X-Forwarded-For to land in a new throttling bucket at
 * every attempt. The per-address cap is lowered to 3 to keep the test short.
 */
describe('X-Forwarded-For spoofing against the per-address cap', () => {
  let db: OpenDatabase;
  before(async () => {
    db = await openDatabase({ migrate: true });
  });
  after(() => db.close());

  async function attempts(env: Record<string, string>, remote: string, forwarded: (i: number) => string): Promise<number[]> {
    const t = await testApp({ db, env: { SESAME_THROTTLE_IP_MAX_FAILURES: '3', ...env } });
    try {
      const statuses = [];
      for (let i = 0; i < 6; i++) {
        const b = new Browser(t);
        b.ip = remote;
        b.headers = { 'x-forwarded-for': forwarded(i) };
        await b.get('/login');
        statuses.push((await b.post('/login', { method: 'password', nir: uniqueNir(), password: 'a wrong password here' })).statusCode);
      }
      return statuses;
    } finally {
      await t.close();
    }
  }

  test('by default the header is ignored: the socket address is capped', async () => {
    assert.deepEqual(await attempts({}, '198.51.100.20', (i) => `203.0.113.${i + 1}`), [401, 401, 401, 429, 429, 429]);
  });

  test('behind one proxy, only the address the proxy appended counts, not what the client wrote', async () => {
    // The client sends "X-Forwarded-For: <random>"; the proxy (10.0.0.1) appends the client's real address.
    const statuses = await attempts({ SESAME_TRUST_PROXY: '1' }, '10.0.0.1', (i) => `203.0.113.${i + 1}, 198.51.100.21`);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
  });

  test('with the proxy named by address, a request from elsewhere is judged by its socket address', async () => {
    const statuses = await attempts({ SESAME_TRUST_PROXY: '10.0.0.0/8' }, '198.51.100.22', (i) => `203.0.113.${i + 1}`);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
  });

  test('"trust every proxy" is refused by the configuration', () => {
    assert.throws(() => loadConfig({ SESAME_TRUST_PROXY: 'true' }), /SESAME_TRUST_PROXY: name the proxies/);
    assert.throws(() => loadConfig({ SESAME_TRUST_PROXY: 'everyone' }), /SESAME_TRUST_PROXY/);
  });
});
