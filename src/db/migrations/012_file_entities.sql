-- The file's keyed parts (procedures, payments) and the hold period of new bank details.
ALTER TABLE file_events DROP CONSTRAINT file_events_type_check;
ALTER TABLE file_events ADD CONSTRAINT file_events_type_check
  CHECK (type IN ('contact.email-changed', 'contact.phone-changed', 'contact.address-changed', 'bank-details.changed',
                  'procedure.submitted', 'procedure.status-changed', 'payment.recorded', 'event.cancelled'));
-- When a change takes effect, if later than when it was made (new bank details: the hold
-- period during which payments keep going to the previous IBAN). Not PII.
ALTER TABLE file_events ADD COLUMN effective_at timestamptz;
ALTER TABLE file_events ADD CONSTRAINT file_events_effective_after_occurred CHECK (effective_at IS NULL OR effective_at > occurred_at);
GRANT INSERT (effective_at) ON file_events TO sesame_citizen, sesame_system;

-- Bank details: `iban`/`holder` are the latest declared; until `effective_at` payments go to
-- `previous_*` (what was in force when the change was made). `change_event_id` is the event
-- that set them, which a cancellation names.
ALTER TABLE file_bank_details ADD COLUMN effective_at timestamptz;
ALTER TABLE file_bank_details ADD COLUMN previous_iban bytea;
ALTER TABLE file_bank_details ADD COLUMN previous_holder bytea;
ALTER TABLE file_bank_details ADD COLUMN change_event_id uuid;
ALTER TABLE file_bank_details ADD CONSTRAINT file_bank_details_previous_both_or_neither CHECK ((previous_iban IS NULL) = (previous_holder IS NULL));
ALTER TABLE file_bank_details ADD CONSTRAINT file_bank_details_previous_only_while_held CHECK (previous_iban IS NULL OR effective_at IS NOT NULL);

-- Procedures: the whole value (form data, status, note) is one encrypted payload; kind,
-- status, reference and dates stay clear for listing, lookups by reference and counts.
CREATE TABLE file_procedures (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  reference text NOT NULL CHECK (reference ~ '^[A-Z0-9-]{6,32}$'),
  kind text NOT NULL,
  status text NOT NULL CHECK (status IN ('submitted', 'in-review', 'accepted', 'rejected', 'cancelled')),
  submitted_at timestamptz NOT NULL,
  payload bytea NOT NULL,
  version bigint NOT NULL CHECK (version > 0),
  updated_at timestamptz NOT NULL,
  CONSTRAINT file_procedures_id_account UNIQUE (id, account_id),
  CONSTRAINT file_procedures_reference UNIQUE (reference)
);
CREATE INDEX file_procedures_account ON file_procedures (account_id, submitted_at DESC);

-- Payments (imported from the agency): date and status clear for "next payment"; benefit,
-- amount and IBAN in the encrypted payload.
CREATE TABLE file_payments (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  paid_on date NOT NULL,
  status text NOT NULL CHECK (status IN ('paid', 'scheduled', 'cancelled')),
  payload bytea NOT NULL,
  version bigint NOT NULL CHECK (version > 0),
  updated_at timestamptz NOT NULL,
  CONSTRAINT file_payments_id_account UNIQUE (id, account_id)
);
CREATE INDEX file_payments_account ON file_payments (account_id, paid_on DESC);

ALTER TABLE file_procedures ENABLE ROW LEVEL SECURITY;
ALTER TABLE file_payments ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON file_procedures TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON file_payments TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY citizen_own ON file_procedures TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
CREATE POLICY citizen_own ON file_payments TO sesame_citizen USING (account_id = sesame_account_id());
-- A citizen's own submission is projected in their transaction; payments are the agency's.
GRANT SELECT, INSERT, UPDATE ON file_procedures TO sesame_citizen;
GRANT SELECT ON file_payments TO sesame_citizen;
GRANT SELECT, INSERT, UPDATE, DELETE ON file_procedures, file_payments TO sesame_system;
