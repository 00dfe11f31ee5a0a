-- Mail outbox, written in the same transaction as the change that causes the mail.
-- The payload (recipient, locale, parameters) is encrypted under the account's data key
-- and wiped once the message is delivered. Nothing else in a row is personal: last_error
-- holds a class such as 'smtp-451' or 'connection', never an SMTP reply (they quote addresses).
CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  template text NOT NULL CHECK (template ~ '^[a-z][a-z0-9-]{0,63}$'),
  payload bytea,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  -- Raised when a worker claims the row, before sending: also the claim's fencing token.
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  -- Lease of the worker sending it; a lapsed lease means that worker died mid-send.
  locked_until timestamptz,
  last_error text CHECK (last_error ~ '^[a-z0-9-]{1,40}$'),
  created_at timestamptz NOT NULL,
  sent_at timestamptz,
  CONSTRAINT outbox_sent_is_wiped CHECK (status <> 'sent' OR (payload IS NULL AND sent_at IS NOT NULL))
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_account ON outbox (account_id);

ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY citizen_own ON outbox TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
CREATE POLICY system_all ON outbox TO sesame_system USING (true) WITH CHECK (true);
-- A citizen's own action may queue a mail, but never set its delivery state.
GRANT SELECT ON outbox TO sesame_citizen;
GRANT INSERT (id, account_id, template, payload, next_attempt_at, created_at) ON outbox TO sesame_citizen;
GRANT SELECT, INSERT, UPDATE ON outbox TO sesame_system;
