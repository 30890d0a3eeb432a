#!/usr/bin/env bash
# Issue-6 benchmark: the administrators' queries with NEEDS needs (1,000,000), OFFERS offers
# (200,000) and MATCHES matches (1,000,000) loaded, over the protocol against a release build.
# Prints how long loading took (the summary triggers run in every load statement), then the
# median and p99 latency of each query (one client, one request at a time, ROUNDS each), then
# each query's PostgreSQL plans (auto_explain, with actual times).
# Usage: bench/queries.sh [NEEDS] [OFFERS] [MATCHES] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh
needs=${1:-1000000}
offers=${2:-200000}
matches=${3:-1000000}
rounds=${4:-200}
. bench/lib.sh

bench_setup

step() {
    local started=$(date +%s.%N)
    psql -q -v ON_ERROR_STOP=1 -c "$2"
    printf '  %-52s %7.1f s\n' "$1" "$(echo "$(date +%s.%N) - $started" | bc -l)"
}
say "loading (summary triggers on)"
step "20,000 organisations" "
    INSERT INTO organisation (kind, name, province, city)
    SELECT (ARRAY['enterprise','school','talent_dispatch'])[1 + i % 3], 'bench org ' || i,
           (ARRAY['11','12','31','32','33','35','37','44'])[1 + i % 8], 'city ' || (i / 8) % 12
    FROM generate_series(1, 20000) i"
step "$needs needs" "
    WITH c AS (SELECT array_agg(code ORDER BY code) AS a FROM county),
         o AS (SELECT array_agg(code ORDER BY code) AS a FROM occupation WHERE level <> 'major')
    INSERT INTO need (county, kind, occupations, quantity, window_start, window_end, priority, poverty_people)
    SELECT c.a[1 + (i * 7919) % cardinality(c.a)], (ARRAY['labor','training','school_partnership','talent'])[1 + (i / 7) % 4],
           CASE WHEN i % 3 = 0 THEN ARRAY[o.a[1 + (i * 104729) % cardinality(o.a)], o.a[1 + (i * 31) % cardinality(o.a)]]
                ELSE ARRAY[o.a[1 + (i * 104729) % cardinality(o.a)]] END,
           1 + (i * 37) % 200, date '2026-01-01' + ((i * 13) % 700)::int, date '2026-01-01' + ((i * 13) % 700 + 90 + i % 180)::int,
           1 + i % 5, CASE WHEN i % 4 = 0 THEN 1 ELSE 0 END
    FROM generate_series(1::bigint, $needs) i, c, o"
step "$offers offers" "
    WITH o AS (SELECT array_agg(code ORDER BY code) AS a FROM occupation WHERE level <> 'major')
    INSERT INTO offer (organisation, kind, occupations, capacity, window_start, window_end)
    SELECT 1 + i % 20000, (ARRAY['labor','training','school_partnership','talent'])[1 + (i / 5) % 4],
           ARRAY[o.a[1 + (i * 7717) % cardinality(o.a)], o.a[1 + (i * 53) % cardinality(o.a)]],
           10 + (i * 71) % 990, date '2026-01-01' + ((i * 17) % 500)::int, date '2026-01-01' + ((i * 17) % 500 + 180 + i % 365)::int
    FROM generate_series(1::bigint, $offers) i, o"
step "one run, $matches matches" "
    INSERT INTO match_run (mode, input_hash, weights) VALUES ('optimal', 'bench', '{}');
    INSERT INTO match (run, need, offer, units, score, status, confirmed_units, placed_units, reason)
    SELECT 1, 1 + (i * 7) % $needs, 1 + (i * 13) % $offers, 1 + i % 3, 500,
           (ARRAY['proposed','confirmed','confirmed','declined','superseded','expired'])[1 + i % 6],
           CASE WHEN i % 6 IN (1, 2) THEN 1 + i % 3 END, CASE WHEN i % 6 = 1 THEN i % 3 ELSE 0 END,
           CASE WHEN i % 6 = 3 THEN (ARRAY['wage','distance','conditions','timing','filled','other'])[1 + i % 5] ELSE '' END
    FROM generate_series(1::bigint, $matches) i"
step "declined pairs" "
    INSERT INTO declined_pair (need, offer) SELECT need, offer FROM match WHERE status = 'declined' ON CONFLICT DO NOTHING"
step "confirmed units onto their needs" "
    UPDATE need n SET matched = least(n.quantity, m.units),
                      status = CASE WHEN m.units >= n.quantity THEN 'filled' ELSE 'partly_matched' END
    FROM (SELECT need, sum(confirmed_units) AS units FROM match WHERE status = 'confirmed' GROUP BY need) m
    WHERE m.need = n.id"
step "1,000,000 audit entries" "
    INSERT INTO audit_log (role, command, target, changes)
    SELECT 'admin', 'NEED ADD', 'need:' || i, '{}' FROM generate_series(1, 1000000) i"
step "plans for 2027" "
    INSERT INTO plan (year, province, kind, units)
    SELECT 2027, p.code, k, 50000 FROM province p, unnest(ARRAY['labor','training','school_partnership','talent']) k
    WHERE p.side = 'west'"
step "VACUUM ANALYZE" "VACUUM ANALYZE"
psql -qtAc "SELECT 'summary rows: need_fill ' || (SELECT count(*) FROM need_fill) || ', need_occupation_fill '
                   || (SELECT count(*) FROM need_occupation_fill) || ', match_flow ' || (SELECT count(*) FROM match_flow)"

cursor=$(psql -qtAc "SELECT -(-priority) || '/' || CASE WHEN poverty_focus THEN 'yes' ELSE 'no' END || '/' || window_start || '/' || id
                     FROM need WHERE status IN ('open', 'partly_matched')
                     ORDER BY -priority, NOT poverty_focus, window_start, id OFFSET 400000 LIMIT 1")
cat >"$work/queries.txt" <<EOF
STATS
UNMET
UNMET after=$cursor
UNMET province=贵州省 kind=labor
UNMET county=520204
UNMET occupation=2-05 limit=20
FILL by=county year=2027
FILL by=province year=2027
FILL by=pairing year=2027
FILL by=kind
FILL by=occupation year=2027
REPORT year=2027
REPORT year=2027 province=52 format=csv
REPORT year=2027 format=md
PAIRING FLOW 广东省 贵州省 year=2027
PLAN LIST
AUDIT limit=100
AUDIT after=900000 limit=100
AUDIT target=need:123456
EOF

bench_serve
say "latency, $rounds requests per query (target: median < 100 ms, p99 < 250 ms)"
python3 bench/query_latency.py "$port" "$token" "$rounds" "$work/queries.txt"

bench_stop_server
psql -qc "ALTER DATABASE ewmatch_bench SET session_preload_libraries = 'auto_explain'" \
     -c "ALTER DATABASE ewmatch_bench SET auto_explain.log_min_duration = 0" \
     -c "ALTER DATABASE ewmatch_bench SET auto_explain.log_analyze = on"
bench_serve
say "plans (auto_explain, actual times)"
python3 bench/query_latency.py "$port" "$token" 1 "$work/queries.txt" "$THROWAWAY_PG_DIR/postgres.log"
