-- A bulk import pays for every index, check and trigger on `need` once per row: with seven
-- indexes, the county foreign key and the summary trigger, COPY into `need` ran at a tenth of
-- COPY into a bare copy of the table. What stays is what a query or a guarantee needs.

-- Indexes no query reads: the GIN indexes (occupation filters test codes by prefix, which GIN
-- cannot answer; UNMET's candidates come from offer_slot) and need_open (readers of open needs
-- by kind read most of them). UNMET keeps its global order (need_unmet) and one county's order
-- (need_unmet_county); a province is a range of need_county (its codes are its prefix and six
-- digits), which the planner sorts where the province holds few open needs and otherwise walks
-- need_unmet. need_county costs an import little: its few keys are deduplicated.
DROP INDEX need_open, need_occupations, need_unmet_province, offer_occupations;

-- The county foreign key checked every row with a query and a row lock of its own. The summary
-- trigger checks a statement's counties at once instead, locking them as the foreign key did
-- (FOR KEY SHARE: a county cannot be deleted while needs naming it are being stored), and
-- county's trigger refuses to delete, recode or truncate counties that needs name.
ALTER TABLE need DROP CONSTRAINT need_county_fkey;

CREATE FUNCTION county_named_by_needs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (SELECT 1 FROM need) THEN
            RAISE EXCEPTION 'cannot truncate county: needs name its counties' USING ERRCODE = 'foreign_key_violation';
        END IF;
    ELSIF (TG_OP = 'DELETE' OR NEW.code <> OLD.code) AND EXISTS (SELECT 1 FROM need WHERE county = OLD.code) THEN
        RAISE EXCEPTION 'county % is named by needs', OLD.code USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'UPDATE' THEN NEW ELSE OLD END;
END $$;
CREATE TRIGGER county_needs_row BEFORE DELETE OR UPDATE OF code ON county
    FOR EACH ROW EXECUTE FUNCTION county_named_by_needs();
CREATE TRIGGER county_needs_truncate BEFORE TRUNCATE ON county
    FOR EACH STATEMENT EXECUTE FUNCTION county_named_by_needs();

-- One code's group, inlined wherever it is called; occupation_groups keeps its meaning.
CREATE FUNCTION occupation_group(code text) RETURNS text IMMUTABLE PARALLEL SAFE LANGUAGE sql
    AS $$ SELECT left(code, 4) $$;
CREATE OR REPLACE FUNCTION occupation_groups(codes text[]) RETURNS text[] IMMUTABLE PARALLEL SAFE LANGUAGE sql
    AS $$ SELECT array(SELECT DISTINCT occupation_group(c) FROM unnest(codes) AS c ORDER BY 1) $$;

-- The summaries' upsert, as in 004 but for two costs that grew with the rows: the deltas were
-- materialised (a million rows with their arrays, written to disk) to be read twice, and each
-- row called occupation_groups, a SQL function run as a query of its own per call. Reading the
-- deltas twice costs less, and the groups are a lateral subquery of the plan.
CREATE OR REPLACE FUNCTION report_need_upsert(deltas text) RETURNS text IMMUTABLE LANGUAGE sql AS $f$
SELECT format($q$
    WITH d AS NOT MATERIALIZED (%s),
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
    FROM d CROSS JOIN LATERAL (SELECT DISTINCT occupation_group(c) FROM unnest(d.occupations) AS c) AS g(occupation)
    GROUP BY year, g.occupation, county, kind
    HAVING sum(abs(needs)) + sum(abs(demand)) + sum(abs(confirmed)) + sum(abs(proposed)) <> 0
    ORDER BY year, g.occupation, county, kind
    ON CONFLICT (year, occupation, county, kind) DO UPDATE SET
        needs = t.needs + excluded.needs, demand = t.demand + excluded.demand,
        confirmed = t.confirmed + excluded.confirmed, proposed = t.proposed + excluded.proposed
$q$, deltas)
$f$;

-- As in 004, with the counties' check first.
CREATE OR REPLACE FUNCTION report_need_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    -- Needs whose window moved to another year, before and after: their matches move along.
    moved_old text := '(SELECT o.* FROM old_rows o JOIN new_rows x ON x.id = o.id
                        WHERE extract(year FROM x.window_start) <> extract(year FROM o.window_start))';
    moved_new text := '(SELECT x.* FROM old_rows o JOIN new_rows x ON x.id = o.id
                        WHERE extract(year FROM x.window_start) <> extract(year FROM o.window_start))';
    missing text;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM FROM county c WHERE c.code IN (SELECT county FROM new_rows) FOR KEY SHARE;
        SELECT r.county INTO missing FROM (SELECT DISTINCT county FROM new_rows) r
        WHERE NOT EXISTS (SELECT 1 FROM county c WHERE c.code = r.county) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'need names county %, which is not in table county', missing USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
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
