-- Accounts: every PII column is AES-256-GCM ciphertext under the account's data key;
-- lookups go through keyed blind indexes (HMAC of the normalised value).
CREATE TABLE accounts (
  id uuid PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('pending_activation', 'active', 'locked', 'closed')),
  nir_index bytea NOT NULL,
  email_index bytea,
  nir bytea NOT NULL,
  given_names bytea NOT NULL,
  family_name bytea NOT NULL,
  birth_date bytea NOT NULL,
  birth_place bytea,
  gender bytea,
  email bytea,
  phone bytea,
  postal_address bytea,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT accounts_nir_index_unique UNIQUE (nir_index)
);
CREATE INDEX accounts_email_index ON accounts (email_index);

-- One data key per account, wrapped by a key-encryption key from the key file.
-- Deleting the row shreds every field of the account.
CREATE TABLE account_keys (
  account_id uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
  kek_id text NOT NULL,
  wrapped_key bytea NOT NULL,
  created_at timestamptz NOT NULL,
  rewrapped_at timestamptz
);
CREATE INDEX account_keys_kek_id ON account_keys (kek_id);

CREATE TABLE credentials (
  id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  kind text NOT NULL CHECK (kind IN ('password')),
  secret text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX credentials_one_password ON credentials (account_id) WHERE kind = 'password';

ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE account_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE credentials ENABLE ROW LEVEL SECURITY;

CREATE POLICY citizen_own ON accounts TO sesame_citizen
  USING (id = sesame_account_id()) WITH CHECK (id = sesame_account_id());
CREATE POLICY citizen_own ON account_keys TO sesame_citizen
  USING (account_id = sesame_account_id());
CREATE POLICY citizen_own ON credentials TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());

CREATE POLICY system_all ON accounts TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON account_keys TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON credentials TO sesame_system USING (true) WITH CHECK (true);

-- A citizen may change their contact details, never their identity or status.
GRANT SELECT ON accounts TO sesame_citizen;
GRANT UPDATE (email, email_index, phone, postal_address, updated_at) ON accounts TO sesame_citizen;
GRANT SELECT ON account_keys TO sesame_citizen;
GRANT SELECT, INSERT, UPDATE ON credentials TO sesame_citizen;

GRANT SELECT, INSERT, UPDATE ON accounts TO sesame_system;
GRANT SELECT, INSERT, UPDATE, DELETE ON account_keys TO sesame_system;
GRANT SELECT, INSERT, UPDATE, DELETE ON credentials TO sesame_system;
