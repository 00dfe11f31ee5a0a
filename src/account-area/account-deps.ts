import type { Clock } from '../clock.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import type { Database } from '../db/database.ts';
import type { PasswordVerifier } from '../auth/methods/password.ts';
import type { AuthPolicy } from '../auth/policy.ts';

/**
 * What "My Account" needs. The security page checks the current password with the login's
 * verifier and throttle policy, so that it is no easier a place to guess a password than /login.
 */
export interface AccountDeps {
  db: Database;
  ring: KeyRing;
  clock: Clock;
  policy: AuthPolicy;
  verifier: PasswordVerifier;
  timeZone: string;
}
