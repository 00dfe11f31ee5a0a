-- Staff accounts for the operator console (issue 6). Never the citizens' tables: a staff member
-- is not an account, has no NIR, no password, only passkeys. Every table is for system contexts
-- only: there is no staff role in PostgreSQL yet, so the console works in system contexts
-- whose reason says so ('console:…'), and its own code checks who may do what.
CREATE TABLE staff_accounts (
  id uuid PRIMARY KEY,
  login text NOT NULL UNIQUE CHECK (login ~ '^[a-z][a-z0-9._-]{1,39}$'),
  -- Not citizen data, but kept out of logs and audit payloads all the same (ids only there).
  display_name text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 100 AND display_name !~ '[[:cntrl:]]'),
  role text NOT NULL CHECK (role IN ('operator')),
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  disabled_at timestamptz
);

-- A staff member's passkeys: what verifying an assertion needs (the public key is no secret).
CREATE TABLE staff_passkeys (
  id uuid PRIMARY KEY,
  staff_id uuid NOT NULL REFERENCES staff_accounts (id),
  credential_id bytea NOT NULL UNIQUE,
  public_key bytea NOT NULL,
  -- Raised with a guarded UPDATE at each use: a cloned authenticator replaying a value is refused.
  counter bigint NOT NULL CHECK (counter >= 0),
  transports text[],
  created_at timestamptz NOT NULL,
  last_used_at timestamptz
);
CREATE INDEX staff_passkeys_staff ON staff_passkeys (staff_id);

-- One-time enrolment codes printed by `sesame staff create`: only their HMAC is kept, they
-- are consumed with a guarded UPDATE and live 24 hours.
CREATE TABLE staff_enrolment_codes (
  id uuid PRIMARY KEY,
  staff_id uuid NOT NULL REFERENCES staff_accounts (id),
  code_mac bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

-- Console sessions: the SHA-256 of a 256-bit token (the cookie holds the token), idle and
-- absolute limits, and the time of the last passkey assertion (step-up for every action).
CREATE TABLE staff_sessions (
  id uuid PRIMARY KEY,
  staff_id uuid NOT NULL REFERENCES staff_accounts (id),
  token_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  stepped_up_at timestamptz NOT NULL,
  ended_at timestamptz,
  end_reason text CHECK (end_reason ~ '^[a-z][a-z-]{0,39}$')
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id) WHERE ended_at IS NULL;

-- WebAuthn ceremonies of the console (enrolment, login, step-up): the challenge is taken once,
-- the ceremony is bound to the browser (CSRF binding) and, for a step-up, to the session; a
-- step-up keeps the posted form to give it back once the passkey answered.
CREATE TABLE staff_ceremonies (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('enrol', 'login', 'step-up')),
  staff_id uuid REFERENCES staff_accounts (id),
  session_id uuid REFERENCES staff_sessions (id),
  enrolment_code_id uuid REFERENCES staff_enrolment_codes (id),
  csrf_binding text NOT NULL,
  challenge text,
  return_to text CHECK (return_to ~ '^/console(/[A-Za-z0-9/_-]*)?$'),
  kept_form jsonb,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

ALTER TABLE staff_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_passkeys ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_enrolment_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_ceremonies ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON staff_accounts TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON staff_passkeys TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON staff_enrolment_codes TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON staff_sessions TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON staff_ceremonies TO sesame_system USING (true) WITH CHECK (true);
-- No citizen grant at all, and no DELETE: a staff account is disabled, never erased.
GRANT SELECT, INSERT ON staff_accounts, staff_passkeys, staff_enrolment_codes, staff_sessions, staff_ceremonies TO sesame_system;
GRANT UPDATE (disabled_at) ON staff_accounts TO sesame_system;
GRANT UPDATE (counter, last_used_at) ON staff_passkeys TO sesame_system;
GRANT UPDATE (used_at) ON staff_enrolment_codes TO sesame_system;
GRANT UPDATE (token_hash, last_seen_at, stepped_up_at, ended_at, end_reason) ON staff_sessions TO sesame_system;
GRANT UPDATE (challenge, used_at) ON staff_ceremonies TO sesame_system;
