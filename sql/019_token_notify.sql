-- Every change to a token is told to the running servers when it commits (NOTIFY carries the
-- token's id), so a server may keep the tokens it has seen valid in memory and still stop a
-- revoked one at once, whichever instance revoked it, or a person by hand.
CREATE FUNCTION api_token_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ewmatch_token', OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_token_changed AFTER UPDATE OR DELETE ON api_token
    FOR EACH ROW EXECUTE FUNCTION api_token_notify();

-- TRUNCATE has no rows to name: the servers forget every token.
CREATE FUNCTION api_token_notify_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ewmatch_token', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_token_truncated AFTER TRUNCATE ON api_token
    FOR EACH STATEMENT EXECUTE FUNCTION api_token_notify_all();
