-- preferred_username is released from migration 030 on (the usage name). Consents given before
-- it, to services that hold the profile or preferred_username scope, were asked on a page that
-- did not list it: they are withdrawn, so the next sign-in to such a service asks again, on a
-- page that lists the usage name. Their grants and tokens go with them, found by account (a
-- grant's id is kept only as an HMAC under the key file's key, out of SQL's reach): those
-- citizens' grants for other services go too, and are made again from their consent records at
-- the next sign-in, without a question.
CREATE TEMPORARY TABLE usage_name_reconsent ON COMMIT DROP AS
  SELECT account_id, client_id FROM oidc_consents WHERE scopes && ARRAY['profile', 'preferred_username'];

INSERT INTO audit_log (occurred_at, type, account_id, actor, request_id, payload, seq, prev_hash, hash)
  SELECT now(), 'oidc.consent-revoked', account_id, 'system:migration', NULL,
         jsonb_build_object('clientId', client_id, 'via', 'consent-page-changed'), 0, ''::bytea, ''::bytea
    FROM usage_name_reconsent ORDER BY account_id, client_id;

DELETE FROM oidc_payloads
 WHERE model IN ('Grant', 'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest')
   AND account_id IN (SELECT account_id FROM usage_name_reconsent);

DELETE FROM oidc_consents c USING usage_name_reconsent r WHERE c.account_id = r.account_id AND c.client_id = r.client_id;
