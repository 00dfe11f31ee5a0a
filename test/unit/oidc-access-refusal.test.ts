import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OIDC_CLOSED_DESCRIPTION, oidcAccessRefusal } from '../../src/incident/access-oidc.ts';

/** RFC 6749 §4.1.2.1: the error response an authorisation request gets while citizen access is closed. */
const ISS = 'https://sesame.example.gouv.fr';

test('the redirect carries error=temporarily_unavailable, a description, the state and iss (RFC 9207), on the registered URI', () => {
  const url = new URL(oidcAccessRefusal({ redirectUri: 'https://service.example.gouv.fr/callback', issuer: ISS, state: 'af0ifjsldkj' }));
  assert.equal(url.origin + url.pathname, 'https://service.example.gouv.fr/callback');
  assert.deepEqual([...url.searchParams], [
    ['error', 'temporarily_unavailable'],
    ['error_description', OIDC_CLOSED_DESCRIPTION],
    ['state', 'af0ifjsldkj'],
    ['iss', ISS],
  ]);
  // error_description: printable ASCII without " or \ (RFC 6749 §5.2).
  assert.match(OIDC_CLOSED_DESCRIPTION, /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
});

test('the client’s own query is kept, a fragment dropped, a state with special characters encoded, no state when none was sent', () => {
  const withQuery = new URL(oidcAccessRefusal({ redirectUri: 'https://rp.example/cb?tenant=7#frag', issuer: ISS, state: 'a&b=c d' }));
  assert.equal(withQuery.hash, '');
  assert.deepEqual([withQuery.searchParams.get('tenant'), withQuery.searchParams.get('state'), withQuery.searchParams.getAll('error')], ['7', 'a&b=c d', ['temporarily_unavailable']]);
  for (const state of [undefined, null, '']) {
    const url = new URL(oidcAccessRefusal({ redirectUri: 'http://localhost:8080/cb', issuer: ISS, state }));
    assert.equal(url.searchParams.has('state'), false);
    assert.equal(url.searchParams.get('error'), 'temporarily_unavailable');
  }
});
