import type { WebAuthnConfig } from '../auth/methods/passkey.ts';
import type { Clock } from '../clock.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import type { Database } from '../db/database.ts';

/** What the operator console needs. */
export interface ConsoleDeps {
  db: Database;
  ring: KeyRing;
  clock: Clock;
  webauthn: WebAuthnConfig;
  timeZone: string;
}
