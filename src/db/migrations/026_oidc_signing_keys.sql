-- OpenID provider signing keys (issue 7): the private keys that sign ID tokens and JWT
-- responses, ES256 by default and RS256 for the clients that ask for it. System contexts only.
--
-- The private JWK is AES-256-GCM under a key-encryption key of the key file (kek_id names it),
-- with the kid and alg as additional data: a dump without the key file holds no private key.
-- The public JWK is kept in clear (it is published anyway).
--
-- A key's life is told by its timestamps (src/oidc/signing-keys.ts):
--   published_at  in the JWKS from then on;
--   active_from   signs from then on (a rotation sets it a propagation delay after
--                 published_at, so that every server and relying party has the key first);
--   retired_at    no longer signs (set by the rotation to the new key's active_from);
--   remove_after  out of the JWKS (retired_at plus the longest lifetime of what it signed).
CREATE TABLE oidc_signing_keys (
  kid text PRIMARY KEY CHECK (kid ~ '^[a-z0-9-]{8,64}$'),
  alg text NOT NULL CHECK (alg IN ('ES256', 'RS256')),
  public_jwk jsonb NOT NULL CHECK (NOT (public_jwk ?| ARRAY['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'])),
  kek_id text NOT NULL,
  sealed_private_jwk bytea NOT NULL,
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  published_at timestamptz NOT NULL,
  active_from timestamptz NOT NULL,
  retired_at timestamptz,
  remove_after timestamptz,
  CONSTRAINT oidc_signing_keys_published_first CHECK (active_from >= published_at),
  CONSTRAINT oidc_signing_keys_retirement CHECK (
    (retired_at IS NULL AND remove_after IS NULL)
    OR (retired_at >= active_from AND remove_after > retired_at))
);
CREATE INDEX oidc_signing_keys_alg ON oidc_signing_keys (alg, active_from);
CREATE INDEX oidc_signing_keys_kek ON oidc_signing_keys (kek_id);

ALTER TABLE oidc_signing_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON oidc_signing_keys TO sesame_system USING (true) WITH CHECK (true);
-- A key's material never changes, only its wrapping (KEK rotation) and its retirement; rows
-- are deleted once out of the JWKS.
GRANT SELECT, INSERT, DELETE ON oidc_signing_keys TO sesame_system;
GRANT UPDATE (kek_id, sealed_private_jwk, retired_at, remove_after) ON oidc_signing_keys TO sesame_system;
