-- Access scopes (issue 6): the kill switch also closes the operator console (scope staff),
-- and each scope can show operators' own words on its maintenance page, in French and English.

-- citizen_access stays the citizens scope (the tripwire locks it); staff_access is its twin
-- for the console. One row each: every process reads the same flag.
ALTER TABLE citizen_access DROP CONSTRAINT citizen_access_changed_by_check;
ALTER TABLE citizen_access ADD CONSTRAINT citizen_access_changed_by_check CHECK (changed_by ~ '^(operator|staff|system):[^[:cntrl:]]{1,200}$');
-- One paragraph of plain text each (escaped when shown); null: the default text.
ALTER TABLE citizen_access
  ADD COLUMN message_fr text CHECK (char_length(message_fr) BETWEEN 1 AND 500 AND message_fr !~ '[[:cntrl:]]'),
  ADD COLUMN message_en text CHECK (char_length(message_en) BETWEEN 1 AND 500 AND message_en !~ '[[:cntrl:]]');

CREATE TABLE staff_access (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  open boolean NOT NULL,
  changed_at timestamptz,
  changed_by text CHECK (changed_by ~ '^(operator|staff|system):[^[:cntrl:]]{1,200}$'),
  reason text CHECK (char_length(reason) <= 500),
  message_fr text CHECK (char_length(message_fr) BETWEEN 1 AND 500 AND message_fr !~ '[[:cntrl:]]'),
  message_en text CHECK (char_length(message_en) BETWEEN 1 AND 500 AND message_en !~ '[[:cntrl:]]')
);
INSERT INTO staff_access (id, open) VALUES (true, true);

-- The history of both scopes in one place (rows from before this migration are citizens').
ALTER TABLE citizen_access_history
  ADD COLUMN scope text NOT NULL DEFAULT 'citizens' CHECK (scope IN ('citizens', 'staff')),
  ADD COLUMN message_fr text,
  ADD COLUMN message_en text;

ALTER TABLE staff_access ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON staff_access TO sesame_system USING (true) WITH CHECK (true);
GRANT SELECT, UPDATE ON staff_access TO sesame_system;
