-- Passkeys (WebAuthn): what verifying an assertion needs, next to the authenticator row that
-- every strong method shares (name, cooling-off, last use; 007). The public key is not a
-- secret and is kept in clear; the credential id is looked up at /login before anyone is
-- known (system context), hence unique across accounts.
CREATE TABLE passkey_credentials (
  authenticator_id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  credential_id bytea NOT NULL UNIQUE,
  -- COSE public key, as the authenticator gave it.
  public_key bytea NOT NULL,
  -- Signature counter (uint32): raised with a guarded UPDATE at each use, so that a cloned
  -- authenticator replaying an old value is refused.
  counter bigint NOT NULL CHECK (counter >= 0),
  transports text[],
  device_type text CHECK (device_type IN ('singleDevice', 'multiDevice')),
  backed_up boolean,
  -- Same account as the authenticator: a foreign key check ignores row-level security.
  FOREIGN KEY (authenticator_id, account_id) REFERENCES authenticators (id, account_id) ON DELETE CASCADE
);
CREATE INDEX passkey_credentials_account ON passkey_credentials (account_id);

ALTER TABLE passkey_credentials ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON passkey_credentials TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY citizen_own ON passkey_credentials TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
-- The login and the step-up verify (and raise the counter) in the system context.
GRANT SELECT, INSERT, UPDATE (counter, backed_up) ON passkey_credentials TO sesame_system;
-- A citizen enrols their own (and lists them, for excludeCredentials); removal goes through
-- authenticators.removed_at, so nothing else here is theirs to change.
GRANT SELECT, INSERT ON passkey_credentials TO sesame_citizen;
