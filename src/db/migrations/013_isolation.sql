-- Isolation (issue 5): the identity tripwire and the kill switch.

-- The NIR blind index typed at login (the account's own for a passkey-only login). Every
-- citizen request proves, in its own transaction, that it still names the session's account.
ALTER TABLE sessions ADD COLUMN login_nir_index bytea;
-- Sessions live when this migration runs were opened on the account's current NIR.
UPDATE sessions s SET login_nir_index = a.nir_index FROM accounts a WHERE a.id = s.account_id AND s.ended_at IS NULL;
-- What the password step typed, kept by the login flow until its session starts.
ALTER TABLE auth_flows ADD COLUMN login_nir_index bytea;
-- (Citizens get no grant on either column: only system contexts read them.)

-- The kill switch: one row, shared by every server process. open = false: citizen pages
-- answer a maintenance page and logins are refused.
CREATE TABLE citizen_access (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  open boolean NOT NULL,
  changed_at timestamptz,
  changed_by text CHECK (changed_by ~ '^(operator|system):[^[:cntrl:]]{1,200}$'),
  reason text CHECK (char_length(reason) <= 500)
);
INSERT INTO citizen_access (id, open) VALUES (true, true);

-- Who opened or closed it, when and why: append-only.
CREATE TABLE citizen_access_history (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('open', 'closed')),
  changed_at timestamptz NOT NULL,
  changed_by text NOT NULL,
  reason text
);

-- Tripwire violations, counted across processes for the threshold. Ids and reason codes only.
CREATE TABLE isolation_violations (
  id uuid PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  reason text NOT NULL CHECK (reason ~ '^[a-z][a-z-]{0,39}$'),
  session_id uuid,
  session_account_id uuid,
  data_account_id uuid,
  request_id text
);
CREATE INDEX isolation_violations_time ON isolation_violations (occurred_at);

ALTER TABLE citizen_access ENABLE ROW LEVEL SECURITY;
ALTER TABLE citizen_access_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE isolation_violations ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON citizen_access TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON citizen_access_history TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON isolation_violations TO sesame_system USING (true) WITH CHECK (true);
-- No DELETE: neither the history nor the violations can be erased by the application.
GRANT SELECT, UPDATE ON citizen_access TO sesame_system;
GRANT SELECT, INSERT ON citizen_access_history, isolation_violations TO sesame_system;
