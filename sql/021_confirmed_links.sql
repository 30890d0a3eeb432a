-- The links that worked, for the continuity score: an organisation had `matches` matches
-- confirmed with a county, for needs whose window starts in `year`. Every MATCH RUN and UNMET's
-- candidates read them; deriving them from match ⋈ need ⋈ offer each time took 0.6–1.5 s at a
-- million needs (bench/queries.sh). A match counts once it holds confirmed units, whatever
-- becomes of it later, as before (`confirmed_units IS NOT NULL`). A link whose count falls to 0
-- (a need moved to another year) stays as a row of 0, which readers skip. (No CHECK on it: an
-- upsert's negative delta is checked as a row to insert before it meets the row it updates.)
-- Keyed by organisation first: the readers hold a page of needs and the offers that could serve
-- them, and an organisation has few links where a county and year can have thousands.
CREATE TABLE confirmed_link (
    organisation bigint  NOT NULL,
    county       text    NOT NULL,
    year         integer NOT NULL,
    matches      bigint  NOT NULL,
    PRIMARY KEY (organisation, county, year)
);

-- Adds each match's sign (+1 confirmed, -1 no longer counted) to its link. Every statement of
-- these triggers is static, planned once per session and then kept for statements of any size
-- (a plan PostgreSQL keeps is made for the row count of its first use): so nothing here joins
-- a transition table, whose size varies, to a table. The need and the offer are read by key
-- (OFFSET 0 keeps each lookup a lookup: the planner may not turn it into a join over the whole
-- table), and the deltas arrive as arrays, whose size the planner never guesses from the data.
-- Rows are upserted in key order, so concurrent writers lock them in one order. JIT is off as
-- in 022's triggers: a plan kept from a large statement would have every later one compiled.
CREATE FUNCTION confirmed_link_add(needs bigint[], offers bigint[], signs integer[]) RETURNS void LANGUAGE plpgsql
    SET jit = off AS $$
BEGIN
    INSERT INTO confirmed_link AS t (organisation, county, year, matches)
    SELECT o.organisation, n.county, n.year, sum(d.sign)
    FROM unnest(needs, offers, signs) AS d(need, offer, sign)
    CROSS JOIN LATERAL (SELECT county, extract(year FROM window_start)::integer AS year FROM need WHERE id = d.need OFFSET 0) n
    CROSS JOIN LATERAL (SELECT organisation FROM offer WHERE id = d.offer OFFSET 0) o
    GROUP BY 1, 2, 3 HAVING sum(d.sign) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (organisation, county, year) DO UPDATE SET matches = t.matches + excluded.matches;
END $$;

-- Only matches holding confirmed units reach the lookups, so a run storing proposals pays for
-- a scan of its rows and nothing more.
CREATE FUNCTION confirmed_link_match_changed() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM confirmed_link_add(array_agg(need), array_agg(offer), array_agg(1))
        FROM new_rows WHERE confirmed_units IS NOT NULL HAVING count(*) > 0;
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM confirmed_link_add(array_agg(d.need), array_agg(d.offer), array_agg(d.sign))
        FROM (SELECT need, offer, 1 AS sign FROM new_rows WHERE confirmed_units IS NOT NULL
              UNION ALL
              SELECT need, offer, -1 FROM old_rows WHERE confirmed_units IS NOT NULL) d
        HAVING count(*) > 0;
    ELSE
        PERFORM confirmed_link_add(array_agg(need), array_agg(offer), array_agg(-1))
        FROM old_rows WHERE confirmed_units IS NOT NULL HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END $$;

-- A need whose window moves to another year takes its confirmed matches' links along. A row
-- trigger with a WHEN clause: the many updates that move nothing (every answer updates its
-- need's matched units) never call it.
CREATE FUNCTION confirmed_link_need_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO confirmed_link AS t (organisation, county, year, matches)
    SELECT o.organisation, d.county, d.year, sum(d.sign)
    FROM match m
    JOIN offer o ON o.id = m.offer
    CROSS JOIN (VALUES (NEW.county, extract(year FROM NEW.window_start)::integer, 1),
                       (OLD.county, extract(year FROM OLD.window_start)::integer, -1)) AS d(county, year, sign)
    WHERE m.need = NEW.id AND m.confirmed_units IS NOT NULL
    GROUP BY 1, 2, 3 HAVING sum(d.sign) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (organisation, county, year) DO UPDATE SET matches = t.matches + excluded.matches;
    RETURN NULL;
END $$;

-- From scratch: now, and after a TRUNCATE (which row and statement triggers never see).
CREATE FUNCTION confirmed_link_recount() RETURNS void LANGUAGE sql AS $$
    DELETE FROM confirmed_link;
    INSERT INTO confirmed_link (organisation, county, year, matches)
    SELECT o.organisation, n.county, extract(year FROM n.window_start)::integer, count(*)
    FROM match m JOIN need n ON n.id = m.need JOIN offer o ON o.id = m.offer
    WHERE m.confirmed_units IS NOT NULL
    GROUP BY 1, 2, 3;
$$;

CREATE FUNCTION confirmed_link_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM confirmed_link_recount();
    RETURN NULL;
END $$;

CREATE TRIGGER match_link_insert AFTER INSERT ON match REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION confirmed_link_match_changed();
CREATE TRIGGER match_link_update AFTER UPDATE ON match REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION confirmed_link_match_changed();
CREATE TRIGGER match_link_delete AFTER DELETE ON match REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION confirmed_link_match_changed();
CREATE TRIGGER need_link_moved AFTER UPDATE OF window_start, county ON need FOR EACH ROW
    WHEN (extract(year FROM OLD.window_start) <> extract(year FROM NEW.window_start) OR OLD.county <> NEW.county)
    EXECUTE FUNCTION confirmed_link_need_moved();
CREATE TRIGGER match_link_truncate AFTER TRUNCATE ON match FOR EACH STATEMENT EXECUTE FUNCTION confirmed_link_truncated();
CREATE TRIGGER need_link_truncate AFTER TRUNCATE ON need FOR EACH STATEMENT EXECUTE FUNCTION confirmed_link_truncated();
CREATE TRIGGER offer_link_truncate AFTER TRUNCATE ON offer FOR EACH STATEMENT EXECUTE FUNCTION confirmed_link_truncated();

SELECT confirmed_link_recount();
