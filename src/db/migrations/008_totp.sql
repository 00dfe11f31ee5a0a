-- Authenticator apps (TOTP, RFC 6238) and recovery codes (issue 4). What every authenticator
-- shares is in `authenticators` (007); here is what this kind needs to verify.

-- The shared secret, encrypted under the account's data key (it is what the phone holds: a
-- dump must not let anyone compute codes). last_step is the last time step accepted: a code
-- of that step or an earlier one is refused (replay), through a guarded UPDATE.
CREATE TABLE totp_secrets (
  authenticator_id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  secret bytea NOT NULL,
  last_step bigint NOT NULL DEFAULT 0 CHECK (last_step >= 0),
  -- The random id of the enrolment page that offered this secret: posting that page twice
  -- (a reload of the page that shows the recovery codes) adds the app once.
  enrolment_id uuid NOT NULL UNIQUE,
  -- Same account as the authenticator: a foreign key check ignores row-level security.
  FOREIGN KEY (authenticator_id, account_id) REFERENCES authenticators (id, account_id) ON DELETE CASCADE
);
CREATE INDEX totp_secrets_account ON totp_secrets (account_id);

-- One-time recovery codes, stored as HMAC(account id, code), consumed with a guarded UPDATE.
-- A set belongs to the authenticator app it was issued with: it works only while that app is
-- on the account (removing an app someone else added kills the codes they were shown) and
-- carries its cooling-off.
CREATE TABLE recovery_codes (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  authenticator_id uuid NOT NULL,
  code_mac bytea NOT NULL,
  created_at timestamptz NOT NULL,
  used_at timestamptz,
  -- Same account as the authenticator: a foreign key check ignores row-level security.
  FOREIGN KEY (authenticator_id, account_id) REFERENCES authenticators (id, account_id) ON DELETE CASCADE
);
CREATE INDEX recovery_codes_account ON recovery_codes (account_id) WHERE used_at IS NULL;

ALTER TABLE totp_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE recovery_codes ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON totp_secrets TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON recovery_codes TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY citizen_own ON totp_secrets TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
CREATE POLICY citizen_own ON recovery_codes TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());

-- Codes are checked in the login and step-up flows (system context).
GRANT SELECT, INSERT, UPDATE, DELETE ON totp_secrets, recovery_codes TO sesame_system;
-- From "My Account" a citizen enrols an app (its secret is written, never read back) and
-- replaces their recovery codes; they may count what is left, never read the MACs.
GRANT INSERT ON totp_secrets TO sesame_citizen;
GRANT SELECT (authenticator_id, account_id, enrolment_id) ON totp_secrets TO sesame_citizen;
GRANT INSERT, DELETE ON recovery_codes TO sesame_citizen;
GRANT SELECT (id, account_id, authenticator_id, created_at, used_at) ON recovery_codes TO sesame_citizen;
