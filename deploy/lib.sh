# Shared by deploy/run and deploy/test: install what is missing, find PostgreSQL's binaries,
# run a throwaway cluster. Sourced, not run.

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Debian packages the build, the service and the tests need (openssl makes the tests' throwaway
# certificates and, with ncat, is a TLS client of theirs; haproxy: the several-instances test runs
# deploy/haproxy.cfg).
REQUIRED_PACKAGES=(libpq-dev pkg-config postgresql postgresql-contrib netcat-openbsd openssl ncat haproxy)

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
    local missing=()
    for package in "${REQUIRED_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # Debian's postgresql package starts a system cluster on install; ewmatch never uses it.
    command -v swift >/dev/null || die "the Swift 6 toolchain is not on PATH (https://swift.org/install): install it, then run this again"
}

pg_bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
        [ -x "$dir/initdb" ] && { echo "$dir"; return; }
    done
    die "PostgreSQL server binaries not found under /usr/lib/postgresql"
}

# The unprivileged account a throwaway cluster runs as when we are root.
pg_run_user() {
    if [ "$(id -u)" != 0 ]; then id -un; return; fi
    id ewmatch >/dev/null 2>&1 || as_root useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin ewmatch
    echo ewmatch
}

as_pg_user() {
    local user=$1; shift
    if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

# Starts a cluster in a fresh directory under /tmp listening on a unix socket there only, and
# exports the PG* variables that libpq (and so ewmatch and its tests) read. Tests trade
# durability for speed (no fsync); `start_throwaway_postgres durable` keeps PostgreSQL's
# defaults, as benchmarks that compare commit rates must.
start_throwaway_postgres() {
    local bindir user dir settings="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${1:-}" = durable ] && settings=
    bindir=$(pg_bindir)
    user=$(pg_run_user)
    dir=$(mktemp -d /tmp/ewmatch-test-pg.XXXXXX)
    chmod 0755 "$dir"
    [ "$(id -u)" = 0 ] && chown "$user" "$dir"
    THROWAWAY_PG_DIR=$dir
    THROWAWAY_PG_USER=$user
    THROWAWAY_PG_BINDIR=$bindir
    as_pg_user "$user" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
    as_pg_user "$user" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=1000 $settings" \
        start >/dev/null || { cat "$dir/postgres.log" >&2; die "PostgreSQL did not start"; }
    export PGHOST=$dir PGPORT=5432 PGUSER=postgres PGDATABASE=postgres
    unset DATABASE_URL
    say "throwaway PostgreSQL running (PGHOST=$PGHOST)"
}

stop_throwaway_postgres() {
    [ -n "${THROWAWAY_PG_DIR:-}" ] || return 0
    as_pg_user "$THROWAWAY_PG_USER" "$THROWAWAY_PG_BINDIR/pg_ctl" -D "$THROWAWAY_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$THROWAWAY_PG_DIR"
    THROWAWAY_PG_DIR=
}
