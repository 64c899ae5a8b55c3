#!/usr/bin/env bash
# A throwaway PostgreSQL 15 + PostGIS server for the tests.
#
#   eval "$(bash scripts/pg.sh start)"   initdb into a fresh /tmp/gridgov-pg.XXXXXX, start
#                                        it on 127.0.0.1 (port 55432, or the next free one),
#                                        trust auth, create database gridgov_test with the
#                                        postgis extension; print `export` lines for
#                                        GRIDGOV_PG_DIR, GRIDGOV_PG_PORT and
#                                        GRIDGOV_TEST_DATABASE_URL on stdout.
#   bash scripts/pg.sh stop DIR          stop the server in DIR and remove DIR.
#   bash scripts/pg.sh clean             stop and remove servers left by runs that died.
#
# Environment: GRIDGOV_PG_PORT (first port to try, default 55432); GRIDGOV_PG_OWNER (pid
# of the process the server belongs to, default the caller's: once that process is gone
# the server counts as left over, and the next `start` or `clean` removes it).
# Needs the Debian packages postgresql-15-postgis-3 (scripts/setup.sh installs them).
# As root, the server runs as the `postgres` user (initdb refuses root).
set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
BASE=/tmp
PREFIX=gridgov-pg.
MARKER=.gridgov-pg
DB=gridgov_test

say() { echo "pg.sh: $*" >&2; }
die() {
    say "$*"
    exit 1
}

# Runs a server-side command as the user the server belongs to.
as_pg() {
    if ((EUID == 0)); then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

port_busy() {
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# stop_dir DIR: stops the server whose data is in DIR/data (if any) and removes DIR.
stop_dir() {
    local dir=$1 pid
    [[ -f $dir/$MARKER ]] || die "refusing to touch $dir: not a directory made by pg.sh"
    if [[ -f $dir/data/postmaster.pid ]]; then
        (
            cd "$dir"
            as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
                as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 10 stop >/dev/null 2>&1
        ) || true
        if [[ -f $dir/data/postmaster.pid ]]; then
            pid=$(head -n1 "$dir/data/postmaster.pid" 2>/dev/null || true)
            if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
                say "PostgreSQL (pid $pid) did not stop; killing it"
                kill -KILL "$pid" 2>/dev/null || true
                sleep 1
            fi
        fi
    fi
    rm -rf -- "$dir"
}

# Removes the servers of earlier runs whose owner process is gone.
clean() {
    local dir owner
    shopt -s nullglob
    for dir in "$BASE/$PREFIX"*; do
        [[ -d $dir && -f $dir/$MARKER ]] || continue
        owner=$(cat "$dir/$MARKER" 2>/dev/null || true)
        if [[ $owner =~ ^[0-9]+$ ]] && kill -0 "$owner" 2>/dev/null; then
            continue
        fi
        say "removing the left-over server in $dir"
        stop_dir "$dir"
    done
}

start() {
    [[ -x $PGBIN/initdb && -x $PGBIN/pg_ctl ]] ||
        die "PostgreSQL 15 is not installed ($PGBIN/initdb missing); run scripts/setup.sh"
    [[ -f /usr/share/postgresql/15/extension/postgis.control ]] ||
        die "PostGIS for PostgreSQL 15 is not installed; run scripts/setup.sh"
    if ((EUID == 0)); then
        id postgres >/dev/null 2>&1 || die "there is no 'postgres' user to run PostgreSQL as"
    fi

    clean

    local owner=${GRIDGOV_PG_OWNER:-$PPID}
    local dir
    dir=$(mktemp -d "$BASE/${PREFIX}XXXXXXXX")
    echo "$owner" >"$dir/$MARKER"
    # From here on, a failure removes the directory (and the server, if it started).
    trap 'rc=$?; if ((rc != 0)); then stop_dir "$dir" 2>/dev/null || true; fi' EXIT
    chmod 0755 "$dir"
    if ((EUID == 0)); then
        chown postgres: "$dir"
    fi
    cd "$dir"

    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        --no-sync --no-instructions >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        die "initdb failed"
    }

    local port=${GRIDGOV_PG_PORT:-55432} tries=0 started=""
    while ((tries < 20)); do
        tries=$((tries + 1))
        if port_busy "$port"; then
            say "port $port is in use; trying $((port + 1))"
            port=$((port + 1))
            continue
        fi
        if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null 2>&1; then
            started=1
            break
        fi
        if port_busy "$port" || grep -q 'could not bind\|Address already in use' "$dir/postgres.log" 2>/dev/null; then
            say "port $port was taken while starting; trying $((port + 1))"
            as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
            port=$((port + 1))
            continue
        fi
        break
    done
    if [[ -z $started ]]; then
        tail -n 30 "$dir/postgres.log" >&2 2>/dev/null || true
        die "PostgreSQL did not start (log above)"
    fi

    local psql=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
    "${psql[@]}" -d postgres -c "CREATE DATABASE $DB" >&2 || die "could not create database $DB"
    "${psql[@]}" -d "$DB" -c "CREATE EXTENSION postgis" >&2 ||
        die "CREATE EXTENSION postgis failed in $DB"
    local version
    version=$("${psql[@]}" -d "$DB" -At -c "SELECT postgis_lib_version()") ||
        die "postgis does not answer in $DB"
    say "PostgreSQL 15 + PostGIS $version on 127.0.0.1:$port, data in $dir"

    trap - EXIT
    printf 'export GRIDGOV_PG_DIR=%q\n' "$dir"
    printf 'export GRIDGOV_PG_PORT=%q\n' "$port"
    printf 'export GRIDGOV_TEST_DATABASE_URL=%q\n' "postgres://postgres@127.0.0.1:$port/$DB"
}

case "${1:-}" in
    start) start ;;
    stop)
        [[ -n ${2:-} ]] || die "usage: pg.sh stop DIR"
        [[ -d $2 ]] || exit 0
        stop_dir "$2"
        ;;
    clean) clean ;;
    *)
        sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
        exit 2
        ;;
esac
