#!/usr/bin/env bash
# Issue-3 benchmark, both comparisons side by side in one run on one PostgreSQL (durable
# defaults: fsync and synchronous_commit on):
#  1. importing N needs (default 1,000,000) with `ewmatch import` against `psql \copy` of the same
#     rows into the same table;
#  2. NEED ADD acknowledged after commit, 32 concurrent clients (../shared/bench/linebench.c),
#     against pgbench running a single-row INSERT per transaction at 32 clients.
# Usage: bench/submissions.sh [ROWS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh
rows=${1:-1000000}
seconds=${2:-15}
. bench/lib.sh

ensure_packages bc
command -v gcc >/dev/null || die "gcc is needed to build linebench"
bench_setup durable
gcc -O2 -o "$work/linebench" ../shared/bench/linebench.c
bench_serve --pool-size 16

say "generating $rows needs"
python3 bench/gen_needs.py "$rows" "$work/needs.csv" "$work/needs.tsv"
chmod 0644 "$work"/needs.*

now() { date +%s.%N; }
columns="county, kind, occupations, quantity, window_start, window_end, priority, poverty_focus, note"
psql_rate=0
ewmatch_rate=0
for round in 1 2; do
    psql -q -c "TRUNCATE need CASCADE"
    start=$(now)
    psql -q -c "\\copy need ($columns) FROM '$work/needs.tsv'"
    elapsed=$(echo "$(now) - $start" | bc -l)
    rate=$(echo "$rows / $elapsed" | bc -l)
    printf 'round %d: psql \\copy      %9.0f rows/s (%.2f s)\n' "$round" "$rate" "$elapsed"
    psql_rate=$(echo "if ($rate > $psql_rate) $rate else $psql_rate" | bc -l)

    psql -q -c "TRUNCATE need CASCADE"
    start=$(now)
    EWMATCH_TOKEN=$token "$binary" import needs "$work/needs.csv" --port "$port" >/dev/null
    elapsed=$(echo "$(now) - $start" | bc -l)
    rate=$(echo "$rows / $elapsed" | bc -l)
    printf 'round %d: ewmatch import  %9.0f rows/s (%.2f s)\n' "$round" "$rate" "$elapsed"
    ewmatch_rate=$(echo "if ($rate > $ewmatch_rate) $rate else $ewmatch_rate" | bc -l)
done
stored=$(psql -tAc "SELECT count(*) FROM need")
[ "$stored" = "$rows" ] || die "ewmatch stored $stored of $rows rows"
printf 'IMPORT best of 2: ewmatch %.0f rows/s, psql \\copy %.0f rows/s, ratio %.2f (target >= 0.50)\n' \
    "$ewmatch_rate" "$psql_rate" "$(echo "$ewmatch_rate / $psql_rate" | bc -l)"

psql -q -c "TRUNCATE need CASCADE"
line="NEED ADD county=520204 kind=labor occupations=6-01 qty=30 from=2027-01-01 to=2027-06-30 priority=4 note=bench"
ewmatch_out=$("$work/linebench" 127.0.0.1 "$port" 32 1 "$seconds" "$line" -g -a "AUTH $token")
echo "ewmatch NEED ADD, 32 clients: $ewmatch_out"
errors=$(echo "$ewmatch_out" | sed -n 's/.*error_lines=\([0-9]*\).*/\1/p')
[ "$errors" = 0 ] || die "NEED ADD answered $errors error lines"
cat >"$work/insert.sql" <<SQL
INSERT INTO need (county, kind, occupations, quantity, window_start, window_end, priority, note)
VALUES ('520204', 'labor', '{6-01}', 30, '2027-01-01', '2027-06-30', 4, 'bench');
SQL
pgbench_out=$(pgbench -n -c 32 -j 2 -T "$seconds" -f "$work/insert.sql" 2>&1)
pgbench_tps=$(echo "$pgbench_out" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1)
ewmatch_rps=$(echo "$ewmatch_out" | sed -n 's/.* rps=\([0-9]*\).*/\1/p')
echo "pgbench single-row INSERT, 32 clients: tps=$pgbench_tps"
printf 'NEED ADD: ewmatch %.0f/s, pgbench %.0f/s, ratio %.2f (target >= 1.00)\n' \
    "$ewmatch_rps" "$pgbench_tps" "$(echo "$ewmatch_rps / $pgbench_tps" | bc -l)"
