-- OpenID Connect provider (issue 7): what oidc-provider stores (sessions, grants, codes, tokens,
-- interactions…) and the registry of relying parties. System contexts only.

-- Data keys for oidc_payloads, wrapped by a key-encryption key of the key file like account
-- data keys (these rows belong to no account yet, or outlive the request that knows which).
-- A new key is made for each current KEK; keys no row uses any more are deleted by housekeeping.
CREATE TABLE oidc_data_keys (
  id uuid PRIMARY KEY,
  kek_id text NOT NULL,
  wrapped_key bytea NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX oidc_data_keys_kek ON oidc_data_keys (kek_id, created_at);

-- One table for every model. Ids, uids, grant ids and user codes are kept as HMACs: an access
-- token, refresh token, code or session cookie IS its id, so a dump must not hold them. The
-- payload (claims requested, nonce, login_hint, acr, amr…) is AES-256-GCM under an oidc data
-- key, with the model and id hash as additional data (a payload moved to another row fails).
CREATE TABLE oidc_payloads (
  model text NOT NULL CHECK (model ~ '^[A-Z][A-Za-z]{1,63}$'),
  id_mac bytea NOT NULL,
  key_id uuid NOT NULL REFERENCES oidc_data_keys (id),
  payload bytea NOT NULL,
  grant_mac bytea,
  uid_mac bytea,
  user_code_mac bytea,
  -- Our account id when the payload names one: to end an account's sessions and grants.
  account_id uuid,
  expires_at timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id_mac)
);
CREATE INDEX oidc_payloads_grant ON oidc_payloads (grant_mac) WHERE grant_mac IS NOT NULL;
CREATE INDEX oidc_payloads_uid ON oidc_payloads (model, uid_mac) WHERE uid_mac IS NOT NULL;
CREATE INDEX oidc_payloads_user_code ON oidc_payloads (model, user_code_mac) WHERE user_code_mac IS NOT NULL;
CREATE INDEX oidc_payloads_expiry ON oidc_payloads (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX oidc_payloads_account ON oidc_payloads (account_id) WHERE account_id IS NOT NULL;
CREATE INDEX oidc_payloads_key ON oidc_payloads (key_id);

-- Relying parties, registered by an operator with `sesame clients create`. The secret is kept
-- as an HMAC (see src/oidc/client-secret.ts); a disabled client is never found by the provider.
CREATE TABLE oidc_clients (
  client_id text PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9_-]{16,64}$'),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100 AND name !~ '[[:cntrl:]]'),
  -- Empty only for a machine client (client credentials, no citizen ever redirected).
  redirect_uris text[] NOT NULL CHECK (cardinality(redirect_uris) <= 20),
  scopes text[] NOT NULL CHECK ('openid' = ANY (scopes)),
  grant_types text[] NOT NULL CHECK (cardinality(grant_types) >= 1 AND grant_types <@ ARRAY['authorization_code', 'client_credentials']),
  acr_min text NOT NULL CHECK (acr_min IN ('eidas1', 'eidas2', 'eidas3')),
  acr_default text NOT NULL CHECK (acr_default IN ('eidas1', 'eidas2', 'eidas3')),
  auth_method text NOT NULL CHECK (auth_method IN ('client_secret_post', 'client_secret_basic', 'private_key_jwt')),
  jwks_uri text,
  secret_mac bytea,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  secret_rotated_at timestamptz,
  disabled_at timestamptz,
  CONSTRAINT oidc_clients_redirects CHECK (NOT ('authorization_code' = ANY (grant_types)) OR cardinality(redirect_uris) >= 1),
  CONSTRAINT oidc_clients_credentials CHECK (
    (auth_method = 'private_key_jwt' AND jwks_uri IS NOT NULL AND secret_mac IS NULL)
    OR (auth_method <> 'private_key_jwt' AND secret_mac IS NOT NULL))
);

ALTER TABLE oidc_data_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE oidc_payloads ENABLE ROW LEVEL SECURITY;
ALTER TABLE oidc_clients ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON oidc_data_keys TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON oidc_payloads TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON oidc_clients TO sesame_system USING (true) WITH CHECK (true);
GRANT SELECT, INSERT, UPDATE, DELETE ON oidc_data_keys, oidc_payloads TO sesame_system;
-- Clients are never deleted (audit and login history name them): only disabled.
GRANT SELECT, INSERT ON oidc_clients TO sesame_system;
GRANT UPDATE (secret_mac, secret_rotated_at, disabled_at) ON oidc_clients TO sesame_system;
