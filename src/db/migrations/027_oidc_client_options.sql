-- Per-client options of the OpenID provider (issue 7): signing algorithm of ID tokens and of
-- userinfo responses (NULL: plain JSON), userinfo encryption to the client's public keys,
-- refresh tokens (off unless allowed), post-logout redirect URIs (matched exactly, like
-- redirect URIs), a sector shared by several clients for the pairwise sub (NULL: the client
-- alone), and public clients (no secret: PKCE S256 required).
ALTER TABLE oidc_clients
  ADD COLUMN id_token_alg text NOT NULL DEFAULT 'ES256' CHECK (id_token_alg IN ('ES256', 'RS256')),
  ADD COLUMN userinfo_signed_alg text CHECK (userinfo_signed_alg IN ('ES256', 'RS256')),
  ADD COLUMN userinfo_encrypted_alg text CHECK (userinfo_encrypted_alg IN ('ECDH-ES', 'RSA-OAEP', 'RSA-OAEP-256')),
  ADD COLUMN userinfo_encrypted_enc text CHECK (userinfo_encrypted_enc IN ('A128GCM', 'A256GCM', 'A128CBC-HS256', 'A256CBC-HS512')),
  ADD COLUMN refresh_tokens boolean NOT NULL DEFAULT false,
  ADD COLUMN post_logout_redirect_uris text[] NOT NULL DEFAULT '{}' CHECK (cardinality(post_logout_redirect_uris) <= 20),
  ADD COLUMN sector text CHECK (sector ~ '^[a-z0-9][a-z0-9.-]{0,62}$'),
  -- Encryption needs the client's keys and a signed response inside (a nested JWT, as the
  -- provider requires); a public client cannot receive refresh tokens, and refresh tokens
  -- only come with the authorization code grant (as do post-logout redirects).
  ADD CONSTRAINT oidc_clients_encryption CHECK ((userinfo_encrypted_alg IS NULL) = (userinfo_encrypted_enc IS NULL) AND (userinfo_encrypted_alg IS NULL OR (jwks_uri IS NOT NULL AND userinfo_signed_alg IS NOT NULL))),
  ADD CONSTRAINT oidc_clients_public_refresh CHECK (NOT (auth_method = 'none' AND refresh_tokens)),
  ADD CONSTRAINT oidc_clients_refresh_code CHECK (NOT refresh_tokens OR 'authorization_code' = ANY (grant_types)),
  ADD CONSTRAINT oidc_clients_logout_code CHECK (cardinality(post_logout_redirect_uris) = 0 OR 'authorization_code' = ANY (grant_types));

ALTER TABLE oidc_clients DROP CONSTRAINT oidc_clients_auth_method_check;
ALTER TABLE oidc_clients ADD CONSTRAINT oidc_clients_auth_method_check CHECK (auth_method IN ('client_secret_post', 'client_secret_basic', 'private_key_jwt', 'none'));
ALTER TABLE oidc_clients DROP CONSTRAINT oidc_clients_credentials;
ALTER TABLE oidc_clients ADD CONSTRAINT oidc_clients_credentials CHECK (
  (auth_method = 'private_key_jwt' AND jwks_uri IS NOT NULL AND secret_mac IS NULL)
  OR (auth_method = 'none' AND secret_mac IS NULL AND NOT ('client_credentials' = ANY (grant_types)))
  OR (auth_method NOT IN ('private_key_jwt', 'none') AND secret_mac IS NOT NULL));
