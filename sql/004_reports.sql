-- Administrators' queries (STATS, UNMET, FILL, REPORT, PAIRING FLOW): summary tables kept by
-- statement-level triggers in the same transactions as the writes, so sums over millions of
-- needs and matches are read from a few thousand rows. A need belongs to the year its window
-- starts; its matches count in that year too.

-- Per year, county and kind: needs (all), cancelled, demand (units of needs not cancelled),
-- confirmed (need.matched), open needs and their open units, units in proposals awaiting answers.
CREATE TABLE need_fill (
    year        integer NOT NULL,
    county      char(6) NOT NULL,
    kind        text NOT NULL,
    needs       bigint NOT NULL DEFAULT 0,
    cancelled   bigint NOT NULL DEFAULT 0,
    demand      bigint NOT NULL DEFAULT 0,
    confirmed   bigint NOT NULL DEFAULT 0,
    open_needs  bigint NOT NULL DEFAULT 0,
    open_units  bigint NOT NULL DEFAULT 0,
    proposed    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (year, county, kind)
);

-- The same by occupation group (the code's mid group, e.g. 6-01, or a bare major group): a need
-- naming two groups counts in both, so these rows are never summed across groups.
CREATE TABLE need_occupation_fill (
    year        integer NOT NULL,
    county      char(6) NOT NULL,
    kind        text NOT NULL,
    occupation  text NOT NULL,
    needs       bigint NOT NULL DEFAULT 0,
    demand      bigint NOT NULL DEFAULT 0,
    confirmed   bigint NOT NULL DEFAULT 0,
    proposed    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (year, occupation, county, kind)
);

-- Matches by the need's year, county and kind and the offering organisation's province and city:
-- what flows along each pairing.
CREATE TABLE match_flow (
    year                integer NOT NULL,
    county              char(6) NOT NULL,
    kind                text NOT NULL,
    east_province       text NOT NULL,
    east_city           text NOT NULL,
    proposed_matches    bigint NOT NULL DEFAULT 0,
    proposed_units      bigint NOT NULL DEFAULT 0,
    confirmed_matches   bigint NOT NULL DEFAULT 0,
    confirmed_units     bigint NOT NULL DEFAULT 0,
    placed_units        bigint NOT NULL DEFAULT 0,
    declined_matches    bigint NOT NULL DEFAULT 0,
    declined_units      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (year, county, kind, east_province, east_city)
);
CREATE INDEX match_flow_east ON match_flow (east_province, year);

-- The groups an occupation array counts under: the first 4 characters of each code (the mid
-- group 6-01 of 6-01-02-03; a bare major group stays itself).
CREATE FUNCTION occupation_groups(codes text[]) RETURNS text[] IMMUTABLE PARALLEL SAFE LANGUAGE sql
    AS $$ SELECT array(SELECT DISTINCT left(c, 4) FROM unnest(codes) AS c ORDER BY 1) $$;

-- UNMET reads open needs most urgent first, paging on the sort key itself.
CREATE INDEX need_unmet ON need ((-priority), (NOT poverty_focus), window_start, id)
    WHERE status IN ('open', 'partly_matched');
CREATE INDEX need_unmet_county ON need (county, (-priority), (NOT poverty_focus), window_start, id)
    WHERE status IN ('open', 'partly_matched');
CREATE INDEX need_unmet_province ON need (left(county, 2), (-priority), (NOT poverty_focus), window_start, id)
    WHERE status IN ('open', 'partly_matched');

-- Open offers under each of their codes and groups, the largest open capacity first: UNMET
-- takes the few most promising offers per need from an index range instead of scanning every
-- offer of a popular occupation group.
CREATE TABLE offer_slot (
    kind            text NOT NULL,
    key             text NOT NULL,
    open_units      integer NOT NULL,
    offer           bigint NOT NULL,
    organisation    bigint NOT NULL,
    window_start    date NOT NULL,
    window_end      date NOT NULL,
    PRIMARY KEY (kind, key, offer)
);
CREATE INDEX offer_slot_best ON offer_slot (kind, key, open_units DESC, offer);
CREATE INDEX offer_slot_offer ON offer_slot (offer);

-- Offers by kind: counts and open capacity for STATS.
CREATE TABLE offer_totals (
    kind            text PRIMARY KEY,
    offers          bigint NOT NULL DEFAULT 0,
    open_offers     bigint NOT NULL DEFAULT 0,
    open_capacity   bigint NOT NULL DEFAULT 0
);

-- The upserts. `deltas` is a query giving signed contributions; rows whose sums cancel out
-- (an update that changed nothing counted) touch nothing. ORDER BY the key: concurrent
-- writers lock summary rows in one order and cannot deadlock on them.
CREATE FUNCTION report_need_upsert(deltas text) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    WITH d AS (%s),
    f AS (
        INSERT INTO need_fill AS t (year, county, kind, needs, cancelled, demand, confirmed, open_needs, open_units, proposed)
        SELECT year, county, kind, sum(needs), sum(cancelled), sum(demand), sum(confirmed), sum(open_needs),
               sum(open_units), sum(proposed)
        FROM d GROUP BY year, county, kind
        HAVING sum(abs(needs)) + sum(abs(cancelled)) + sum(abs(demand)) + sum(abs(confirmed)) + sum(abs(open_needs))
               + sum(abs(open_units)) + sum(abs(proposed)) <> 0
        ORDER BY year, county, kind
        ON CONFLICT (year, county, kind) DO UPDATE SET
            needs = t.needs + excluded.needs, cancelled = t.cancelled + excluded.cancelled,
            demand = t.demand + excluded.demand, confirmed = t.confirmed + excluded.confirmed,
            open_needs = t.open_needs + excluded.open_needs, open_units = t.open_units + excluded.open_units,
            proposed = t.proposed + excluded.proposed
    )
    INSERT INTO need_occupation_fill AS t (year, county, kind, occupation, needs, demand, confirmed, proposed)
    SELECT year, county, kind, g.occupation, sum(needs), sum(demand), sum(confirmed), sum(proposed)
    FROM d CROSS JOIN LATERAL unnest(occupation_groups(d.occupations)) AS g(occupation)
    GROUP BY year, g.occupation, county, kind
    HAVING sum(abs(needs)) + sum(abs(demand)) + sum(abs(confirmed)) + sum(abs(proposed)) <> 0
    ORDER BY year, g.occupation, county, kind
    ON CONFLICT (year, occupation, county, kind) DO UPDATE SET
        needs = t.needs + excluded.needs, demand = t.demand + excluded.demand,
        confirmed = t.confirmed + excluded.confirmed, proposed = t.proposed + excluded.proposed
$q$, deltas)
$f$;

