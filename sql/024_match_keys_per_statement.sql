-- A matching run stores its proposals with one COPY, and each row checked its need, offer and
-- run with a query and a row lock of its own: 1.35 s of the 2.6 s a national run (57,684
-- proposals) took to store. The checks are now one statement per insert: the rows' needs,
-- offers and runs are locked as the foreign keys locked them (FOR KEY SHARE: none can be
-- deleted or recoded until the insert's transaction ends), then any key that names no row is
-- refused with the foreign key's error. The referenced tables refuse to delete, recode or
-- truncate rows that proposals name, as they did.
ALTER TABLE match DROP CONSTRAINT match_need_fkey, DROP CONSTRAINT match_offer_fkey, DROP CONSTRAINT match_run_fkey;

CREATE FUNCTION match_keys_exist() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    missing text;
BEGIN
    PERFORM FROM need n WHERE n.id IN (SELECT need FROM new_rows) FOR KEY SHARE;
    PERFORM FROM offer o WHERE o.id IN (SELECT offer FROM new_rows) FOR KEY SHARE;
    PERFORM FROM match_run r WHERE r.id IN (SELECT run FROM new_rows) FOR KEY SHARE;
    SELECT CASE
               WHEN NOT EXISTS (SELECT 1 FROM need n WHERE n.id = m.need) THEN format('need %s', m.need)
               WHEN NOT EXISTS (SELECT 1 FROM offer o WHERE o.id = m.offer) THEN format('offer %s', m.offer)
               ELSE format('run %s', m.run)
           END
    INTO missing
    FROM new_rows m
    WHERE NOT EXISTS (SELECT 1 FROM need n WHERE n.id = m.need)
       OR NOT EXISTS (SELECT 1 FROM offer o WHERE o.id = m.offer)
       OR NOT EXISTS (SELECT 1 FROM match_run r WHERE r.id = m.run)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a proposal names %, which does not exist', missing USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER match_keys_insert AFTER INSERT ON match REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION match_keys_exist();

-- ewmatch never moves a proposal to another need, offer or run; a change by hand is checked
-- row by row (a statement trigger with transition tables cannot name columns).
CREATE FUNCTION match_keys_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM FROM need WHERE id = NEW.need FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'a proposal names need %, which does not exist', NEW.need USING ERRCODE = 'foreign_key_violation';
    END IF;
    PERFORM FROM offer WHERE id = NEW.offer FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'a proposal names offer %, which does not exist', NEW.offer USING ERRCODE = 'foreign_key_violation';
    END IF;
    PERFORM FROM match_run WHERE id = NEW.run FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'a proposal names run %, which does not exist', NEW.run USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER match_keys_update BEFORE UPDATE OF need, offer, run ON match
    FOR EACH ROW WHEN (OLD.need <> NEW.need OR OLD.offer <> NEW.offer OR OLD.run <> NEW.run)
    EXECUTE FUNCTION match_keys_moved();

CREATE FUNCTION named_by_proposals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (SELECT 1 FROM match) THEN
            RAISE EXCEPTION 'cannot truncate %: proposals name its rows', TG_TABLE_NAME USING ERRCODE = 'foreign_key_violation';
        END IF;
    ELSIF (TG_OP = 'DELETE' OR NEW.id <> OLD.id) AND EXISTS (
        SELECT 1 FROM match m
        WHERE CASE TG_TABLE_NAME WHEN 'need' THEN m.need WHEN 'offer' THEN m.offer ELSE m.run END = OLD.id
    ) THEN
        RAISE EXCEPTION '% % is named by proposals', TG_TABLE_NAME, OLD.id USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'UPDATE' THEN NEW ELSE OLD END;
END $$;
CREATE TRIGGER need_named_by_proposals BEFORE DELETE OR UPDATE OF id ON need
    FOR EACH ROW EXECUTE FUNCTION named_by_proposals();
CREATE TRIGGER need_truncate_named_by_proposals BEFORE TRUNCATE ON need
    FOR EACH STATEMENT EXECUTE FUNCTION named_by_proposals();
CREATE TRIGGER offer_named_by_proposals BEFORE DELETE OR UPDATE OF id ON offer
    FOR EACH ROW EXECUTE FUNCTION named_by_proposals();
CREATE TRIGGER offer_truncate_named_by_proposals BEFORE TRUNCATE ON offer
    FOR EACH STATEMENT EXECUTE FUNCTION named_by_proposals();
CREATE TRIGGER match_run_named_by_proposals BEFORE DELETE OR UPDATE OF id ON match_run
    FOR EACH ROW EXECUTE FUNCTION named_by_proposals();
CREATE TRIGGER match_run_truncate_named_by_proposals BEFORE TRUNCATE ON match_run
    FOR EACH STATEMENT EXECUTE FUNCTION named_by_proposals();
