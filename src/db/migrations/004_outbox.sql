-- Mail outbox, written in the same transaction as the change that causes the mail.
-- The payload (recipient, parameters) is encrypted under the account's data key and
-- wiped once the message is delivered.
CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  template text NOT NULL,
  payload bytea,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  locked_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL,
  sent_at timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY citizen_own ON outbox TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
CREATE POLICY system_all ON outbox TO sesame_system USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON outbox TO sesame_citizen;
GRANT SELECT, INSERT, UPDATE ON outbox TO sesame_system;
