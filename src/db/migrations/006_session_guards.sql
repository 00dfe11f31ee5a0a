-- A citizen may end their sessions, never bring one back (a session ended by a change of
-- password or a recovery must stay ended), and never read the token hashes.
CREATE POLICY citizen_only_ends ON sessions AS RESTRICTIVE FOR UPDATE TO sesame_citizen
  USING (true) WITH CHECK (ended_at IS NOT NULL);

REVOKE SELECT ON sessions FROM sesame_citizen;
GRANT SELECT (id, account_id, level, amr, auth_time, client, created_at, last_seen_at, expires_at, ended_at, end_reason)
  ON sessions TO sesame_citizen;
