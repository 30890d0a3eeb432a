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

-- Static SQL over the transition tables: planned once per session, not per statement. Only
-- matches with confirmed units reach the joins, so a run storing proposals pays next to nothing.
-- Rows are upserted in key order, so concurrent writers lock them in one order.
CREATE FUNCTION confirmed_link_match_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO confirmed_link AS t (organisation, county, year, matches)
        SELECT o.organisation, n.county, extract(year FROM n.window_start)::integer, count(*)
        FROM new_rows r JOIN need n ON n.id = r.need JOIN offer o ON o.id = r.offer
        WHERE r.confirmed_units IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (organisation, county, year) DO UPDATE SET matches = t.matches + excluded.matches;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO confirmed_link AS t (organisation, county, year, matches)
        SELECT o.organisation, n.county, extract(year FROM n.window_start)::integer, sum(d.sign)
        FROM (SELECT need, offer, 1 AS sign FROM new_rows WHERE confirmed_units IS NOT NULL
              UNION ALL
              SELECT need, offer, -1 FROM old_rows WHERE confirmed_units IS NOT NULL) d
        JOIN need n ON n.id = d.need JOIN offer o ON o.id = d.offer
        GROUP BY 1, 2, 3 HAVING sum(d.sign) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (organisation, county, year) DO UPDATE SET matches = t.matches + excluded.matches;
    ELSE
        UPDATE confirmed_link t SET matches = t.matches - d.matches
        FROM (SELECT o.organisation, n.county, extract(year FROM n.window_start)::integer AS year, count(*) AS matches
              FROM old_rows r JOIN need n ON n.id = r.need JOIN offer o ON o.id = r.offer
              WHERE r.confirmed_units IS NOT NULL
              GROUP BY 1, 2, 3) d
        WHERE (t.organisation, t.county, t.year) = (d.organisation, d.county, d.year);
    END IF;
    RETURN NULL;
END $$;

-- A need whose window moves to another year takes its confirmed matches' links along.
CREATE FUNCTION confirmed_link_need_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO confirmed_link AS t (organisation, county, year, matches)
    SELECT o.organisation, d.county, d.year, sum(d.sign)
    FROM (SELECT x.id, x.county, extract(year FROM x.window_start)::integer AS year, 1 AS sign
          FROM old_rows b JOIN new_rows x ON x.id = b.id
          WHERE extract(year FROM x.window_start) <> extract(year FROM b.window_start) OR x.county <> b.county
          UNION ALL
          SELECT b.id, b.county, extract(year FROM b.window_start)::integer, -1
          FROM old_rows b JOIN new_rows x ON x.id = b.id
          WHERE extract(year FROM x.window_start) <> extract(year FROM b.window_start) OR x.county <> b.county) d
    JOIN match m ON m.need = d.id AND m.confirmed_units IS NOT NULL
    JOIN offer o ON o.id = m.offer
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
CREATE TRIGGER need_link_update AFTER UPDATE ON need REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION confirmed_link_need_moved();
CREATE TRIGGER match_link_truncate AFTER TRUNCATE ON match FOR EACH STATEMENT EXECUTE FUNCTION confirmed_link_truncated();
CREATE TRIGGER need_link_truncate AFTER TRUNCATE ON need FOR EACH STATEMENT EXECUTE FUNCTION confirmed_link_truncated();
CREATE TRIGGER offer_link_truncate AFTER TRUNCATE ON offer FOR EACH STATEMENT EXECUTE FUNCTION confirmed_link_truncated();

SELECT confirmed_link_recount();
