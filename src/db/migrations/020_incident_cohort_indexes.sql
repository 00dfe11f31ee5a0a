-- `sesame incident cohort` reads sessions, file events and the audit log by time window
-- (src/incident/cohort.ts). Without these it reads every row of each table.

-- Logins in the window.
CREATE INDEX sessions_created_at ON sessions (created_at);
-- Sessions whose lifetime [created_at, expires_at) overlaps the window: a range index finds
-- them without reading every later (or earlier) session. Both columns are set once at login,
-- so the per-minute last_seen_at writes stay HOT updates (an index on last_seen_at would turn
-- each of them into an index write). greatest(): an inverted pair would make tstzrange raise.
CREATE INDEX sessions_lifetime ON sessions USING gist (tstzrange(created_at, greatest(created_at, expires_at)));
-- Changes to files in the window.
CREATE INDEX file_events_occurred_at ON file_events (occurred_at);
-- Audit events of one type in the window (exports; also what the report counts).
CREATE INDEX audit_log_type_time ON audit_log (type, occurred_at);
-- Each account's password changes, for --exclude-password-changed-before.
CREATE INDEX audit_log_password_changes ON audit_log (account_id, occurred_at) WHERE type = 'password.changed';
