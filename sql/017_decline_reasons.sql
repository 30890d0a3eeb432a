-- A declined match says why with one of six codes (MATCH DECLINE reason=…), so declines can be
-- totalled by reason; the side's own words go in `note`. Cancellations and expiries keep their
-- text in `reason` as before.
ALTER TABLE match ADD COLUMN note text NOT NULL DEFAULT '';

-- Declines stored before had free text only: one that is already a code keeps it, any other
-- becomes `other` with its text kept as the note. Nothing is guessed from the words.
UPDATE match
SET note = CASE WHEN reason IN ('wage', 'distance', 'conditions', 'timing', 'filled', 'other') THEN '' ELSE reason END,
    reason = CASE WHEN reason IN ('wage', 'distance', 'conditions', 'timing', 'filled', 'other') THEN reason ELSE 'other' END
WHERE status = 'declined';

ALTER TABLE match ADD CONSTRAINT match_decline_reason
    CHECK (status <> 'declined' OR reason IN ('wage', 'distance', 'conditions', 'timing', 'filled', 'other'));

-- Declined matches by reason in the summary every report reads (FILL … declines, REPORT,
-- through match_flow), from the same definition of a match's figures as all the others:
-- counted in the year their need's window starts, by its county and kind and the offer's side.
ALTER TABLE match_flow ADD COLUMN declined_wage bigint NOT NULL DEFAULT 0,
                       ADD COLUMN declined_distance bigint NOT NULL DEFAULT 0,
                       ADD COLUMN declined_conditions bigint NOT NULL DEFAULT 0,
                       ADD COLUMN declined_timing bigint NOT NULL DEFAULT 0,
                       ADD COLUMN declined_filled bigint NOT NULL DEFAULT 0,
                       ADD COLUMN declined_other bigint NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION report_match_rows(matches text, sign integer, needs text DEFAULT 'need',
                                             organisations text DEFAULT 'organisation') RETURNS text IMMUTABLE LANGUAGE sql AS $f$
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
    FROM %1$s r JOIN %3$s n ON n.id = r.need JOIN offer o ON o.id = r.offer JOIN %4$s g ON g.id = o.organisation
$q$, matches, sign, needs, organisations)
$f$;

CREATE OR REPLACE FUNCTION report_flow_upsert(deltas text) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    INSERT INTO match_flow AS t (year, county, kind, east_province, east_city, proposed_matches, proposed_units,
                                 confirmed_matches, confirmed_units, placed_units, declined_matches, declined_units,
                                 placed_poverty, placed_monitored, working_units, reopened_units, stable3_units, stable6_units,
                                 declined_wage, declined_distance, declined_conditions, declined_timing, declined_filled, declined_other)
    SELECT * FROM (
        SELECT year, county, kind, east_province, east_city, sum(proposed_matches) AS pm, sum(proposed_units) AS pu,
               sum(confirmed_matches) AS cm, sum(confirmed_units) AS cu, sum(placed_units) AS pl,
               sum(declined_matches) AS dm, sum(declined_units) AS du, sum(placed_poverty) AS pp,
               sum(placed_monitored) AS mp, sum(working_units) AS wu, sum(reopened_units) AS ru,
               sum(stable3_units) AS s3, sum(stable6_units) AS s6,
               sum(declined_wage) AS d_wage, sum(declined_distance) AS d_distance, sum(declined_conditions) AS d_conditions, sum(declined_timing) AS d_timing, sum(declined_filled) AS d_filled, sum(declined_other) AS d_other
        FROM (%s) AS d GROUP BY year, county, kind, east_province, east_city
    ) AS s
    WHERE pm <> 0 OR pu <> 0 OR cm <> 0 OR cu <> 0 OR pl <> 0 OR dm <> 0 OR du <> 0 OR pp <> 0 OR mp <> 0 OR wu <> 0
       OR ru <> 0 OR s3 <> 0 OR s6 <> 0 OR d_wage <> 0 OR d_distance <> 0 OR d_conditions <> 0 OR d_timing <> 0 OR d_filled <> 0 OR d_other <> 0
    ORDER BY year, county, kind, east_province, east_city
    ON CONFLICT (year, county, kind, east_province, east_city) DO UPDATE SET
        proposed_matches = t.proposed_matches + excluded.proposed_matches,
        proposed_units = t.proposed_units + excluded.proposed_units,
        confirmed_matches = t.confirmed_matches + excluded.confirmed_matches,
        confirmed_units = t.confirmed_units + excluded.confirmed_units,
        placed_units = t.placed_units + excluded.placed_units,
        declined_matches = t.declined_matches + excluded.declined_matches,
        declined_units = t.declined_units + excluded.declined_units,
        placed_poverty = t.placed_poverty + excluded.placed_poverty,
        placed_monitored = t.placed_monitored + excluded.placed_monitored,
        working_units = t.working_units + excluded.working_units,
        reopened_units = t.reopened_units + excluded.reopened_units,
        stable3_units = t.stable3_units + excluded.stable3_units,
        stable6_units = t.stable6_units + excluded.stable6_units,
        declined_wage = t.declined_wage + excluded.declined_wage,
        declined_distance = t.declined_distance + excluded.declined_distance,
        declined_conditions = t.declined_conditions + excluded.declined_conditions,
        declined_timing = t.declined_timing + excluded.declined_timing,
        declined_filled = t.declined_filled + excluded.declined_filled,
        declined_other = t.declined_other + excluded.declined_other
$q$, deltas)
$f$;

SELECT report_rebuild();
