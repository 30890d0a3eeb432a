-- Every change to a county is told to the running servers when it commits (NOTIFY carries its
-- code), so a server may answer COUNTY SHOW from memory and still show an edit at once,
-- whichever instance made it, or a person by hand. New counties need no word: only counties
-- read are remembered. TRUNCATE has no rows to name: the servers forget every county.
CREATE FUNCTION county_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ewmatch_county', CASE TG_OP WHEN 'TRUNCATE' THEN '*' ELSE OLD.code END);
    RETURN NULL;
END
$$;

CREATE TRIGGER county_changed AFTER UPDATE OR DELETE ON county
    FOR EACH ROW EXECUTE FUNCTION county_notify();

CREATE TRIGGER county_truncated AFTER TRUNCATE ON county
    FOR EACH STATEMENT EXECUTE FUNCTION county_notify();
