-- Roles are cluster-wide and several databases (test runs) may create them at once:
-- each creation tolerates having lost the race.
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['sesame_none', 'sesame_citizen', 'sesame_system'] LOOP
    -- Checked first so that an owner without CREATEROLE can migrate once a DBA made the roles.
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END;
    END IF;
  END LOOP;
END $$;

-- The connecting user switches between these roles (SET ROLE needs membership unless superuser).
DO $$
BEGIN
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT sesame_none, sesame_citizen, sesame_system TO %I', current_user);
  END IF;
END $$;

-- The account a citizen context is bound to; NULL outside one, so policies match nothing.
CREATE FUNCTION sesame_account_id() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('sesame.account_id', true), '')::uuid $$;

GRANT EXECUTE ON FUNCTION sesame_account_id() TO sesame_citizen, sesame_system;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO sesame_citizen, sesame_system;
