-- Login, activation and recovery flows (DESIGN principle 4). A flow is created before
-- anyone is logged in, so only the system role reads it. account_id is NULL when the NIR
-- matched nothing: the flow goes on regardless so that the pages never tell.
CREATE TABLE auth_flows (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('login', 'activation', 'recovery')),
  state text NOT NULL CHECK (state ~ '^[a-z][a-z-]{0,39}$'),
  account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
  -- HMAC of the browser's CSRF secret: the flow only answers the browser that started it.
  csrf_binding text NOT NULL,
  requested_level text NOT NULL CHECK (requested_level IN ('eidas1', 'eidas2', 'eidas3')),
  completed_methods text[] NOT NULL DEFAULT '{}',
  -- Raised before each code comparison, across every code of the flow.
  code_failures integer NOT NULL DEFAULT 0 CHECK (code_failures >= 0),
  codes_sent integer NOT NULL DEFAULT 0 CHECK (codes_sent >= 0),
  last_code_sent_at timestamptz,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ended_at timestamptz
);
CREATE INDEX auth_flows_expiry ON auth_flows (expires_at);

-- One-time codes, stored as HMAC(flow id, code), consumed with a guarded UPDATE.
CREATE TABLE one_time_codes (
  id uuid PRIMARY KEY,
  flow_id uuid NOT NULL REFERENCES auth_flows (id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  code_mac bytea NOT NULL,
  sent_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX one_time_codes_flow ON one_time_codes (flow_id);
CREATE INDEX one_time_codes_account_sent ON one_time_codes (account_id, sent_at);

-- Consecutive password failures per NIR, keyed by its blind index so that a NIR with no
-- account is throttled exactly like one with an account.
CREATE TABLE login_throttle (
  subject bytea PRIMARY KEY,
  consecutive_failures integer NOT NULL CHECK (consecutive_failures >= 0),
  last_failure_at timestamptz NOT NULL,
  blocked_until timestamptz
);

-- Failures per client address (HMAC of it: an IP address is personal data), fixed window.
CREATE TABLE client_throttle (
  client_key bytea PRIMARY KEY,
  window_start timestamptz NOT NULL,
  failures integer NOT NULL CHECK (failures >= 0)
);

-- Sessions: only a SHA-256 of the cookie's token is stored. The client (address, browser)
-- is personal data, encrypted under the account's key.
CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  token_hash bytea NOT NULL,
  level text NOT NULL CHECK (level IN ('eidas1', 'eidas2', 'eidas3')),
  amr text[] NOT NULL,
  auth_time timestamptz NOT NULL,
  client bytea NOT NULL,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  end_reason text CHECK (end_reason ~ '^[a-z][a-z-]{0,39}$'),
  CONSTRAINT sessions_token_hash_unique UNIQUE (token_hash)
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE ended_at IS NULL;

ALTER TABLE auth_flows ENABLE ROW LEVEL SECURITY;
ALTER TABLE one_time_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE client_throttle ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;

CREATE POLICY system_all ON auth_flows TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON one_time_codes TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON login_throttle TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON client_throttle TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON sessions TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY citizen_own ON sessions TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON auth_flows, one_time_codes, login_throttle, client_throttle, sessions TO sesame_system;
-- A citizen sees their sessions and may end them (logout, "end my other sessions").
GRANT SELECT ON sessions TO sesame_citizen;
GRANT UPDATE (ended_at, end_reason) ON sessions TO sesame_citizen;
