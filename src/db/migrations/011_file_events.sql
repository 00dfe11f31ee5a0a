-- The beneficiary's file (DESIGN principle 7): every change is an append-only event; what
-- pages read are projections rebuilt from the events. Before/after values are one payload,
-- AES-256-GCM under the account's data key (the AAD names the event and its type), so a
-- dump shows who changed what kind of thing when, never the values.
CREATE TABLE file_events (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  -- Per account, 1, 2, 3… without gaps: assigned by the trigger below, never by the caller.
  seq bigint NOT NULL CHECK (seq > 0),
  -- The names of src/file/catalogue.ts (a test compares the two lists).
  type text NOT NULL CHECK (type IN ('contact.email-changed', 'contact.phone-changed', 'contact.address-changed',
                                     'bank-details.changed', 'event.cancelled')),
  payload bytea NOT NULL,
  actor_kind text NOT NULL CHECK (actor_kind IN ('citizen', 'agency', 'operator', 'system')),
  actor_id text NOT NULL CHECK (actor_id ~ '^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$'),
  -- Not a foreign key: the record of who did it outlives the session row.
  session_id uuid,
  level text CHECK (level IN ('eidas1', 'eidas2', 'eidas3')),
  occurred_at timestamptz NOT NULL,
  -- A compensating event names the earlier event of the same account it cancels, once.
  cancels uuid,
  CONSTRAINT file_events_account_seq UNIQUE (account_id, seq),
  CONSTRAINT file_events_id_account UNIQUE (id, account_id),
  CONSTRAINT file_events_cancels_same_account FOREIGN KEY (cancels, account_id) REFERENCES file_events (id, account_id),
  CONSTRAINT file_events_cancellation_names_its_event CHECK ((type = 'event.cancelled') = (cancels IS NOT NULL))
);
CREATE UNIQUE INDEX file_events_cancelled_once ON file_events (cancels) WHERE cancels IS NOT NULL;

-- The next number under a per-account transaction lock, held until commit: two appends to
-- one account never share a number and a rolled-back append leaves no gap. Invoker rights:
-- under RLS the citizen only counts their own events, and may only insert those anyway.
CREATE FUNCTION file_events_next_seq() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
  AS $$
BEGIN
  -- The same key as appendEvent's lock (src/file/events.ts), taken again here: re-entrant.
  PERFORM pg_advisory_xact_lock(hashtextextended('file:' || NEW.account_id::text, 0));
  SELECT coalesce(max(e.seq), 0) + 1 INTO NEW.seq FROM public.file_events e WHERE e.account_id = NEW.account_id;
  RETURN NEW;
END $$;
CREATE TRIGGER file_events_next_seq BEFORE INSERT ON file_events FOR EACH ROW EXECUTE FUNCTION file_events_next_seq();

-- Append-only for everyone but the table's owner (migrations; the cascade when an account
-- row is deleted, which runs as the owner). The application roles are not granted UPDATE
-- or DELETE either: this refuses them even if a grant is added by mistake.
CREATE FUNCTION file_events_append_only() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
  AS $$
BEGIN
  IF NOT pg_has_role(current_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = TG_RELID), 'MEMBER') THEN
    RAISE EXCEPTION 'file_events is append-only: cancel a change with a compensating event';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER file_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON file_events
  FOR EACH STATEMENT EXECUTE FUNCTION file_events_append_only();

ALTER TABLE file_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON file_events TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY citizen_own ON file_events TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
-- In a citizen context the actor can only be that citizen.
CREATE POLICY citizen_acts_as_self ON file_events AS RESTRICTIVE FOR INSERT TO sesame_citizen
  WITH CHECK (actor_kind = 'citizen' AND actor_id = sesame_account_id()::text);
GRANT SELECT ON file_events TO sesame_citizen, sesame_system;
GRANT INSERT (id, account_id, type, payload, actor_kind, actor_id, session_id, level, occurred_at, cancels)
  ON file_events TO sesame_citizen, sesame_system;

-- Projection: the bank details in force (IBAN and holder encrypted; a masked IBAN is
-- computed on read). `version` is the seq of the last event applied; NULL iban/holder means
-- the details were removed. Rebuilt from file_events by `sesame file rebuild`.
CREATE TABLE file_bank_details (
  account_id uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  iban bytea,
  holder bytea,
  version bigint NOT NULL CHECK (version > 0),
  updated_at timestamptz NOT NULL,
  CONSTRAINT file_bank_details_both_or_neither CHECK ((iban IS NULL) = (holder IS NULL))
);

ALTER TABLE file_bank_details ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON file_bank_details TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY citizen_own ON file_bank_details TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
-- A citizen's own change is projected in their transaction; only a rebuild deletes.
GRANT SELECT, INSERT, UPDATE ON file_bank_details TO sesame_citizen;
GRANT SELECT, INSERT, UPDATE, DELETE ON file_bank_details TO sesame_system;
