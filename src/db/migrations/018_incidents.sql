-- Incident response (issue 6): an incident is opened by an operator; every step taken for it
-- (closing access, the cohort, cancellations, resets, notifications, the report) is a row of
-- its timeline, written in the step's own transaction with the step's audit event. Ids,
-- counts and options only: never a NIR, a name or an address.
CREATE TABLE incidents (
  id uuid PRIMARY KEY,
  -- INC-2026-001: per year, in order of opening (assigned under a lock by openIncident).
  reference text NOT NULL UNIQUE CHECK (reference ~ '^INC-[0-9]{4}-[0-9]{3,}$'),
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200 AND title !~ '[[:cntrl:]]'),
  detected_at timestamptz NOT NULL,
  opened_at timestamptz NOT NULL,
  opened_by text NOT NULL CHECK (opened_by ~ '^(operator|staff|system):[^[:cntrl:]]{1,200}$'),
  closed_at timestamptz
);

CREATE TABLE incident_steps (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents (id),
  at timestamptz NOT NULL,
  by text NOT NULL CHECK (by ~ '^(operator|staff|system):[^[:cntrl:]]{1,200}$'),
  kind text NOT NULL CHECK (kind ~ '^[a-z][a-z-]{0,39}$'),
  applied boolean NOT NULL,
  summary jsonb NOT NULL
);
CREATE INDEX incident_steps_incident ON incident_steps (incident_id, seq);

ALTER TABLE incidents ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_steps ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON incidents TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON incident_steps TO sesame_system USING (true) WITH CHECK (true);
-- The timeline is append-only for the application; an incident is only ever closed.
GRANT SELECT, INSERT ON incidents, incident_steps TO sesame_system;
GRANT UPDATE (closed_at) ON incidents TO sesame_system;

-- A cohort: the accounts an incident affected, as `incident cohort --apply` computed them for
-- a window and options. The newest one of an incident is what --cohort means for the steps
-- after it (cancel, reset-credentials, notify, report). Account ids and category codes only.
CREATE TABLE incident_cohorts (
  id uuid PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents (id),
  window_from timestamptz NOT NULL,
  window_to timestamptz NOT NULL CHECK (window_to > window_from),
  options jsonb NOT NULL,
  computed_at timestamptz NOT NULL,
  computed_by text NOT NULL,
  members integer NOT NULL CHECK (members >= 0)
);
CREATE INDEX incident_cohorts_incident ON incident_cohorts (incident_id, computed_at);

CREATE TABLE incident_cohort_members (
  cohort_id uuid NOT NULL REFERENCES incident_cohorts (id),
  -- Not a foreign key: the record of who was affected outlives a deleted account.
  account_id uuid NOT NULL,
  categories text[] NOT NULL CHECK (cardinality(categories) > 0),
  PRIMARY KEY (cohort_id, account_id)
);

ALTER TABLE incident_cohorts ENABLE ROW LEVEL SECURITY;
ALTER TABLE incident_cohort_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON incident_cohorts TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON incident_cohort_members TO sesame_system USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON incident_cohorts, incident_cohort_members TO sesame_system;
