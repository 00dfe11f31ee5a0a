-- Connected services (issue 7): what each citizen consented to share with each service, and
-- the provider grant that carries it. The provider's own rows (oidc_payloads) are sealed and
-- keyed by HMACs, so this is where the account <-> client <-> grant link lives: the consent is
-- remembered per service (a new browser, an expired grant or a logout does not ask again),
-- and "Retirer l'accès" finds the grant whose tokens it revokes.
--
-- grant_id is the provider's opaque Grant id. It is not a credential (no endpoint accepts it:
-- codes and tokens are other ids, kept only as HMACs in oidc_payloads).
CREATE TABLE oidc_consents (
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  client_id text NOT NULL REFERENCES oidc_clients (client_id),
  grant_id text NOT NULL CHECK (grant_id ~ '^[A-Za-z0-9_-]{16,128}$'),
  -- The OpenID scopes and the extra claims (`claims` request parameter) consented to.
  scopes text[] NOT NULL CHECK ('openid' = ANY (scopes)),
  claims text[] NOT NULL DEFAULT '{}',
  consented_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (account_id, client_id)
);

ALTER TABLE oidc_consents ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON oidc_consents TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY citizen_own ON oidc_consents TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_consents TO sesame_system;
-- The citizen records a consent on the consent page, sees them on /account/security and
-- withdraws one there (always their own: row-level security).
GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_consents TO sesame_citizen;

-- The security page names the services: citizens read a client's name and whether it is
-- disabled, nothing else of the registry (no secret MAC, no settings).
CREATE POLICY citizen_names ON oidc_clients FOR SELECT TO sesame_citizen USING (true);
GRANT SELECT (client_id, name, disabled_at) ON oidc_clients TO sesame_citizen;

-- The login history names the services signed in to from each session (oidc.authorized).
CREATE INDEX audit_log_oidc_session ON audit_log ((payload ->> 'sessionId')) WHERE type = 'oidc.authorized';
