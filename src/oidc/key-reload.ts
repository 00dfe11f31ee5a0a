import type Provider from 'oidc-provider';
import type { JWK } from 'oidc-provider';
import initializeKeyStore from 'oidc-provider/lib/helpers/initialize_keystore.js';

/**
 * Puts a new key set into a running provider, as it would have read it when made: it signs
 * with the first key of each algorithm and publishes the public parts at its JWKS endpoint.
 * Rebuilding the provider instead would drop its routes and event listeners mid-request; its
 * stored sessions, grants and interactions live in the database either way. Called by the
 * server's key watcher (watchSigningKeys), so a `sesame keys rotate-signing` needs no restart.
 */
export function replaceSigningKeys(provider: Provider, keys: JWK[]): void {
  if (keys.length === 0) throw new Error('no signing keys');
  // Copies: the loader keeps what it is given, and the caller may zero its copies.
  initializeKeyStore.call(provider, { keys: keys.map((k) => ({ ...k })) });
}
