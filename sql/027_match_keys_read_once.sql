-- 024's check of a matching run's proposals read the statement's transition table four times
-- (57,684 rows of about 545 bytes, each with its explanation): once for each of the three
-- locks, and once more probing need, offer and run for every row to find one that is missing.
-- Now the rows are read once, into the distinct keys they name; each referenced table is locked
-- through its keys, and the rows locked are counted: only when fewer than the keys were found
-- is the missing key looked for, to name it.
CREATE OR REPLACE FUNCTION match_keys_exist() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    needs bigint[];
    offers bigint[];
    runs bigint[];
    locked bigint;
    missing text;
BEGIN
    SELECT array_agg(DISTINCT need), array_agg(DISTINCT offer), array_agg(DISTINCT run) INTO needs, offers, runs FROM new_rows;
    IF needs IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM FROM need n WHERE n.id = ANY (needs) FOR KEY SHARE;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked < cardinality(needs) THEN
        SELECT format('need %s', k) INTO missing FROM unnest(needs) AS k WHERE NOT EXISTS (SELECT 1 FROM need n WHERE n.id = k) LIMIT 1;
    END IF;
    PERFORM FROM offer o WHERE o.id = ANY (offers) FOR KEY SHARE;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF missing IS NULL AND locked < cardinality(offers) THEN
        SELECT format('offer %s', k) INTO missing FROM unnest(offers) AS k WHERE NOT EXISTS (SELECT 1 FROM offer o WHERE o.id = k) LIMIT 1;
    END IF;
    PERFORM FROM match_run r WHERE r.id = ANY (runs) FOR KEY SHARE;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF missing IS NULL AND locked < cardinality(runs) THEN
        SELECT format('run %s', k) INTO missing FROM unnest(runs) AS k WHERE NOT EXISTS (SELECT 1 FROM match_run r WHERE r.id = k) LIMIT 1;
    END IF;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'a proposal names %, which does not exist', missing USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
