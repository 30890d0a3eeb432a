#!/usr/bin/env bash
# Issue-10 benchmark: every service path users touch, each beside its plain reference system,
# in the same run, as ratios. One durable throwaway PostgreSQL (fsync and synchronous_commit
# on), one release server. The references are measured by ../shared/bench/refs_service.sh
# (called, never copied); ewmatch is driven by the same linebench that script builds.
#
#   PING 50×1, 50×16, 1×1          vs redis-server PING, same linebench cell
#   COUNTY SHOW 520204, AUTH, 50×1 vs pgbench -M prepared SELECT of that county, 50 clients
#   NEED ADD, 32×1                 vs pgbench -M prepared single-row INSERT into a plain table, 32 clients
#   NEED ADD, 1×1 (latency)        vs the same pgbench, 1 client
#   ewmatch import of ROWS needs   vs psql \copy of the same rows into a bare copy of table need
#
# Each cell runs ROUNDS times, ewmatch and the reference alternating which goes first; the
# final table gives medians (the ratio is the median of the rounds' side-by-side ratios).
# Exits non-zero if any reply stream had an error line or NEED ADD / import stored a different
# number of rows than were acknowledged; a missed goal is reported, not an error.
#
# Usage: bench/service.sh [SECONDS] [IMPORT_ROWS] [ROUNDS]     (defaults 10, 1000000, 3)
# The parts, for other scripts: bench/service.sh --only ping|county|need-add|import [SECONDS] [IMPORT_ROWS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
. deploy/lib.sh

only=all
if [ "${1:-}" = --only ]; then only=$2; shift 2; fi
case "$only" in all|ping|county|need-add|import) ;; *) die "--only takes ping, county, need-add or import" ;; esac
seconds=${1:-10}
rows=${2:-1000000}
rounds=${3:-3}
refs=$(cd .. && pwd)/shared/bench/refs_service.sh
[ -f "$refs" ] || die "$refs not found: the shared benchmark kit must sit beside the checkout"
. bench/lib.sh

ensure_packages redis-server bc
command -v gcc >/dev/null || die "gcc is needed to build linebench"
wants() { [ "$only" = all ] || [ "$only" = "$1" ]; }

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- Sources Package.swift 2>/dev/null | wc -l)
bench_setup durable
export REFS_WORK=$work/refs
linebench=$(bash "$refs" linebench)
bench_serve --pool-size 16
nc -z 127.0.0.1 "$port" || die "the server did not start listening on $port"
conninfo="host=$PGHOST port=$PGPORT user=$PGUSER dbname=$PGDATABASE"
results=$work/results.tsv
: >"$results"
say "ewmatch $commit (uncommitted changes in $dirty source files), ${seconds} s per cell, $rounds rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"

field() { sed -n "s/.*[ ]$1=\([0-9.]*\).*/\1/p" <<<" $2" | head -n1; }
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$results"; }  # cell round ewmatch reference

