-- A session remembers which strong authenticators raised it (at login or at any step-up
-- since), so that removing one ends the sessions whose level it gave (a thief's passkey,
-- removed by the owner, takes the thief's eidas2 session with it).
ALTER TABLE sessions ADD COLUMN raised_by uuid[] NOT NULL DEFAULT '{}';
-- The removal runs in the citizen's context, which finds the sessions by this column.
GRANT SELECT (raised_by) ON sessions TO sesame_citizen;

-- Sessions live now do not say which authenticator raised them. Conservatively, a live
-- session above eidas1 counts as raised by every authenticator the account had when it last
-- authenticated: removing any of them ends it.
UPDATE sessions s SET raised_by = coalesce(
    (SELECT array_agg(a.id ORDER BY a.created_at, a.id) FROM authenticators a
      WHERE a.account_id = s.account_id AND a.created_at <= s.auth_time), '{}')
  WHERE s.ended_at IS NULL AND s.level <> 'eidas1';
-- … and one of them removed since that authentication may have been the one: the session ends
-- (what the removal would have done; the session row keeps the reason).
UPDATE sessions s SET ended_at = now(), end_reason = 'authenticator-removed'
  WHERE s.ended_at IS NULL AND s.level <> 'eidas1'
    AND EXISTS (SELECT 1 FROM authenticators a WHERE a.id = ANY (s.raised_by) AND a.removed_at IS NOT NULL AND a.removed_at >= s.auth_time);
