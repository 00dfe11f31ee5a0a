-- The usage name (nom d'usage: a spouse's name, say), when the agency knows one that differs
-- from the birth name: encrypted under the account's data key like the other names, given
-- by the beneficiary import or `sesame users create`, never by the citizen (the agency's
-- data, as the other identity columns). FranceConnect's `preferred_username` claim.
ALTER TABLE accounts ADD COLUMN usage_name bytea;
