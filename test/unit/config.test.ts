import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.ts';

const prod = {
  SESAME_ENV: 'production',
  SESAME_KEYS_FILE: '/run/secrets/sesame-keys.json',
  SESAME_PUBLIC_URL: 'https://sesame.example.gouv.fr',
  SESAME_METRICS_TOKEN: 'metrics-scraper-token-0123456789abcdef',
  SMTP_URL: 'smtp://mail.internal:25',
};

test('development defaults: port 8080, PGlite in ./data, keys generated there', () => {
  const c = loadConfig({}, '/srv/app');
  assert.equal(c.env, 'development');
  assert.equal(c.port, 8080);
  assert.equal(c.dataDir, '/srv/app/data');
  assert.equal(c.databaseUrl, undefined);
  assert.equal(c.keysFile, '/srv/app/data/keys.json');
  assert.equal(c.generateKeys, true);
  assert.equal(c.publicUrl.toString(), 'http://localhost:8080/');
});

test('production starts with a key file, an https URL and SMTP, and never generates keys', () => {
  const c = loadConfig(prod, '/srv');
  assert.equal(c.generateKeys, false);
  assert.equal(c.host, '0.0.0.0');
});

for (const [missing, message] of [
  ['SESAME_KEYS_FILE', /^SESAME_KEYS_FILE: required in production/],
  ['SMTP_URL', /^SMTP_URL: required in production/],
  ['SESAME_PUBLIC_URL', /^SESAME_PUBLIC_URL: must be an https/],
  ['SESAME_METRICS_TOKEN', /^SESAME_METRICS_TOKEN: required in production/],
] as const) {
  test(`production refuses to start without ${missing}`, () => {
    assert.throws(() => loadConfig({ ...prod, [missing]: '' }), (e: Error) => e instanceof ConfigError && message.test(e.message));
  });
}

test('production refuses a plain http public URL', () => {
  assert.throws(() => loadConfig({ ...prod, SESAME_PUBLIC_URL: 'http://sesame.example.gouv.fr' }), /SESAME_PUBLIC_URL/);
});

test('a bad value is reported by variable name, without echoing it', () => {
  for (const [name, value] of [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['SESAME_ENV', 'staging'],
    ['DATABASE_URL', 'mysql://user:s3cret@db/x'],
    ['SMTP_URL', 'not a url s3cret'],
  ] as const) {
    assert.throws(
      () => loadConfig({ [name]: value }),
      (e: Error) => e instanceof ConfigError && e.message.startsWith(`${name}:`) && !e.message.includes('s3cret'),
      `${name}=${value}`,
    );
  }
});

test('operator commands (migrate, keys, users) need no SMTP relay in production; the server does', () => {
  const c = loadConfig({ ...prod, SMTP_URL: '' }, '/srv', 'command');
  assert.equal(c.smtpUrl, undefined);
  assert.throws(() => loadConfig({ ...prod, SMTP_URL: '' }, '/srv', 'server'), /SMTP_URL: required in production/);
});

test('login rules come from the environment, named by variable when wrong', () => {
  const c = loadConfig({ SESAME_CODE_TTL_SECONDS: '600', SESAME_THROTTLE_IP_MAX_FAILURES: '20', SESAME_ARGON2_MEMORY_KIB: '65536' });
  assert.equal(c.auth.codeTtl, 600);
  assert.equal(c.auth.ipMaxFailures, 20);
  assert.equal(c.auth.argon2.memoryCost, 65536);
  assert.equal(c.auth.codeMaxAttempts, 5, 'the rest keeps its default');
  assert.throws(() => loadConfig({ SESAME_CODES_PER_FLOW: '0' }), /SESAME_CODES_PER_FLOW: must be a whole number from 1$/);
  assert.throws(() => loadConfig({ SESAME_SESSION_IDLE_SECONDS: '7200', SESAME_SESSION_ABSOLUTE_SECONDS: '3600' }), /SESAME_SESSION_IDLE_SECONDS/);
  assert.throws(() => loadConfig({ SESAME_TIME_ZONE: 'Mars/Olympus' }), /SESAME_TIME_ZONE/);
});
