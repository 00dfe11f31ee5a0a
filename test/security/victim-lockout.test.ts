import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useApp } from '../support/suites.ts';
import { Browser, citizenWithPassword, logIn } from '../support/login.ts';

/**
 * Someone who knows a NIR types wrong passwords on purpose, to keep its owner delayed. The
 * delays hold them (and any browser new to the account), not the browser the owner already
 * logged in from.
 */
const app = useApp();

test('failures from elsewhere delay a new browser but not the one the owner logged in from', async () => {
  const { t } = app;
  const c = await citizenWithPassword(t);
  const owner = new Browser(t);
  owner.ip = '192.0.2.200';
  await logIn(owner, c);
  await owner.post('/logout', {}, (await owner.get('/account')).body);

  for (let i = 0; i < 6; i++) {
    const attacker = new Browser(t);
    attacker.ip = `198.51.100.${150 + i}`;
    await attacker.get('/login');
    await attacker.post('/login', { method: 'password', nir: c.nir, password: `guess number ${i}` });
  }
  const stranger = new Browser(t);
  stranger.ip = '203.0.113.200';
  await stranger.get('/login');
  assert.equal((await stranger.post('/login', { method: 'password', nir: c.nir, password: c.password })).statusCode, 429, 'a new browser waits');

  await owner.get('/login');
  const mine = await owner.post('/login', { method: 'password', nir: c.nir, password: c.password });
  assert.equal(mine.statusCode, 303, "the owner's own browser is not held by someone else's failures");
});
