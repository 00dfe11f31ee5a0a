-- Agency imports (`sesame import beneficiaries|payments`).

-- Keyed MAC (blind-index key) of the normalised row the agency last sent for this account:
-- a re-import compares it without decrypting anything. NULL for accounts not imported.
ALTER TABLE accounts ADD COLUMN agency_row_mac bytea;

-- One row per run of one file. The checkpoint (records_done, last_line, rejects_bytes,
-- counts) is written in the same transaction as each batch, so after an interruption it
-- names exactly the rows that are in the database. `token` fences a run: a second process
-- resuming it makes the first one's next checkpoint fail instead of interleaving.
CREATE TABLE import_runs (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('beneficiaries', 'payments')),
  file_sha256 bytea NOT NULL CHECK (length(file_sha256) = 32),
  file_size bigint NOT NULL CHECK (file_size >= 0),
  -- Options that change what a row does: a resumed run must use the same.
  update_identity boolean NOT NULL DEFAULT false,
  status text NOT NULL CHECK (status IN ('running', 'finished', 'abandoned')),
  token uuid NOT NULL,
  operator text NOT NULL,
  records_done bigint NOT NULL DEFAULT 0 CHECK (records_done >= 0),
  last_line bigint NOT NULL DEFAULT 0 CHECK (last_line >= 0),
  rejects_bytes bigint NOT NULL DEFAULT 0 CHECK (rejects_bytes >= 0),
  -- Outcome counts: {"created": n, "unchanged": n, …}; numbers only, never data.
  counts jsonb NOT NULL DEFAULT '{}'::jsonb,
  started_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  finished_at timestamptz
);
-- At most one unfinished run per file and kind: the one a re-run resumes.
CREATE UNIQUE INDEX import_runs_one_running ON import_runs (kind, file_sha256) WHERE status = 'running';

ALTER TABLE import_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON import_runs TO sesame_system USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE ON import_runs TO sesame_system;
