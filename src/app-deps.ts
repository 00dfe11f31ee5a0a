import type { PasswordHasher } from './auth/methods/password.ts';
import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { KeyRing } from './crypto/keyring.ts';
import type { Database } from './db/database.ts';
import type { Logger } from './logger.ts';
import type Provider from 'oidc-provider';
import type { JWK } from 'oidc-provider';

/** Everything the web app needs, built by the CLI's start command or by a test. */
export interface AppDeps {
  config: Config;
  db: Database;
  ring: KeyRing;
  clock: Clock;
  logger: Logger;
  /** Default: Argon2id with the configured parameters. Tests wrap it to count hashes. */
  hasher?: PasswordHasher;
  /** The OpenID Provider's private signing keys, ES256 first (the key store's); absent: an ephemeral ES256 key per process. */
  oidcSigningKeys?: JWK[];
  /** Called with the provider once it is made (the server's signing-key watcher replaces its keys). */
  onOidcProvider?: (provider: Provider) => void;
}
