import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.ts';
import { assertedLevel, isSuspicious, requiredLevel } from '../../src/oidc/acr.ts';
import { accountClaims, claimsOfScopes } from '../../src/oidc/claims.ts';

/** The level policy of an authorisation request (acr.ts), the suspicion mark, and what is never released (claims.ts). */

const at = (iso: string): Date => new Date(iso);

test('requiredLevel: the lowest level asked, an unknown value read as the client default (never lower), never below the minimum', () => {
  const client = { acrMin: 'eidas1', acrDefault: 'eidas2' } as const;
  assert.equal(requiredLevel(undefined, client), 'eidas2');
  assert.equal(requiredLevel('', client), 'eidas2');
  assert.equal(requiredLevel('eidas1', client), 'eidas1');
  assert.equal(requiredLevel('eidas3', client), 'eidas3');
  assert.equal(requiredLevel('eidas0', client), 'eidas2', 'unknown: the default');
  assert.equal(requiredLevel('https://refeds.org/profile/mfa', client), 'eidas2');
  assert.equal(requiredLevel('eidas0 eidas3', client), 'eidas2', 'an unknown value is never lower than the default');
  assert.equal(requiredLevel(['eidas1'], client), 'eidas2', 'not a string: the default');
  assert.equal(requiredLevel('eidas1', { acrMin: 'eidas2', acrDefault: 'eidas2' }), 'eidas2', 'the minimum');
});

test('isSuspicious: only the configured header with a listed value; repeated or comma-joined values cannot hide the mark', () => {
  const rule = { header: 'x-waf-suspicious', values: ['1', 'true'] };
  assert.equal(isSuspicious({}, rule), false);
  assert.equal(isSuspicious({ 'x-waf-suspicious': '0' }, rule), false);
  assert.equal(isSuspicious({ 'x-waf-suspicious': '1' }, rule), true);
  assert.equal(isSuspicious({ 'x-waf-suspicious': ' TRUE ' }, rule), true);
  assert.equal(isSuspicious({ 'x-waf-suspicious': '0, 1' }, rule), true, 'a client value before the proxy’s');
  assert.equal(isSuspicious({ 'x-waf-suspicious': ['0', '1'] }, rule), true);
  assert.equal(isSuspicious({ 'x-other': '1' }, rule), false);
  assert.equal(isSuspicious({ 'x-waf-suspicious': '1' }, null), false, 'off when not configured');
});

test('assertedLevel: an eidas2 session from an authenticator in its cooling-off is asserted eidas1, without mfa', () => {
  const now = at('2026-11-23T12:00:00Z');
  const strong = { level: 'eidas2', amr: ['hwk', 'mfa', 'user'] } as const;
  assert.deepEqual(assertedLevel({ ...strong, amr: [...strong.amr], sensitiveFrom: at('2026-11-24T11:00:00Z') }, now), { acr: 'eidas1', amr: ['hwk', 'user'], coolingOff: true });
  assert.deepEqual(assertedLevel({ ...strong, amr: [...strong.amr], sensitiveFrom: at('2026-11-23T12:00:00Z') }, now), { acr: 'eidas2', amr: ['hwk', 'mfa', 'user'], coolingOff: false });
  assert.deepEqual(assertedLevel({ ...strong, amr: [...strong.amr], sensitiveFrom: null }, now), { acr: 'eidas2', amr: ['hwk', 'mfa', 'user'], coolingOff: false });
  assert.deepEqual(assertedLevel({ level: 'eidas1', amr: ['mail', 'pwd'], sensitiveFrom: null }, now), { acr: 'eidas1', amr: ['mail', 'pwd'], coolingOff: false });
});

test('config: SESAME_OIDC_SUSPICIOUS_HEADER is off by default, needs a trusted proxy, refuses standard headers', () => {
  assert.equal(loadConfig({}).oidcSuspicious, null);
  const on = loadConfig({ SESAME_OIDC_SUSPICIOUS_HEADER: 'X-Waf-Suspicious', SESAME_TRUST_PROXY: '1' });
  assert.deepEqual(on.oidcSuspicious, { header: 'x-waf-suspicious', values: ['1', 'true'] });
  const values = loadConfig({ SESAME_OIDC_SUSPICIOUS_HEADER: 'x-risk', SESAME_OIDC_SUSPICIOUS_VALUES: 'High, block', SESAME_TRUST_PROXY: '10.0.0.0/8' });
  assert.deepEqual(values.oidcSuspicious, { header: 'x-risk', values: ['high', 'block'] });
  assert.throws(() => loadConfig({ SESAME_OIDC_SUSPICIOUS_HEADER: 'x-waf-suspicious' }), /SESAME_OIDC_SUSPICIOUS_HEADER: needs SESAME_TRUST_PROXY/);
  assert.throws(() => loadConfig({ SESAME_OIDC_SUSPICIOUS_HEADER: 'X-Forwarded-For', SESAME_TRUST_PROXY: '1' }), /SESAME_OIDC_SUSPICIOUS_HEADER: must be a header of its own/);
  assert.throws(() => loadConfig({ SESAME_OIDC_SUSPICIOUS_HEADER: 'x waf', SESAME_TRUST_PROXY: '1' }), /SESAME_OIDC_SUSPICIOUS_HEADER: must be a header name/);
  assert.throws(() => loadConfig({ SESAME_OIDC_SUSPICIOUS_VALUES: '1', SESAME_TRUST_PROXY: '1' }), /SESAME_OIDC_SUSPICIOUS_VALUES: needs SESAME_OIDC_SUSPICIOUS_HEADER/);
  assert.throws(() => loadConfig({ SESAME_OIDC_SUSPICIOUS_HEADER: 'x-risk', SESAME_OIDC_SUSPICIOUS_VALUES: 'a b', SESAME_TRUST_PROXY: '1' }), /SESAME_OIDC_SUSPICIOUS_VALUES: must be comma-separated/);
});

test('preferred_username is the usage name: listed with its scopes, released only when the account has one', () => {
  assert.deepEqual(claimsOfScopes(['openid', 'preferred_username']), ['sub', 'preferred_username']);
  assert.deepEqual(claimsOfScopes(['openid', 'profile']), ['sub', 'given_name', 'family_name', 'birthdate', 'gender', 'preferred_username']);
  const account = (usageName: string | null) => ({
    id: 'a',
    status: 'active' as const,
    createdAt: at('2026-01-01T00:00:00Z'),
    identity: { nir: '285057800608436', givenNames: 'Marie Louise', familyName: 'Martin', usageName, birthDate: '1985-05-12', birthPlace: null, gender: 'female' as const },
    contact: { email: null, phone: null, postalAddress: null },
  });
  assert.equal(accountClaims('sub-1', account('Lefèvre')).preferred_username, 'Lefèvre');
  assert.equal(accountClaims('sub-1', account('Lefèvre')).family_name, 'Martin', 'family_name stays the birth name');
  assert.equal('preferred_username' in accountClaims('sub-1', account(null)), false);
});
