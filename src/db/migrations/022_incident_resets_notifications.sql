-- Incident response (issue 6): credentials reset and individual notifications.

-- Set by `incident reset-credentials`: the password still verifies, but a login with it is
-- refused with "choose a new password with Forgotten password". Setting any new password
-- (recovery, change, activation) clears it; a rehash of the same password never runs on it.
ALTER TABLE credentials ADD COLUMN reset_required_at timestamptz;

-- One row per account reset for an incident: a re-run (or a second operator at the same
-- time) skips the account, so a citizen who has recovered since is not reset again.
CREATE TABLE incident_resets (
  incident_id uuid NOT NULL REFERENCES incidents (id),
  -- Not a foreign key: the record of what was done outlives a deleted account.
  account_id uuid NOT NULL,
  at timestamptz NOT NULL,
  sessions_ended integer NOT NULL CHECK (sessions_ended >= 0),
  authenticators_removed integer NOT NULL CHECK (authenticators_removed >= 0),
  PRIMARY KEY (incident_id, account_id)
);

-- One row per mail queued by `incident notify`, written in the transaction that queues it:
-- a re-run, even after a run killed halfway, never queues a second one for the same person.
CREATE TABLE incident_notifications (
  incident_id uuid NOT NULL REFERENCES incidents (id),
  account_id uuid NOT NULL,
  template text NOT NULL CHECK (template ~ '^incident-[a-z-]{1,40}$'),
  -- The outbox row (its delivery state is read from there).
  message_id uuid NOT NULL UNIQUE,
  queued_at timestamptz NOT NULL,
  PRIMARY KEY (incident_id, account_id, template)
);

ALTER TABLE incident_resets ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_notifications ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON incident_resets TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON incident_notifications TO sesame_system USING (true) WITH CHECK (true);
-- Bookkeeping of operator commands: append-only, never a citizen's.
GRANT SELECT, INSERT ON incident_resets, incident_notifications TO sesame_system;
