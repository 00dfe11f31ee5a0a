import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import type { Database } from '../db/database.ts';
import type { PlaceFinder } from '../web/place.ts';
import type { PasswordVerifier } from './methods/password.ts';
import type { AuthPolicy } from './policy.ts';

/** What the login, activation, recovery and step-up flows need. */
export interface AuthDeps {
  db: Database;
  ring: KeyRing;
  clock: Clock;
  policy: AuthPolicy;
  verifier: PasswordVerifier;
  timeZone: string;
  webauthn: Config['webauthn'];
  /** Where a login came from, roughly (the new-browser mail, the login history). */
  places: PlaceFinder;
}
