-- Device approval with number matching (issue 4). An approval device is a phone's browser
-- holding a non-exportable ECDSA P-256 key (WebCrypto, kept in IndexedDB); the server keeps
-- its public key. The device authenticates every request by signing a single-use nonce the
-- server issued, not by a session.
CREATE TABLE approval_devices (
  authenticator_id uuid PRIMARY KEY,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  -- SHA-256 of the SPKI: how the device names itself (it never learns our ids).
  key_id bytea NOT NULL UNIQUE,
  -- DER SubjectPublicKeyInfo of the P-256 key: public, not secret.
  public_key bytea NOT NULL,
  created_at timestamptz NOT NULL,
  -- The one live nonce the device may sign next; cleared by the request that uses it, whatever
  -- the outcome, so that a signed request cannot be replayed.
  nonce text,
  nonce_expires_at timestamptz,
  -- Same account as the authenticator: a foreign key check ignores row-level security.
  FOREIGN KEY (authenticator_id, account_id) REFERENCES authenticators (id, account_id) ON DELETE CASCADE
);
CREATE INDEX approval_devices_account ON approval_devices (account_id);

-- One request to approve a login or a step-up on the device. The computer shows `expected`,
-- the device shows `numbers` (which contain it): the citizen approves by picking it, so that
-- a request they did not start (push bombing) cannot be approved by a reflex tap.
CREATE TABLE device_approvals (
  id uuid PRIMARY KEY,
  flow_id uuid NOT NULL REFERENCES auth_flows (id) ON DELETE CASCADE,
  account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  authenticator_id uuid NOT NULL,
  numbers integer[] NOT NULL CHECK (cardinality(numbers) = 3),
  expected integer NOT NULL CHECK (expected = ANY (numbers)),
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'mismatch')),
  -- What the device shows about who asked: a browser and system family ("Firefox", "Linux"),
  -- never the full user agent nor the address.
  browser text CHECK (length(browser) <= 60),
  os text CHECK (length(os) <= 60),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  decided_at timestamptz,
  -- Set when the flow took the approval (once: guarded UPDATE).
  used_at timestamptz,
  -- Same account as the authenticator: a foreign key check ignores row-level security.
  FOREIGN KEY (authenticator_id, account_id) REFERENCES authenticators (id, account_id) ON DELETE CASCADE
);
CREATE INDEX device_approvals_account_created ON device_approvals (account_id, created_at);
CREATE INDEX device_approvals_device_pending ON device_approvals (authenticator_id) WHERE status = 'pending';
CREATE INDEX device_approvals_flow ON device_approvals (flow_id);

ALTER TABLE approval_devices ENABLE ROW LEVEL SECURITY;
ALTER TABLE device_approvals ENABLE ROW LEVEL SECURITY;
CREATE POLICY system_all ON approval_devices TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY system_all ON device_approvals TO sesame_system USING (true) WITH CHECK (true);
CREATE POLICY citizen_own ON approval_devices TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());
CREATE POLICY citizen_own ON device_approvals TO sesame_citizen
  USING (account_id = sesame_account_id()) WITH CHECK (account_id = sesame_account_id());

GRANT SELECT, INSERT, UPDATE, DELETE ON approval_devices, device_approvals TO sesame_system;
-- A citizen registers a device from their session (with its authenticators row, in one
-- transaction); everything else (nonces, approvals) is the login machinery's, out of a
-- citizen context entirely, like auth_flows.
GRANT INSERT ON approval_devices TO sesame_citizen;
