-- The summary triggers run static SQL. Since 004 they built their statements with the format()
-- helpers and EXECUTEd them, on the claim that transition tables are visible only to statements
-- run that way. They are not: PL/pgSQL's static statements name them directly. An EXECUTEd
-- statement is parsed and planned on every call, which was most of a one-row NEED ADD's time
-- in PostgreSQL (the trigger 1.8 ms of its 2.5 ms); a static one is planned once per connection
-- and trigger, and its plan kept.
--
-- A kept plan is made for the row count the transition table had when its statement first ran
-- (PostgreSQL reads the count when it parses the statement) and then serves every later
-- statement on that connection, of one row or a million (an import, a matching run's
-- proposals). So the statements below are written to have one right plan at any size:
--   * a row's need, offer or organisation is a LATERAL subquery with OFFSET 0, which the planner
--     cannot merge into a join: it stays one index lookup per row. As a join, planned for a
--     large first statement, it would be a hash join reading the whole table on every later
--     one-row statement;
--   * an UPDATE's old and new rows are paired by a window over their union, not by a join of
--     the two transition tables, which planned for one row is a nested loop, quadratic in a
--     large statement;
--   * offer slots are deleted through `= ANY (ARRAY(…))`, an index scan at any size;
--   * the trigger functions run with JIT off: a plan kept from a large statement keeps its large
--     cost estimate, and with JIT on (where 004 could not turn it off for the database) every
--     later statement would be compiled first, tens of milliseconds each.

-- The figures a match adds to its need's and its offer's side's summaries, each a select list
-- over a FROM list (`source`) that names the match r, its need n and, for flows, the offering
-- organisation g; `sign` is a number or a column. One definition for the triggers and for
-- report_rebuild, which reads the tables through plain joins (its statement is planned afresh).
CREATE FUNCTION report_proposal_select(source text, sign text) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    SELECT extract(year FROM n.window_start)::integer AS year, n.county, n.kind, n.occupations,
           0 AS needs, 0 AS cancelled, 0 AS demand, 0 AS confirmed, 0 AS open_needs, 0 AS open_units,
           %2$s * r.units AS proposed
    FROM %1$s
    WHERE r.status = 'proposed'
$q$, source, sign)
$f$;

CREATE FUNCTION report_match_select(source text, sign text) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    SELECT extract(year FROM n.window_start)::integer AS year, n.county, n.kind, g.province AS east_province,
           g.city AS east_city,
           %2$s * (r.status = 'proposed')::integer AS proposed_matches,
           %2$s * CASE WHEN r.status = 'proposed' THEN r.units ELSE 0 END AS proposed_units,
           %2$s * (r.status = 'confirmed')::integer AS confirmed_matches,
           %2$s * match_holding(r.status, r.confirmed_units, r.placed_units, r.reopened_units) AS confirmed_units,
           %2$s * r.placed_units AS placed_units,
           %2$s * (r.status = 'declined')::integer AS declined_matches,
           %2$s * CASE WHEN r.status = 'declined' THEN r.units ELSE 0 END AS declined_units,
           %2$s * r.placed_poverty AS placed_poverty, %2$s * r.placed_monitored AS placed_monitored,
           %2$s * (r.placed_units - r.left_units) AS working_units, %2$s * r.reopened_units AS reopened_units,
           %2$s * r.stable3_units AS stable3_units, %2$s * r.stable6_units AS stable6_units,
           %2$s * (r.status = 'declined' AND r.reason = 'wage')::integer AS declined_wage,
           %2$s * (r.status = 'declined' AND r.reason = 'distance')::integer AS declined_distance,
           %2$s * (r.status = 'declined' AND r.reason = 'conditions')::integer AS declined_conditions,
           %2$s * (r.status = 'declined' AND r.reason = 'timing')::integer AS declined_timing,
           %2$s * (r.status = 'declined' AND r.reason = 'filled')::integer AS declined_filled,
           %2$s * (r.status = 'declined' AND r.reason = 'other')::integer AS declined_other
    FROM %1$s
$q$, source, sign)
$f$;

-- As in 004 and 017, now through the select lists above.
CREATE OR REPLACE FUNCTION report_proposal_deltas(matches text, sign integer, needs text DEFAULT 'need') RETURNS text
    IMMUTABLE LANGUAGE sql AS $f$
SELECT report_proposal_select(format('%s r JOIN %s n ON n.id = r.need', matches, needs), sign::text)
$f$;

CREATE OR REPLACE FUNCTION report_match_rows(matches text, sign integer, needs text DEFAULT 'need',
                                             organisations text DEFAULT 'organisation') RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT report_match_select(
    format('%s r JOIN %s n ON n.id = r.need JOIN offer o ON o.id = r.offer JOIN %s g ON g.id = o.organisation',
           matches, needs, organisations),
    sign::text)
$f$;

-- Writes the trigger functions, their statements composed from the helpers once, here. A
-- migration that redefines a helper calls this again, so the triggers keep computing what
-- report_rebuild computes.
CREATE FUNCTION report_define_triggers() RETURNS void LANGUAGE plpgsql AS $define$
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
    -- The counties' check is 018's.
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION report_need_changed() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $body$
        DECLARE
            missing text;
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                PERFORM FROM county c WHERE c.code IN (SELECT county FROM new_rows) FOR KEY SHARE;
                SELECT r.county INTO missing FROM (SELECT DISTINCT county FROM new_rows) r
                WHERE NOT EXISTS (SELECT 1 FROM county c WHERE c.code = r.county) LIMIT 1;
                IF FOUND THEN
                    RAISE EXCEPTION 'need names county %%, which is not in table county', missing
                        USING ERRCODE = 'foreign_key_violation';
                END IF;
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
