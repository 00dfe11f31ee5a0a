-- Procedure references are unique across all files (file_procedures_reference), but a citizen's
-- context only sees its own procedures. Before filing, the application asks whether the
-- reference it drew is free: this function answers yes or no and nothing else (no account,
-- no procedure), so the uniqueness check needs no wider view of the table.
CREATE FUNCTION procedure_reference_taken(candidate text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$ SELECT EXISTS (SELECT 1 FROM public.file_procedures p WHERE p.reference = candidate) $$;
REVOKE ALL ON FUNCTION procedure_reference_taken(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION procedure_reference_taken(text) TO sesame_citizen, sesame_system;
