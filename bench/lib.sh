# Shared by the benchmark scripts (sourced after deploy/lib.sh): a release build, a throwaway
# PostgreSQL with a migrated database and an admin token, a server on a free port, and
# cleanup when the script exits. Sets: work, binary, token, port, server_pid.

# bench_setup [durable]: `durable` keeps PostgreSQL's fsync defaults, for commit-rate benchmarks.
bench_setup() {
    work=$(mktemp -d /tmp/ewmatch-bench.XXXXXX)
    chmod 0755 "$work"
    say "building ewmatch (release)"
    swift build -c release --product ewmatch >/dev/null
    binary=$(swift build -c release --show-bin-path)/ewmatch
    start_throwaway_postgres "$@"
    server_pid=
    trap bench_cleanup EXIT
    createdb ewmatch_bench
    export PGDATABASE=ewmatch_bench
    "$binary" migrate >/dev/null
    token=$("$binary" token create --role admin --label bench)
    port=$((20000 + RANDOM % 20000))
}

# bench_serve [serve options…]: starts the server on $port and waits until it listens.
bench_serve() {
    "$binary" serve --port "$port" --log-level warning "$@" &
    server_pid=$!
    for _ in $(seq 100); do nc -z 127.0.0.1 "$port" 2>/dev/null && break; sleep 0.1; done
}

bench_stop_server() {
    [ -n "$server_pid" ] || return 0
    kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    server_pid=
}

bench_cleanup() {
    bench_stop_server
    stop_throwaway_postgres
    rm -rf "$work"
}
