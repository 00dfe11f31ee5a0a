-- Tamper-evident audit log: append-only, each row carries the hash of the previous one.
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY,
  occurred_at timestamptz NOT NULL,
  type text NOT NULL,
  account_id uuid,
  actor text NOT NULL,
  request_id text,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL
);
CREATE INDEX audit_log_account ON audit_log (account_id, seq);

-- The exact bytes hashed for a row; `sesame audit verify` recomputes them in TypeScript.
CREATE FUNCTION audit_canonical(seq bigint, occurred_at timestamptz, type text, account_id uuid,
                                actor text, request_id text, payload jsonb) RETURNS bytea
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT convert_to(concat_ws('|', seq::text,
          (extract(epoch FROM occurred_at) * 1000000)::bigint::text, type,
          coalesce(account_id::text, ''), actor, coalesce(request_id, ''), payload::text), 'UTF8') $$;

-- Runs as the table owner so that a citizen context (which sees only its own rows) still
-- chains onto the true last row. The transaction-scoped advisory lock serialises writers
-- until commit, so two transactions can never chain onto the same predecessor.
CREATE FUNCTION audit_chain() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
DECLARE
  last_seq bigint;
  last_hash bytea;
BEGIN
  PERFORM pg_advisory_xact_lock(74021100);
  SELECT a.seq, a.hash INTO last_seq, last_hash FROM public.audit_log a ORDER BY a.seq DESC LIMIT 1;
  NEW.seq := coalesce(last_seq, 0) + 1;
  NEW.prev_hash := coalesce(last_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
  NEW.hash := sha256(NEW.prev_hash || public.audit_canonical(NEW.seq, NEW.occurred_at, NEW.type,
                     NEW.account_id, NEW.actor, NEW.request_id, NEW.payload));
  RETURN NEW;
END $$;
CREATE TRIGGER audit_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_chain();

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY citizen_own ON audit_log TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
CREATE POLICY system_all ON audit_log TO sesame_system USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON audit_log TO sesame_citizen, sesame_system;
