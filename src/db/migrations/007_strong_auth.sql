-- Strong authentication (issue 4): authenticators, step-up, and what sessions must remember
-- for sensitive operations. Each kind of authenticator keeps what it needs to verify in a
-- table of its own (passkeys, authenticator apps, approval devices, in later migrations);
-- what every kind shares is here, so that one page lists them and one rule cools them off.
CREATE TABLE authenticators (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('passkey', 'totp', 'device')),
  -- The name the citizen gave ("Téléphone de Marie"), encrypted under the account's key.
  name bytea NOT NULL,
  created_at timestamptz NOT NULL,
  -- Cooling-off: before this time the authenticator logs in but does not open sensitive
  -- operations (unless it was added from a session that was already eidas2).
  sensitive_from timestamptz NOT NULL,
  last_used_at timestamptz,
  removed_at timestamptz,
  -- What the method tables reference, so that their rows and the authenticator share an account.
  CONSTRAINT authenticators_id_account UNIQUE (id, account_id)
);
CREATE INDEX authenticators_account ON authenticators (account_id) WHERE removed_at IS NULL;

ALTER TABLE authenticators ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON authenticators TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY citizen_own ON authenticators TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
GRANT SELECT, INSERT, UPDATE ON authenticators TO sesame_system;
-- A citizen lists, adds and removes (removed_at) their own; never brings one back (a removed
-- authenticator stays removed), nothing else changes. Use is recorded by the system context.
GRANT SELECT, INSERT ON authenticators TO sesame_citizen;
GRANT UPDATE (removed_at) ON authenticators TO sesame_citizen;
CREATE POLICY citizen_only_removes ON authenticators AS RESTRICTIVE FOR UPDATE TO sesame_citizen
  USING (true) WITH CHECK (removed_at IS NOT NULL);

-- Sessions remember what sensitive operations look at: which authenticator gave the level
-- (and so from when it counts, after its cooling-off) and when an email code last confirmed
-- the citizen (a fresh code re-authenticates a change of password, a first enrolment).
ALTER TABLE sessions ADD COLUMN sensitive_from timestamptz;
ALTER TABLE sessions ADD COLUMN email_code_at timestamptz;
REVOKE SELECT ON sessions FROM sesame_citizen;
GRANT SELECT (id, account_id, level, amr, auth_time, client, created_at, last_seen_at, expires_at, ended_at, end_reason, sensitive_from, email_code_at)
  ON sessions TO sesame_citizen;

-- Step-up and confirmation flows belong to a session; the form that was posted when the
-- step-up was asked is kept (encrypted under the account's key) and given back afterwards.
ALTER TABLE auth_flows DROP CONSTRAINT auth_flows_kind_check;
ALTER TABLE auth_flows ADD CONSTRAINT auth_flows_kind_check CHECK (kind IN ('login', 'activation', 'recovery', 'step-up', 'confirm'));
ALTER TABLE auth_flows ADD COLUMN session_id uuid REFERENCES sessions (id) ON DELETE CASCADE;
-- A local path, never `//host` (a protocol-relative URL).
ALTER TABLE auth_flows ADD COLUMN return_to text CHECK (return_to ~ '^/([a-z0-9_-][a-z0-9/_-]*)?$');
ALTER TABLE auth_flows ADD COLUMN kept_form bytea;
-- The strong authenticator that completed the flow, for its cooling-off.
ALTER TABLE auth_flows ADD COLUMN authenticator_id uuid REFERENCES authenticators (id) ON DELETE SET NULL;
-- A WebAuthn challenge issued for this flow (base64url), single use.
ALTER TABLE auth_flows ADD COLUMN challenge text;
