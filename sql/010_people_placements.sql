-- People, not a flag: how many of a need's people are 脱贫劳动力 (poverty_people) and how many
-- 防止返贫监测对象 (monitored_people). The old yes/no flag said a need was "以脱贫人口为重点":
-- a flagged need is carried over as all of its people being 脱贫劳动力, an unflagged one as none.
-- poverty_focus stays, derived, for the score and UNMET's order (a need with either group).
ALTER TABLE need ADD COLUMN poverty_people integer NOT NULL DEFAULT 0,
                 ADD COLUMN monitored_people integer NOT NULL DEFAULT 0;
UPDATE need SET poverty_people = quantity WHERE poverty_focus;
-- Dropping the column drops the three UNMET indexes built on it; they are made again below.
ALTER TABLE need DROP COLUMN poverty_focus;
ALTER TABLE need ADD COLUMN poverty_focus boolean GENERATED ALWAYS AS (poverty_people > 0 OR monitored_people > 0) STORED,
                 ADD CONSTRAINT need_people CHECK (poverty_people BETWEEN 0 AND quantity AND monitored_people BETWEEN 0 AND quantity);
CREATE INDEX need_unmet ON need ((-priority), (NOT poverty_focus), window_start, id)
    WHERE status IN ('open', 'partly_matched');
CREATE INDEX need_unmet_county ON need (county, (-priority), (NOT poverty_focus), window_start, id)
    WHERE status IN ('open', 'partly_matched');
CREATE INDEX need_unmet_province ON need (left(county, 2), (-priority), (NOT poverty_focus), window_start, id)
    WHERE status IN ('open', 'partly_matched');

-- Placements as records: each MATCH PLACE adds one (people arrived on a day, with their
-- breakdown), and follow-ups record who is still at work. `left_people` have left; those of them
-- who left before the need's window ended were given back to the need (`reopened`). stable3 and
-- stable6: the people still working at the first follow-up on or after 3 and 6 months (null
-- until then) — with the same employer, since a placement is with one.
CREATE TABLE placement (
    id          bigserial PRIMARY KEY,
    match       bigint NOT NULL REFERENCES match(id),
    need        bigint NOT NULL REFERENCES need(id),
    people      integer NOT NULL CHECK (people > 0),
    poverty     integer NOT NULL DEFAULT 0 CHECK (poverty BETWEEN 0 AND people),
    monitored   integer NOT NULL DEFAULT 0 CHECK (monitored BETWEEN 0 AND people),
    placed_on   date NOT NULL,
    left_people integer NOT NULL DEFAULT 0 CHECK (left_people BETWEEN 0 AND people),
    reopened    integer NOT NULL DEFAULT 0 CHECK (reopened BETWEEN 0 AND left_people),
    stable3     integer CHECK (stable3 BETWEEN 0 AND people),
    stable6     integer CHECK (stable6 BETWEEN 0 AND people),
    last_check  date,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX placement_match ON placement(match);
CREATE INDEX placement_need ON placement(need);
-- PLACEMENT DUE: placements with people at work whose 6-month follow-up is not yet recorded.
CREATE INDEX placement_open ON placement(placed_on) WHERE stable6 IS NULL AND left_people < people;

CREATE TABLE placement_check (
    id          bigserial PRIMARY KEY,
    placement   bigint NOT NULL REFERENCES placement(id),
    checked_on  date NOT NULL,
    status      text NOT NULL CHECK (status IN ('working', 'left')),
    people      integer NOT NULL CHECK (people > 0),
    reason      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX placement_check_by_placement ON placement_check(placement, id);

-- A match's placements summed on its row, so the match triggers keep match_flow with them.
ALTER TABLE match ADD COLUMN placed_poverty integer NOT NULL DEFAULT 0,
                  ADD COLUMN placed_monitored integer NOT NULL DEFAULT 0,
                  ADD COLUMN left_units integer NOT NULL DEFAULT 0,
                  ADD COLUMN reopened_units integer NOT NULL DEFAULT 0,
                  ADD COLUMN stable3_units integer NOT NULL DEFAULT 0,
                  ADD COLUMN stable6_units integer NOT NULL DEFAULT 0;

-- The single placement a match could record before becomes its first placement record.
INSERT INTO placement (match, need, people, placed_on)
SELECT m.id, m.need, m.placed_units, coalesce(m.placed_on, m.updated_at::date)
FROM match m WHERE m.placed_units > 0 ORDER BY m.id;

ALTER TABLE match_flow ADD COLUMN placed_poverty bigint NOT NULL DEFAULT 0,
                       ADD COLUMN placed_monitored bigint NOT NULL DEFAULT 0,
                       ADD COLUMN working_units bigint NOT NULL DEFAULT 0,
                       ADD COLUMN reopened_units bigint NOT NULL DEFAULT 0,
                       ADD COLUMN stable3_units bigint NOT NULL DEFAULT 0,
                       ADD COLUMN stable6_units bigint NOT NULL DEFAULT 0;

-- One definition of the units a match holds of its need, as need.matched counts them: a
-- confirmed match its confirmed units, a cancelled one the units it had placed (the rest went
-- back), less the people who left early and were given back to the need.
CREATE FUNCTION match_holding(status text, confirmed_units integer, placed_units integer, reopened_units integer)
    RETURNS integer IMMUTABLE PARALLEL SAFE LANGUAGE sql
    AS $$ SELECT CASE status WHEN 'confirmed' THEN coalesce(confirmed_units, 0) - reopened_units
                             WHEN 'cancelled' THEN placed_units - reopened_units ELSE 0 END $$;

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
           %2$s * r.stable3_units AS stable3_units, %2$s * r.stable6_units AS stable6_units
    FROM %1$s r JOIN %3$s n ON n.id = r.need JOIN offer o ON o.id = r.offer JOIN %4$s g ON g.id = o.organisation
$q$, matches, sign, needs, organisations)
$f$;

CREATE OR REPLACE FUNCTION report_flow_upsert(deltas text) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    INSERT INTO match_flow AS t (year, county, kind, east_province, east_city, proposed_matches, proposed_units,
                                 confirmed_matches, confirmed_units, placed_units, declined_matches, declined_units,
                                 placed_poverty, placed_monitored, working_units, reopened_units, stable3_units, stable6_units)
    SELECT * FROM (
        SELECT year, county, kind, east_province, east_city, sum(proposed_matches) AS pm, sum(proposed_units) AS pu,
               sum(confirmed_matches) AS cm, sum(confirmed_units) AS cu, sum(placed_units) AS pl,
               sum(declined_matches) AS dm, sum(declined_units) AS du, sum(placed_poverty) AS pp,
               sum(placed_monitored) AS mp, sum(working_units) AS wu, sum(reopened_units) AS ru,
               sum(stable3_units) AS s3, sum(stable6_units) AS s6
        FROM (%s) AS d GROUP BY year, county, kind, east_province, east_city
    ) AS s
    WHERE pm <> 0 OR pu <> 0 OR cm <> 0 OR cu <> 0 OR pl <> 0 OR dm <> 0 OR du <> 0 OR pp <> 0 OR mp <> 0 OR wu <> 0
       OR ru <> 0 OR s3 <> 0 OR s6 <> 0
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
        stable6_units = t.stable6_units + excluded.stable6_units
$q$, deltas)
$f$;

SELECT report_rebuild();
