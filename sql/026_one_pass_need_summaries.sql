-- An import of 300,000 needs spent about a second in its statement's summary trigger, most of it
-- reading the statement's transition table (spilled to disk past work_mem) four times: twice for
-- the counties' check (their lock, then the missing ones) and twice for the upsert, whose deltas
-- 018 left unmaterialised so that need_fill and need_occupation_fill each computed them again,
-- and in a subquery per row that found the row's distinct occupation groups. A matching run's
-- 57,684 proposals paid the same second read, with a lookup of each proposal's need in it.
--
-- Now the counties are read once, into an array, and the deltas once: each under each of its
-- need's groups, aggregated at once to a few thousand rows. A need counts in need_fill once, so
-- its figures go there under the group of its first code only (`lead`); the occupation summary
-- sums every group.

-- Whether the code at `ordinal` (from 1) is the first of `codes` in its group: a need counts
-- once in each of its groups. An expression for the first three codes (most needs name one to
-- three), which the planner inlines into the statement instead of running a query per row.
CREATE FUNCTION occupation_group_first(codes text[], ordinal bigint) RETURNS boolean IMMUTABLE PARALLEL SAFE LANGUAGE sql AS $$
    SELECT CASE
        WHEN ordinal = 1 THEN true
        WHEN ordinal = 2 THEN occupation_group(codes[2]) <> occupation_group(codes[1])
        WHEN ordinal = 3 THEN occupation_group(codes[3]) <> occupation_group(codes[1])
                               AND occupation_group(codes[3]) <> occupation_group(codes[2])
        ELSE occupation_group(codes[ordinal]) <> ALL (occupation_groups(codes[:ordinal - 1]))
    END
$$;

CREATE OR REPLACE FUNCTION report_need_upsert(deltas text) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    WITH d AS NOT MATERIALIZED (%s),
    g AS MATERIALIZED (
        SELECT d.year, d.county, d.kind, occupation_group(u.code) AS occupation, u.ordinal = 1 AS lead,
               sum(d.needs) AS needs, sum(d.cancelled) AS cancelled, sum(d.demand) AS demand, sum(d.confirmed) AS confirmed,
               sum(d.open_needs) AS open_needs, sum(d.open_units) AS open_units, sum(d.proposed) AS proposed
        FROM d CROSS JOIN LATERAL unnest(d.occupations) WITH ORDINALITY AS u(code, ordinal)
        WHERE occupation_group_first(d.occupations, u.ordinal)
        GROUP BY d.year, d.county, d.kind, occupation, lead
    ),
    f AS (
        INSERT INTO need_fill AS t (year, county, kind, needs, cancelled, demand, confirmed, open_needs, open_units, proposed)
        SELECT year, county, kind, sum(needs), sum(cancelled), sum(demand), sum(confirmed), sum(open_needs),
               sum(open_units), sum(proposed)
        FROM g WHERE lead GROUP BY year, county, kind
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
    SELECT year, county, kind, occupation, sum(needs), sum(demand), sum(confirmed), sum(proposed)
    FROM g
    GROUP BY year, occupation, county, kind
    HAVING sum(abs(needs)) + sum(abs(demand)) + sum(abs(confirmed)) + sum(abs(proposed)) <> 0
    ORDER BY year, occupation, county, kind
    ON CONFLICT (year, occupation, county, kind) DO UPDATE SET
        needs = t.needs + excluded.needs, demand = t.demand + excluded.demand,
        confirmed = t.confirmed + excluded.confirmed, proposed = t.proposed + excluded.proposed
$q$, deltas)
$f$;

