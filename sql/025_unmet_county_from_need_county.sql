-- One county's UNMET no longer has an index of its own. need_unmet_county held every open need
-- a second time in random key order, and was the dearest of the need table's indexes to keep
-- up in an import: 300,000 rows took 5.2–5.5 s without it against 7.5–8.3 s with it (by hand,
-- `psql \copy` into `need` with the migrations applied, durable PostgreSQL 15). A county's open
-- needs are a range of need_county, sorted in memory (a county holds a small share of them),
-- or need_unmet walked with the county as a filter, whichever the planner finds cheaper; the
-- administrators' queries stay under 100 ms at p99 with 1 M needs (bench/queries.sh).
DROP INDEX need_unmet_county;