-- A need's own contribution, from a table of need rows, with the given sign.
CREATE FUNCTION report_need_deltas(source text, sign integer) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    SELECT extract(year FROM r.window_start)::integer AS year, r.county, r.kind, r.occupations,
           %2$s AS needs, %2$s * (r.status = 'cancelled')::integer AS cancelled,
           %2$s * CASE WHEN r.status <> 'cancelled' THEN r.quantity ELSE 0 END AS demand,
           %2$s * r.matched AS confirmed,
           %2$s * (r.status IN ('open', 'partly_matched'))::integer AS open_needs,
           %2$s * CASE WHEN r.status IN ('open', 'partly_matched') THEN r.quantity - r.matched ELSE 0 END AS open_units,
           0 AS proposed
    FROM %1$s r
$q$, source, sign)
$f$;

-- Proposed units that a table of match rows adds to (or takes from) their needs' summaries;
-- `needs` is the need table, or the old or new rows of needs that moved to another year.
CREATE FUNCTION report_proposal_deltas(matches text, sign integer, needs text DEFAULT 'need') RETURNS text
    IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    SELECT extract(year FROM n.window_start)::integer AS year, n.county, n.kind, n.occupations,
           0 AS needs, 0 AS cancelled, 0 AS demand, 0 AS confirmed, 0 AS open_needs, 0 AS open_units,
           %2$s * r.units AS proposed
    FROM %1$s r JOIN %3$s n ON n.id = r.need
    WHERE r.status = 'proposed'
$q$, matches, sign, needs)
$f$;

-- Match rows as signed flows, keyed by the need's year and county and the organisation's
-- province and city (taken from `needs` and `organisations`, so a move can use old values).
CREATE FUNCTION report_match_rows(matches text, sign integer, needs text DEFAULT 'need',
                                  organisations text DEFAULT 'organisation') RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    SELECT extract(year FROM n.window_start)::integer AS year, n.county, n.kind, g.province AS east_province,
           g.city AS east_city,
           %2$s * (r.status = 'proposed')::integer AS proposed_matches,
           %2$s * CASE WHEN r.status = 'proposed' THEN r.units ELSE 0 END AS proposed_units,
           %2$s * (r.status = 'confirmed')::integer AS confirmed_matches,
           %2$s * CASE WHEN r.status = 'confirmed' THEN coalesce(r.confirmed_units, r.units) ELSE 0 END AS confirmed_units,
           %2$s * r.placed_units AS placed_units,
           %2$s * (r.status = 'declined')::integer AS declined_matches,
           %2$s * CASE WHEN r.status = 'declined' THEN r.units ELSE 0 END AS declined_units
    FROM %1$s r JOIN %3$s n ON n.id = r.need JOIN offer o ON o.id = r.offer JOIN %4$s g ON g.id = o.organisation
