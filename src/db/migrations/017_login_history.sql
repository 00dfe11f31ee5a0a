-- Login history: a step-up raises a session's level and amr, so what the login itself used
-- is kept apart, copied once when the session starts and never updated.
ALTER TABLE sessions ADD COLUMN login_level text;
ALTER TABLE sessions ADD COLUMN login_amr text[];

CREATE FUNCTION sessions_record_login() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
  AS $$
BEGIN
  NEW.login_level := NEW.level;
  NEW.login_amr := NEW.amr;
  RETURN NEW;
END $$;
CREATE TRIGGER sessions_record_login BEFORE INSERT ON sessions FOR EACH ROW EXECUTE FUNCTION sessions_record_login();

UPDATE sessions SET login_level = level, login_amr = amr;

CREATE FUNCTION sessions_login_is_history() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public
  AS $$
BEGIN
  IF NEW.login_level IS DISTINCT FROM OLD.login_level OR NEW.login_amr IS DISTINCT FROM OLD.login_amr THEN
    RAISE EXCEPTION 'a session''s login method is history: it is not updated';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER sessions_login_is_history BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION sessions_login_is_history();

-- Citizens read sessions column by column (006_session_guards.sql): these two as well.
GRANT SELECT (login_level, login_amr) ON sessions TO sesame_citizen;
