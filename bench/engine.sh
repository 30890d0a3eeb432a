#!/usr/bin/env bash
# Matching engine benchmark (issue 4): `ewmatch solve` against OR-Tools SimpleMinCostFlow
# and LEMON network simplex, side by side on the same instance files.
#
#   bench/engine.sh [--runs N] [--large] [--no-install]
#
# Regenerates medium_s1 (and large_s1 with --large) with ../shared/bench/gen_instance.py
# into a temporary directory, builds ewmatch in release (.build-release) and LEMON's
# solver, then runs each solver N times (default 3) per instance. Prints per instance and
# solver: median solve time (solver call alone, no parsing), objective, peak memory
# (/usr/bin/time -v), and the ratios engine / OR-Tools and engine / LEMON.
# EWMATCH_BIN=path uses an already built binary instead of building one.
set -euo pipefail

runs=3
large=0
install=1
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --large) large=1; shift ;;
        --no-install) install=0; shift ;;
        *) echo "usage: $0 [--runs N] [--large] [--no-install]" >&2; exit 2 ;;
    esac
done

repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="$repo/../shared/bench"
[ -f "$shared/gen_instance.py" ] || { echo "error: $shared/gen_instance.py not found (../shared/bench next to the repo)" >&2; exit 1; }

if [ "$install" = 1 ]; then
    need_apt=()
    [ -f /usr/include/lemon/network_simplex.h ] || need_apt+=(liblemon-dev)
    [ -x /usr/bin/time ] || need_apt+=(time)
    if [ ${#need_apt[@]} -gt 0 ]; then
        apt-get install -y "${need_apt[@]}" >/dev/null || { apt-get update >/dev/null && apt-get install -y "${need_apt[@]}" >/dev/null; }
    fi
    python3 -c "import ortools" 2>/dev/null || pip install ortools >/dev/null
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if [ -n "${EWMATCH_BIN:-}" ]; then
    ewmatch="$EWMATCH_BIN"
else
    echo "building ewmatch (release, .build-release)…" >&2
    (cd "$repo" && swift build -c release --scratch-path .build-release --product ewmatch >&2)
    ewmatch="$repo/.build-release/release/ewmatch"
fi
g++ -O2 -o "$tmp/solve_lemon" "$shared/solve_lemon.cc" -llemon

sizes=(medium)
[ "$large" = 1 ] && sizes+=(large)

# One run: prints "solve_s objective peak_kb".
run_one() {
    local solver="$1" file="$2" out
    case "$solver" in
        engine) out="$(/usr/bin/time -v "$ewmatch" solve "$file" 2>"$tmp/time.txt")" ;;
        ortools) out="$(/usr/bin/time -v python3 "$shared/solve_ortools.py" "$file" 2>"$tmp/time.txt")" ;;
        lemon) out="$(/usr/bin/time -v "$tmp/solve_lemon" "$file" ns 2>"$tmp/time.txt")" ;;
    esac
    local solve objective peak
    solve="$(grep -o 'solve_s=[0-9.]*' <<<"$out" | tail -1 | cut -d= -f2)"
    objective="$(grep -o 'objective=-\?[0-9]*' <<<"$out" | tail -1 | cut -d= -f2)"
    peak="$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$tmp/time.txt")"
    [ -n "$solve" ] && [ -n "$objective" ] || { echo "error: $solver printed: $out" >&2; cat "$tmp/time.txt" >&2; exit 1; }
    if [ "$solver" = engine ]; then
        grep -q 'verified=yes' <<<"$out" || { echo "error: engine did not verify: $out" >&2; exit 1; }
    fi
    echo "$solve $objective $peak"
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { print a / b }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-10s %-8s %10s %14s %9s  %s\n' instance solver solve_s objective peak_MB "runs (solve_s)"
for size in "${sizes[@]}"; do
    file="$tmp/${size}_s1.txt"
    echo "generating $size…" >&2
    python3 "$shared/gen_instance.py" --size "$size" --seed 1 -o "$file" >/dev/null 2>&1
    declare -A med=() obj=()
    for solver in engine ortools lemon; do
        times=()
        objs=()
        peak=0
        for _ in $(seq "$runs"); do
            read -r t o p < <(run_one "$solver" "$file")
            times+=("$t")
            objs+=("$o")
            [ "$p" -gt "$peak" ] && peak="$p"
        done
        med[$solver]="$(printf '%s\n' "${times[@]}" | median)"
        obj[$solver]="$(printf '%s\n' "${objs[@]}" | sort -u | tr '\n' ' ' | sed 's/ $//')"
        printf '%-10s %-8s %10.3f %14s %9.0f  %s\n' "${size}_s1" "$solver" "${med[$solver]}" "${obj[$solver]}" \
            "$(div "$peak" 1024)" "${times[*]}"
    done
    equal=no
    [ "${obj[engine]}" = "${obj[ortools]}" ] && [ "${obj[engine]}" = "${obj[lemon]}" ] && equal=yes
    printf '%-10s ratio engine/OR-Tools %.2f   engine/LEMON %.2f   objectives equal: %s\n' "${size}_s1" \
        "$(div "${med[engine]}" "${med[ortools]}")" "$(div "${med[engine]}" "${med[lemon]}")" "$equal"
    rm -f "$file"
done
