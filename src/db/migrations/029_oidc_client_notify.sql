-- Each server keeps the enabled clients' metadata in memory (src/oidc/client-adapter.ts) and
-- evicts a client as soon as it hears of a change: every change to oidc_clients, whoever makes
-- it (`sesame clients` in another process, or an operator's SQL), notifies channel
-- sesame_oidc_clients with the client id ('*' for a TRUNCATE: forget them all), at commit.
CREATE FUNCTION sesame_oidc_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('sesame_oidc_clients', '*');
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('sesame_oidc_clients', OLD.client_id);
  ELSE
    PERFORM pg_notify('sesame_oidc_clients', NEW.client_id);
    IF TG_OP = 'UPDATE' AND OLD.client_id IS DISTINCT FROM NEW.client_id THEN
      PERFORM pg_notify('sesame_oidc_clients', OLD.client_id);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER oidc_clients_changed AFTER INSERT OR UPDATE OR DELETE ON oidc_clients
  FOR EACH ROW EXECUTE FUNCTION sesame_oidc_client_changed();
CREATE TRIGGER oidc_clients_truncated AFTER TRUNCATE ON oidc_clients
  FOR EACH STATEMENT EXECUTE FUNCTION sesame_oidc_client_changed();