$q$, matches, sign, needs, organisations)
$f$;

CREATE FUNCTION report_flow_upsert(deltas text) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    INSERT INTO match_flow AS t (year, county, kind, east_province, east_city, proposed_matches, proposed_units,
                                 confirmed_matches, confirmed_units, placed_units, declined_matches, declined_units)
    SELECT * FROM (
        SELECT year, county, kind, east_province, east_city, sum(proposed_matches) AS pm, sum(proposed_units) AS pu,
               sum(confirmed_matches) AS cm, sum(confirmed_units) AS cu, sum(placed_units) AS pl,
               sum(declined_matches) AS dm, sum(declined_units) AS du
        FROM (%s) AS d GROUP BY year, county, kind, east_province, east_city
    ) AS s
    WHERE pm <> 0 OR pu <> 0 OR cm <> 0 OR cu <> 0 OR pl <> 0 OR dm <> 0 OR du <> 0
    ORDER BY year, county, kind, east_province, east_city
    ON CONFLICT (year, county, kind, east_province, east_city) DO UPDATE SET
        proposed_matches = t.proposed_matches + excluded.proposed_matches,
        proposed_units = t.proposed_units + excluded.proposed_units,
        confirmed_matches = t.confirmed_matches + excluded.confirmed_matches,
        confirmed_units = t.confirmed_units + excluded.confirmed_units,
        placed_units = t.placed_units + excluded.placed_units,
        declined_matches = t.declined_matches + excluded.declined_matches,
        declined_units = t.declined_units + excluded.declined_units
$q$, deltas)
$f$;

-- Transition tables are visible only to statements run by the trigger function itself, so each
-- function EXECUTEs the SQL the helpers above build.
CREATE FUNCTION report_need_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- Needs whose window moved to another year, before and after: their matches move along.
    moved_old text := '(SELECT o.* FROM old_rows o JOIN new_rows x ON x.id = o.id
                        WHERE extract(year FROM x.window_start) <> extract(year FROM o.window_start))';
    moved_new text := '(SELECT x.* FROM old_rows o JOIN new_rows x ON x.id = o.id
                        WHERE extract(year FROM x.window_start) <> extract(year FROM o.window_start))';
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE report_need_upsert(report_need_deltas('new_rows', 1));
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE report_need_upsert(report_need_deltas('old_rows', -1));
    ELSE
        EXECUTE report_need_upsert(
            report_need_deltas('old_rows', -1) || ' UNION ALL ' || report_need_deltas('new_rows', 1)
            || ' UNION ALL ' || report_proposal_deltas('match', -1, moved_old)
            || ' UNION ALL ' || report_proposal_deltas('match', 1, moved_new));
        EXECUTE report_flow_upsert(
            report_match_rows('match', -1, moved_old) || ' UNION ALL ' || report_match_rows('match', 1, moved_new));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION report_match_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE report_need_upsert(report_proposal_deltas('new_rows', 1));
        EXECUTE report_flow_upsert(report_match_rows('new_rows', 1));
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE report_need_upsert(report_proposal_deltas('old_rows', -1));
        EXECUTE report_flow_upsert(report_match_rows('old_rows', -1));
    ELSE
        EXECUTE report_need_upsert(report_proposal_deltas('old_rows', -1) || ' UNION ALL ' || report_proposal_deltas('new_rows', 1));
        EXECUTE report_flow_upsert(report_match_rows('old_rows', -1) || ' UNION ALL ' || report_match_rows('new_rows', 1));
    END IF;
    RETURN NULL;
END $$;

-- ORG UPDATE may change an organisation's city: its matches move with it.
CREATE FUNCTION report_organisation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE report_flow_upsert(
        report_match_rows('match', -1, 'need',
            '(SELECT o.* FROM old_rows o JOIN new_rows x ON x.id = o.id WHERE (x.province, x.city) <> (o.province, o.city))')
        || ' UNION ALL ' ||
        report_match_rows('match', 1, 'need',
            '(SELECT x.* FROM old_rows o JOIN new_rows x ON x.id = o.id WHERE (x.province, x.city) <> (o.province, o.city))'));
    RETURN NULL;
END $$;

CREATE FUNCTION report_offer_slots(source text) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    INSERT INTO offer_slot (kind, key, open_units, offer, organisation, window_start, window_end)
    SELECT DISTINCT r.kind, k.key, r.capacity - r.matched, r.id, r.organisation, r.window_start, r.window_end
    FROM %s r CROSS JOIN LATERAL unnest(r.occupations || occupation_groups(r.occupations)) AS k(key)
    WHERE r.status IN ('open', 'partly_matched') AND r.capacity > r.matched
    ORDER BY 1, 2, 4
