#!/usr/bin/env bash
# Issue-5 benchmark: a national-scale run end to end. Loads NEEDS open needs and OFFERS open
# offers (default 20,000 and 50,000, shaped like the engine's `medium` instance: real county and
# occupation codes, kinds, windows) into PostgreSQL through the server, then runs MATCH RUN and
# prints its phase times: load (snapshot), solve (candidates + solve + certificate), store
# (proposals by COPY in the run's transaction).
# Usage: bench/match_run.sh [NEEDS] [OFFERS]
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh
needs=${1:-20000}
offers=${2:-50000}
. bench/lib.sh

ensure_packages
bench_setup durable
bench_serve

say "generating and importing $needs needs and $offers offers"
python3 bench/gen_records.py "$needs" "$offers" "$work"
psql -q -c "\\copy organisation (kind, name, province, city) FROM '$work/organisations.tsv'"
export EWMATCH_TOKEN=$token
"$binary" import needs "$work/needs.csv" --port "$port"
"$binary" import offers "$work/offers.csv" --port "$port"

say "MATCH RUN (optimal)"
summary=$("$binary" match run --port "$port")
echo "$summary"
proposals=$(psql -tAc "SELECT count(*) FROM match")
echo "stored proposals: $proposals"
load=$(echo "$summary" | sed -n 's/.* load-s=\([0-9.]*\).*/\1/p')
solve=$(echo "$summary" | sed -n 's/.* solve-s=\([0-9.]*\).*/\1/p')
store=$(echo "$summary" | sed -n 's/.* store-s=\([0-9.]*\).*/\1/p')
printf 'PHASES load %.3f s, solve %.3f s, store %.3f s; load + store %.3f s vs solve %.3f s\n' \
    "$load" "$solve" "$store" "$(echo "$load + $store" | bc -l)" "$solve"
