-- Issue 5: contact and bank details (src/account-area/contact, src/account-area/bank-details).

-- A change of email address waiting for the code sent to the new address. One row per
-- flow (a session's `confirm` flow in state `email-change`): the code is one of the flow's
-- one_time_codes, its attempts the flow's code_failures, so the row dies with the flow.
-- Both addresses (the one the change replaces, the new one) are one payload encrypted under
-- the account's data key, bound to the flow's id. Flows are the system role's only.
CREATE TABLE email_changes (
  flow_id uuid PRIMARY KEY REFERENCES auth_flows (id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  addresses bytea NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX email_changes_account ON email_changes (account_id, created_at);

ALTER TABLE email_changes ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON email_changes TO sesame_system USING (true) WITH CHECK (true);
-- Deleted once applied; otherwise with its flow (housekeeping deletes flows a day after they expire).
GRANT SELECT, INSERT, DELETE ON email_changes TO sesame_system;

-- The one-time code that cancels a change of bank details without logging in (mailed with
-- the notification, typed with the NIR on a public page). Stored as HMAC(row id, code);
-- failures raised before comparing; consumed with `UPDATE … WHERE used_at IS NULL`; it stops
-- working when the hold ends (expires_at = the change's effectiveAt), when the change is
-- cancelled from the account (revoked_at), or when a newer change replaces it.
CREATE TABLE bank_change_cancel_codes (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  -- The bank-details.changed event it cancels, in the same account's file.
  event_id uuid NOT NULL,
  code_mac bytea NOT NULL,
  failures integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz,
  CONSTRAINT bank_change_cancel_codes_event FOREIGN KEY (event_id, account_id) REFERENCES file_events (id, account_id),
  CONSTRAINT bank_change_cancel_codes_one_per_event UNIQUE (event_id)
);
-- At most one code that may still be typed per account: a new change revokes the previous one first.
CREATE UNIQUE INDEX bank_change_cancel_codes_live ON bank_change_cancel_codes (account_id) WHERE used_at IS NULL AND revoked_at IS NULL;

ALTER TABLE bank_change_cancel_codes ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON bank_change_cancel_codes TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY citizen_own ON bank_change_cancel_codes TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
-- The citizen's own change writes its code and a cancellation from the account revokes it;
-- a citizen context never reads a code's MAC nor touches its counters.
GRANT SELECT (id, account_id, event_id, created_at, expires_at, used_at, revoked_at) ON bank_change_cancel_codes TO sesame_citizen;
GRANT INSERT (id, account_id, event_id, code_mac, created_at, expires_at) ON bank_change_cancel_codes TO sesame_citizen;
GRANT UPDATE (revoked_at) ON bank_change_cancel_codes TO sesame_citizen;
GRANT SELECT, INSERT, UPDATE ON bank_change_cancel_codes TO sesame_system;
