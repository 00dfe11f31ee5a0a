-- Ending an account's sessions for a security reason (recovery, change of password, "it wasn't
-- me", a held bank change cancelled, an authenticator removed, an incident reset) also ends what
-- services hold from them: the provider's sessions, grants, codes and tokens of the account
-- (a refresh token would otherwise keep a service fed for hours). Consent records stay: the next
-- sign-in makes a grant again from them. Several of those endings run in the citizen context,
-- so a citizen may delete their own provider rows, found by account, and read nothing of them
-- but the account column the delete needs.
CREATE POLICY citizen_own_account ON oidc_payloads FOR SELECT TO sesame_citizen USING (account_id = sesame_account_id());
CREATE POLICY citizen_end_own ON oidc_payloads FOR DELETE TO sesame_citizen USING (account_id = sesame_account_id());
GRANT SELECT (account_id), DELETE ON oidc_payloads TO sesame_citizen;