$q$, source)
$f$;

CREATE FUNCTION report_offer_totals(source text, sign integer) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    SELECT r.kind, %2$s AS offers, %2$s * (r.status IN ('open', 'partly_matched'))::integer AS open_offers,
           %2$s * CASE WHEN r.status IN ('open', 'partly_matched') THEN r.capacity - r.matched ELSE 0 END AS open_capacity
    FROM %1$s r
$q$, source, sign)
$f$;

CREATE FUNCTION report_offer_totals_upsert(deltas text) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    INSERT INTO offer_totals AS t (kind, offers, open_offers, open_capacity)
    SELECT kind, sum(offers), sum(open_offers), sum(open_capacity) FROM (%s) AS d GROUP BY kind
    HAVING sum(abs(offers)) + sum(abs(open_offers)) + sum(abs(open_capacity)) <> 0
       AND (sum(offers) <> 0 OR sum(open_offers) <> 0 OR sum(open_capacity) <> 0)
    ORDER BY kind
    ON CONFLICT (kind) DO UPDATE SET offers = t.offers + excluded.offers, open_offers = t.open_offers + excluded.open_offers,
        open_capacity = t.open_capacity + excluded.open_capacity
$q$, deltas)
$f$;

CREATE FUNCTION report_offer_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM offer_slot WHERE offer IN (SELECT id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE report_offer_slots('new_rows');
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE report_offer_totals_upsert(report_offer_totals('new_rows', 1));
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE report_offer_totals_upsert(report_offer_totals('old_rows', -1));
    ELSE
        EXECUTE report_offer_totals_upsert(report_offer_totals('old_rows', -1) || ' UNION ALL ' || report_offer_totals('new_rows', 1));
    END IF;
    RETURN NULL;
END $$;

-- The summaries from scratch: when this migration is applied to a database with rows, and after
-- a TRUNCATE (which row triggers never see).
CREATE FUNCTION report_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM need_fill;
    DELETE FROM need_occupation_fill;
    DELETE FROM match_flow;
    DELETE FROM offer_slot;
    DELETE FROM offer_totals;
    EXECUTE report_offer_slots('offer');
    EXECUTE report_offer_totals_upsert(report_offer_totals('offer', 1));
    EXECUTE report_need_upsert(report_need_deltas('need', 1) || ' UNION ALL ' || report_proposal_deltas('match', 1));
    EXECUTE report_flow_upsert(report_match_rows('match', 1));
END $$;

CREATE FUNCTION report_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM report_rebuild();
    RETURN NULL;
END $$;

CREATE TRIGGER need_report_insert AFTER INSERT ON need REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_need_changed();
CREATE TRIGGER need_report_update AFTER UPDATE ON need REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_need_changed();
CREATE TRIGGER need_report_delete AFTER DELETE ON need REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_need_changed();
CREATE TRIGGER match_report_insert AFTER INSERT ON match REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_match_changed();
CREATE TRIGGER match_report_update AFTER UPDATE ON match REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_match_changed();
CREATE TRIGGER match_report_delete AFTER DELETE ON match REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_match_changed();
CREATE TRIGGER organisation_report_update AFTER UPDATE ON organisation REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_organisation_changed();
CREATE TRIGGER offer_report_insert AFTER INSERT ON offer REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_offer_changed();
CREATE TRIGGER offer_report_update AFTER UPDATE ON offer REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_offer_changed();
CREATE TRIGGER offer_report_delete AFTER DELETE ON offer REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION report_offer_changed();
CREATE TRIGGER offer_report_truncate AFTER TRUNCATE ON offer FOR EACH STATEMENT EXECUTE FUNCTION report_truncated();
CREATE TRIGGER need_report_truncate AFTER TRUNCATE ON need FOR EACH STATEMENT EXECUTE FUNCTION report_truncated();
CREATE TRIGGER match_report_truncate AFTER TRUNCATE ON match FOR EACH STATEMENT EXECUTE FUNCTION report_truncated();

SELECT report_rebuild();

-- Every query of this service is short: JIT compilation (tens to hundreds of milliseconds, chosen
-- whenever a plan's estimated cost passes jit_above_cost, as a LATERAL over a page of needs does)
-- would cost more than it could save. Only an owner may change it; elsewhere an administrator can.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET jit = off', current_database());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'jit stays as configured: only the database owner can set it for the database';
END $$;
