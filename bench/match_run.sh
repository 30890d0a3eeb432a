#!/usr/bin/env bash
# Issue-5 benchmark: a national-scale run end to end. Loads NEEDS open needs and OFFERS open
# offers (default 20,000 and 50,000, shaped like the engine's `medium` instance: real county and
# occupation codes, kinds, windows) into PostgreSQL through the server, then runs MATCH RUN and
# prints the times of its phases as the reply gives them (load, candidates, solve, certificate,
# explanations, store) and their total.
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
phases=""
for phase in load candidates solve certificate explanations store total; do
    seconds=$(echo "$summary" | sed -n "s/.* $phase-s=\([0-9.]*\).*/\1/p")
    phases+="$phase $seconds s, "
done
echo "PHASES ${phases%, } (issue 10's goal: total <= 4 s)"