-- As in 022, with the counties read once.
CREATE FUNCTION report_need_counties_checked(counties char(6)[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    missing text;
BEGIN
    PERFORM FROM county c WHERE c.code = ANY (counties) FOR KEY SHARE;
    SELECT w INTO missing FROM unnest(counties) AS w WHERE NOT EXISTS (SELECT 1 FROM county c WHERE c.code = w) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'need names county %, which is not in table county', missing USING ERRCODE = 'foreign_key_violation';
    END IF;
END $$;

-- 022's, with the counties' check above.
CREATE OR REPLACE FUNCTION report_define_triggers() RETURNS void LANGUAGE plpgsql AS $define$
DECLARE
    -- A match's need and its offering organisation, looked up by key (see the top).
    need_of_r text := $s$ CROSS JOIN LATERAL (
            SELECT n.window_start, n.county, n.kind, n.occupations FROM need n WHERE n.id = r.need OFFSET 0) n$s$;
    organisation_of_r text := $s$ CROSS JOIN LATERAL (
            SELECT g.province, g.city FROM offer o JOIN organisation g ON g.id = o.organisation WHERE o.id = r.offer
            OFFSET 0) g$s$;
    -- Needs whose window moved to another year, before (sign -1) and after (sign 1), as n:
    -- their matches move along.
    moved_needs text := $s$(
        SELECT sign, id, window_start, county, kind, occupations FROM (
            SELECT b.*, min(b.year) OVER w <> max(b.year) OVER w AS moved
            FROM (SELECT -1 AS sign, id, extract(year FROM window_start) AS year, window_start, county, kind, occupations
                  FROM old_rows
                  UNION ALL
                  SELECT 1, id, extract(year FROM window_start), window_start, county, kind, occupations FROM new_rows) AS b
            WINDOW w AS (PARTITION BY b.id)
        ) AS v WHERE moved) n$s$;
    matches_of_n text := $s$ CROSS JOIN LATERAL (SELECT * FROM match m WHERE m.need = n.id OFFSET 0) r$s$;
    -- Organisations that moved to another province or city, before and after, as g.
    moved_organisations text := $s$(
        SELECT sign, id, province, city FROM (
            SELECT b.*, min(b.province) OVER w <> max(b.province) OVER w OR min(b.city) OVER w <> max(b.city) OVER w AS moved
            FROM (SELECT -1 AS sign, id, province, city FROM old_rows
                  UNION ALL
                  SELECT 1, id, province, city FROM new_rows) AS b
            WINDOW w AS (PARTITION BY b.id)
        ) AS v WHERE moved) g$s$;
    matches_of_g text := $s$ CROSS JOIN LATERAL (SELECT o.id FROM offer o WHERE o.organisation = g.id OFFSET 0) o
        CROSS JOIN LATERAL (SELECT * FROM match m WHERE m.offer = o.id OFFSET 0) r$s$;
BEGIN
    -- The counties' check is 018's, its statements above.
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION report_need_changed() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $body$
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                PERFORM report_need_counties_checked(ARRAY(SELECT DISTINCT county FROM new_rows));
            END IF;
            IF TG_OP = 'INSERT' THEN
                %1$s;
            ELSIF TG_OP = 'DELETE' THEN
                %2$s;
            ELSE
                %3$s;
                %4$s;
            END IF;
            RETURN NULL;
        END $body$
        $f$,
        report_need_upsert(report_need_deltas('new_rows', 1)),
        report_need_upsert(report_need_deltas('old_rows', -1)),
        report_need_upsert(
            report_need_deltas('old_rows', -1) || ' UNION ALL ' || report_need_deltas('new_rows', 1)
            || ' UNION ALL ' || report_proposal_select(moved_needs || matches_of_n, 'n.sign')),
        report_flow_upsert(report_match_select(moved_needs || matches_of_n || organisation_of_r, 'n.sign')));

    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION report_match_changed() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $body$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                %1$s;
                %2$s;
            ELSIF TG_OP = 'DELETE' THEN
                %3$s;
                %4$s;
            ELSE
                %5$s;
                %6$s;
            END IF;
            RETURN NULL;
        END $body$
        $f$,
        report_need_upsert(report_proposal_select('new_rows r' || need_of_r, '1')),
        report_flow_upsert(report_match_select('new_rows r' || need_of_r || organisation_of_r, '1')),
        report_need_upsert(report_proposal_select('old_rows r' || need_of_r, '-1')),
        report_flow_upsert(report_match_select('old_rows r' || need_of_r || organisation_of_r, '-1')),
        report_need_upsert(
            report_proposal_select('old_rows r' || need_of_r, '-1') || ' UNION ALL '
            || report_proposal_select('new_rows r' || need_of_r, '1')),
        report_flow_upsert(
            report_match_select('old_rows r' || need_of_r || organisation_of_r, '-1') || ' UNION ALL '
            || report_match_select('new_rows r' || need_of_r || organisation_of_r, '1')));

    -- ORG UPDATE may change an organisation's city: its matches move with it.
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION report_organisation_changed() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $body$
        BEGIN
            %1$s;
            RETURN NULL;
        END $body$
        $f$,
        report_flow_upsert(report_match_select(moved_organisations || matches_of_g || need_of_r, 'g.sign')));

    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION report_offer_changed() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $body$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                DELETE FROM offer_slot WHERE offer = ANY (ARRAY(SELECT id FROM old_rows));
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                %1$s;
            END IF;
            IF TG_OP = 'INSERT' THEN
                %2$s;
            ELSIF TG_OP = 'DELETE' THEN
                %3$s;
            ELSE
                %4$s;
            END IF;
            RETURN NULL;
        END $body$
        $f$,
        report_offer_slots('new_rows'),
        report_offer_totals_upsert(report_offer_totals('new_rows', 1)),
        report_offer_totals_upsert(report_offer_totals('old_rows', -1)),
        report_offer_totals_upsert(report_offer_totals('old_rows', -1) || ' UNION ALL ' || report_offer_totals('new_rows', 1)));
END $define$;

SELECT report_define_triggers();