# One request over a fresh connection (after the greeting and, with a token, AUTH): every reply
# line must be OK. linebench counts an error only where a read starts with one; this sees all.
check_reply() {
    python3 - "$port" "$1" "${2:-}" <<'PY' || die "ewmatch refused: $1"
import socket, sys
port, request, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rwb")
lines = [f.readline()]
if token:
    f.write(f"AUTH {token}\n".encode()); f.flush(); lines.append(f.readline())
f.write(f"{request}\n".encode()); f.flush(); lines.append(f.readline())
bad = [l for l in lines if not l.startswith(b"OK")]
for l in bad: print("  reply:", l.decode(errors="replace").rstrip(), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# ewmatch through linebench: CONNS INFLIGHT REQUEST [linebench options]; prints linebench's line.
ewmatch_lb() {
    local out errors
    out=$(timeout $((seconds + 60)) "$linebench" 127.0.0.1 "$port" "$1" "$2" "$seconds" "$3" -g "${@:4}") \
        || die "linebench against ewmatch failed ($1×$2 '$3'): $out"
    errors=$(field error_lines "$out")
    [ "$errors" = 0 ] || die "ewmatch answered $errors error lines to '$3' ($1×$2): $out"
    echo "$out"
}

reference() {
    local out
    out=$(timeout $((seconds + 120)) bash "$refs" "$@") || die "refs_service.sh $1 failed: $out"
    grep '^REF ' <<<"$out" | tail -n1
}

# pair CELL ROUND EWMATCH_FN REFERENCE_FN: runs both, the order alternating by round; each
# function sets its figure in the variable `figure`.
pair() {
    local cell=$1 round=$2 ew ref
    if [ $((round % 2)) = 1 ]; then "$3"; ew=$figure; "$4"; ref=$figure
    else "$4"; ref=$figure; "$3"; ew=$figure; fi
    [ -n "$ew" ] && [ -n "$ref" ] || die "$cell: no figure (ewmatch '$ew', reference '$ref')"
    record "$cell" "$round" "$ew" "$ref"
    printf '  round %d %-12s ewmatch %12.0f   reference %12.0f\n' "$round" "$cell" "$ew" "$ref"
}

# --- the cells -------------------------------------------------------------------------------
redis_port=16379
ping_cell() {  # CONNS INFLIGHT ROUND
    local c=$1 p=$2
    ew_ping() { local out; out=$(ewmatch_lb "$c" "$p" PING); figure=$(field rps "$out"); }
    # A port of its own each time: the kit stops its redis-server when a cell ends, and one still
    # exiting would answer the next cell's first PINGs, then drop its connections.
    ref_ping() {
        local out
        redis_port=$((redis_port + 1))
        out=$(reference redis-ping "$c" "$p" "$seconds" "$redis_port")
        figure=$(field rps "$out")
    }
    pair "ping_${c}x$p" "$3" ew_ping ref_ping
}

county_cell() {  # ROUND
    ew_county() { local out; out=$(ewmatch_lb 50 1 'COUNTY SHOW 520204' -a "AUTH $token"); figure=$(field rps "$out"); }
    ref_county() { local out; out=$(reference pgbench-county "$conninfo" 50 "$seconds"); figure=$(field tps "$out"); }
    pair county_50 "$1" ew_county ref_county
}

need_line="NEED ADD county=520204 kind=labor occupations=6-01 qty=30 from=2027-01-01 to=2027-06-30 priority=4 note=bench"
need_add_cell() {  # CLIENTS ROUND
    local c=$1
    ew_need() {
        local out acked stored
        psql -qX -c "SET client_min_messages = warning" -c "TRUNCATE need CASCADE" -c CHECKPOINT >/dev/null
        out=$(ewmatch_lb "$c" 1 "$need_line" -a "AUTH $token")
        acked=$(field requests "$out")
        stored=$(psql -qXAtc "SELECT count(*) FROM need")
        # Every acknowledged NEED ADD is stored; at most one per client was still in flight.
        [ "$stored" -ge "$acked" ] && [ "$stored" -le $((acked + c)) ] \
            || die "NEED ADD: $acked acknowledged, $stored stored ($c clients)"
        figure=$(field rps "$out")
    }
    ref_need() { local out; out=$(reference pgbench-insert "$conninfo" "$c" "$seconds"); figure=$(field tps "$out"); }
    pair "need_add_$c" "$2" ew_need ref_need
}

columns="county, kind, occupations, quantity, window_start, window_end, priority, poverty_focus, west_school, partnership, note"
import_cell() {  # ROUND
    ew_import() {
        local start elapsed stored
        psql -qX -c "SET client_min_messages = warning" -c "TRUNCATE need CASCADE" -c CHECKPOINT >/dev/null
        start=$(date +%s.%N)
        EWMATCH_TOKEN=$token timeout $((120 + rows / 2000)) "$binary" import needs "$work/needs.csv" --port "$port" \
            >"$work/import.out" 2>&1 || { cat "$work/import.out" >&2; die "ewmatch import failed"; }
        elapsed=$(echo "$(date +%s.%N) - $start" | bc -l)
        stored=$(psql -qXAtc "SELECT count(*) FROM need")
        [ "$stored" = "$rows" ] || die "ewmatch import stored $stored of $rows rows"
        figure=$(printf '%.0f' "$(echo "$rows / $elapsed" | bc -l)")
    }
    ref_import() { local out; out=$(reference copy-bare "$conninfo" "$work/needs.tsv" "$columns"); figure=$(field rows_per_s "$out"); }
    pair import "$1" ew_import ref_import
}

# --- the run ---------------------------------------------------------------------------------
check_reply PING
check_reply 'COUNTY SHOW 520204' "$token"
if wants import; then
    say "generating $rows needs (CSV for ewmatch import, COPY text for psql \\copy)"
    python3 bench/gen_needs.py "$rows" "$work/needs.csv" "$work/needs.tsv"
    chmod 0644 "$work"/needs.*
fi
for round in $(seq "$rounds"); do
    say "round $round of $rounds (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    if wants ping; then ping_cell 50 1 "$round"; ping_cell 50 16 "$round"; ping_cell 1 1 "$round"; fi
    if wants county; then county_cell "$round"; fi
    if wants need-add; then need_add_cell 32 "$round"; need_add_cell 1 "$round"; fi
    if wants import; then import_cell "$round"; fi
done
say "done (load average $(cut -d' ' -f1-3 /proc/loadavg))"

python3 - "$results" "$rows" "$rounds" "$seconds" <<'PY'
import statistics, sys
path, rows, rounds, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = {}
for line in open(path):
    cell, rnd, ew, ref = line.split("\t")
    data.setdefault(cell, []).append((float(ew), float(ref)))
rate = lambda v: f"{v / 1000:,.1f} k/s" if v < 1e6 else f"{v / 1e6:,.2f} M/s"
ms = lambda v: f"{1000 / v:.3f} ms"
rps = lambda v: f"{v / 1000:,.0f} k rows/s"
# cell: path, reference, format, goal, higher ratio is better
cells = [
    ("ping_50x1", "PING, 50 connections × 1 in flight", "redis-server PING, same linebench cell", rate, 0.9, "ratio"),
    ("ping_50x16", "PING, 50 connections × 16 in flight", "redis-server PING, same linebench cell", rate, 0.5, "ratio"),
    ("ping_1x1", "PING, 1 connection × 1 in flight", "redis-server PING, same linebench cell", rate, 0.9, "ratio"),
    ("county_50", "`COUNTY SHOW 520204`, authenticated, 50 connections", "pgbench `-M prepared` SELECT of county 520204 by primary key, 50 clients", rate, 1.0, "ratio"),
    ("need_add_32", "`NEED ADD`, durable, 32 connections", "pgbench `-M prepared` single-row INSERT into a plain table, 32 clients", rate, 1.0, "ratio"),
    ("need_add_1", "`NEED ADD`, durable, 1 connection, latency", "the same pgbench, 1 client", ms, 2.0, "slower"),
    ("import", f"`ewmatch import` of {rows:,} needs", "`psql \\copy` of the same rows into a bare copy of table `need`", rps, 0.25, "ratio"),
]
print(f"\nmedians of {rounds} round(s), {seconds} s per cell; ratio = median of the rounds' ewmatch/reference"
      " (latency: ewmatch's time / the reference's)\n")
print("| path | reference | ewmatch | reference figure | ratio | goal | met |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for cell, label, ref, fmt, goal, kind in cells:
    if cell not in data:
        continue
    pairs = data[cell]
    ew = statistics.median(p[0] for p in pairs)
    rf = statistics.median(p[1] for p in pairs)
    if kind == "ratio":
        ratio = statistics.median(p[0] / p[1] for p in pairs)
        shown, goal_s, met = f"{ratio:.2f}", f"≥ {goal:g}", ratio >= goal
    else:  # latency = 1 / rate, so ewmatch's latency over the reference's is ref rate / ewmatch rate
        ratio = statistics.median(p[1] / p[0] for p in pairs)
        shown, goal_s, met = f"{ratio:.2f}× slower", f"≤ {goal:g}×", ratio <= goal
    print(f"| {label} | {ref} | {fmt(ew)} | {fmt(rf)} | {shown} | {goal_s} | {'yes' if met else 'no'} |")
PY
