#!/usr/bin/env bash
# Point lookups on the demo county, side by side in one run (issue 3):
#
#   bash benches/lookup.sh [POINTS [ROUNDS]]
#
#   1. gridgov in-process: CountyIndex::grid_at over POINTS seeded random points over the
#      county's bounding box (default 1,000,000), one thread pinned to core 0, best of ROUNDS
#      (default 7) — the bench binary of crates/gridgov-bench (benches/lookup.rs);
#   2. shapely 2.x: STRtree(grids).query(points, predicate="within") on the same polygons and
#      points, pinned to core 0, best of ROUNDS (benches/lookup_shapely.py, in a venv under
#      the target folder, made with pip when missing); both answers compared point by point;
#   3. PostGIS: one prepared ST_Contains query per point (GiST index), sequentially on one
#      connection over the local Unix socket, PG_POINTS points (default 20,000), best of
#      PG_ROUNDS (default 3), on a throwaway server (scripts/pg.sh) holding the demo county
#      (written by the bench's `load` mode through the validated write path);
#   4. (TODO hook, see "Server lookups" below) POST /api/v1/lookup with 100,000 points and
#      GET /api/v1/lookup under wrk, against `gridgov serve`; skipped, with a note, while the
#      server does not answer on those endpoints.
#
# Prints a table at the end. Environment: CARGO_TARGET_DIR (default ./target),
# PG_POINTS, PG_ROUNDS, SERVER_PORT (default 18089), WRK_SECONDS (default 10),
# WRK_CONNECTIONS (default 16), KEEP=1 keeps the work folder. Needs PostgreSQL 15 + PostGIS
# (scripts/setup.sh), python3 with venv, and for step 4 curl and wrk (installed with apt-get
# when missing). Speed is never asserted: this prints figures for BENCHMARKS.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

POINTS=${1:-1000000}
ROUNDS=${2:-7}
PG_POINTS=${PG_POINTS:-20000}
PG_ROUNDS=${PG_ROUNDS:-3}
SERVER_PORT=${SERVER_PORT:-18089}
WRK_SECONDS=${WRK_SECONDS:-10}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-16}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=$TARGET/lookup-venv

say() { echo "lookup.sh: $*" >&2; }
die() {
    say "$*"
    exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gridgov-lookup.XXXXXX")
PG_DIR=""
SERVER_PID=""
finish() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n $PG_DIR ]]; then
        bash scripts/pg.sh stop "$PG_DIR" || say "could not remove $PG_DIR"
    fi
    if [[ ${KEEP:-} == 1 ]]; then
        say "kept $WORK"
    else
        rm -rf -- "$WORK"
    fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# name=value pairs from every `result name=value` line the steps print.
declare -A R
collect() {
    local line
    while IFS= read -r line; do
        if [[ $line == result\ *=* ]]; then
            line=${line#result }
            R[${line%%=*}]=${line#*=}
        fi
    done <"$1"
}

# ---------------------------------------------------------------------------------------
# Build. The bench is required; gridgov itself only for the server lookups (step 4).
say "building the lookup bench (release)"
BENCH=$(cargo bench -p gridgov-bench --bench lookup --no-run --message-format=json |
    jq -r 'select(.reason == "compiler-artifact" and .target.name == "lookup"
                  and .executable != null) | .executable' | tail -n1)
[[ -n $BENCH && -x $BENCH ]] || die "could not build the lookup bench (cargo bench -p gridgov-bench --no-run)"
say "building gridgov (release)"
GRIDGOV=""
if cargo build --release -p gridgov-cli >&2; then
    GRIDGOV=$TARGET/release/gridgov
else
    say "gridgov-cli does not build: the server lookups (step 4) are skipped"
fi

# shapely 2.x in a venv of its own under the target folder.
if ! "$VENV/bin/python" -c 'import shapely, numpy, sys; sys.exit(int(shapely.__version__.split(".")[0]) < 2)' 2>/dev/null; then
    say "installing shapely>=2 into $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install --quiet 'shapely>=2' numpy >&2 || die "pip could not install shapely>=2"
fi

# ---------------------------------------------------------------------------------------
# 1 and 2: in-process, one core each.
say "1. gridgov grid_at: $POINTS points, best of $ROUNDS, pinned to core 0"
taskset -c 0 "$BENCH" gridgov --dir "$WORK" --points "$POINTS" --rounds "$ROUNDS" \
    >"$WORK/gridgov.out"
collect "$WORK/gridgov.out"

say "2. shapely STRtree.query(predicate='within'): the same points, pinned to core 0"
taskset -c 0 "$VENV/bin/python" benches/lookup_shapely.py "$WORK" "$ROUNDS" >"$WORK/shapely.out"
collect "$WORK/shapely.out"

# ---------------------------------------------------------------------------------------
# 3: PostGIS, one query per point over the Unix socket.
say "3. PostGIS: starting a throwaway server and loading the demo county"
pg_env=$(GRIDGOV_PG_OWNER=$$ bash scripts/pg.sh start) || die "PostGIS could not be started"
eval "$pg_env"
PG_DIR=$GRIDGOV_PG_DIR
# The validated write path, as `gridgov load` takes it (the bench needs no gridgov binary).
"$BENCH" load --url "$GRIDGOV_TEST_DATABASE_URL" >&2
psql -X -q -h "$GRIDGOV_PG_DIR" -p "$GRIDGOV_PG_PORT" -U postgres -d gridgov_test \
    -c 'VACUUM ANALYZE grids' -c 'VACUUM ANALYZE grid_plans' >&2
R[postgis_version]=$(psql -X -At -h "$GRIDGOV_PG_DIR" -p "$GRIDGOV_PG_PORT" -U postgres \
    -d gridgov_test -c "SELECT split_part(version(), ' ', 2) || ' / PostGIS ' || postgis_lib_version() || ' / GEOS ' || postgis_geos_version()")
SOCKET_URL="postgres://postgres@localhost:$GRIDGOV_PG_PORT/gridgov_test?host=$GRIDGOV_PG_DIR"
say "3. PostGIS ST_Contains, one query a point: $PG_POINTS points, best of $PG_ROUNDS"
"$BENCH" postgis --url "$SOCKET_URL" --points "$PG_POINTS" --rounds "$PG_ROUNDS" \
    >"$WORK/postgis.out"
collect "$WORK/postgis.out"

# ---------------------------------------------------------------------------------------
# 4. Server lookups.
#
# TODO(issue 3, server lookups): the two functions below measure the HTTP lookup endpoints,
# which were being written while this script was (`POST /api/v1/lookup?crs=wgs84`, a
# text/csv body with a `lon,lat` header and 100,000 rows in, CSV out;
# `GET /api/v1/lookup?lon=&lat=&crs=wgs84`). Each is skipped, with a note in the table, when
# gridgov-cli does not build or `gridgov serve` does not answer 200 on the endpoint for a
# point inside a grid. If the endpoints' contract changes, adjust BATCH_HEADER, the query
# strings here and in points.lua (crates/gridgov-bench/src/exchange.rs), and the
# `grid_code` column counted below.

# The header row the batch body starts with (BATCH_HEADER= for none; the bench writes
# points.csv without one).
BATCH_HEADER=${BATCH_HEADER-lon,lat}
BASE=http://127.0.0.1:$SERVER_PORT

# Starts `gridgov serve` on the demo GeoPackage (made by `gridgov demo` on first use), pinned
# to core 0 (wrk gets core 1), and waits for /api/v1/health.
server_start() {
    [[ -n $SERVER_PID ]] && return 0
    [[ -f $WORK/demo.gpkg ]] || "$GRIDGOV" demo --out "$WORK/demo.gpkg" --seed 42 >&2
    taskset -c 0 "$GRIDGOV" serve --store "$WORK/demo.gpkg" --addr "127.0.0.1:$SERVER_PORT" \
        --web-dir "$ROOT/web" --rate-limit 0 >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    local i
    for i in $(seq 1 300); do
        if curl -fsS -o /dev/null "$BASE/api/v1/health" 2>/dev/null; then
            return 0
        fi
        kill -0 "$SERVER_PID" 2>/dev/null || {
            cat "$WORK/server.log" >&2
            die "gridgov serve exited"
        }
        sleep 0.1
    done
    die "gridgov serve did not answer /api/v1/health within 30 s"
}

# Whether GET /api/v1/lookup answers 200 for a point inside a grid.
lookup_endpoint_answers() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' \
        "$BASE/api/v1/lookup?lon=${R[probe_lon]}&lat=${R[probe_lat]}&crs=wgs84" || true)
    [[ $code == 200 ]]
}

# Whether POST /api/v1/lookup answers 200 for a one-point CSV body.
batch_endpoint_answers() {
    local code
    code=$(printf '%s%s,%s\n' "${BATCH_HEADER:+$BATCH_HEADER$'\n'}" "${R[probe_lon]}" "${R[probe_lat]}" |
        curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/csv' \
            --data-binary @- "$BASE/api/v1/lookup?crs=wgs84" || true)
    [[ $code == 200 ]]
}

# CPU seconds (user + system, all threads) the server process has used so far.
server_cpu_seconds() {
    local stat fields
    stat=$(<"/proc/$SERVER_PID/stat")
    # Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
    read -r -a fields <<<"${stat##*) }"
    awk -v u="${fields[11]}" -v s="${fields[12]}" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.3f", (u + s) / hz }'
}

# POST /api/v1/lookup with the 100,000 points of points.csv, end to end: wall time and the
# server's CPU time, best of ROUNDS.
bench_batch_endpoint() {
    if [[ -z $GRIDGOV ]]; then
        R[batch]="not measured: gridgov-cli does not build"
        return 0
    fi
    server_start
    if ! batch_endpoint_answers; then
        say "4a. POST /api/v1/lookup does not answer yet: skipped (TODO hook)"
        R[batch]="not measured: the endpoint does not answer yet"
        return 0
    fi
    local body=$WORK/batch.csv n rows best_wall="" best_cpu="" i cpu0 cpu1 wall cpu
    n=$(wc -l <"$WORK/points.csv")
    { [[ -n $BATCH_HEADER ]] && echo "$BATCH_HEADER"; cat "$WORK/points.csv"; } >"$body"
    say "4a. POST /api/v1/lookup: $n points, best of $ROUNDS"
    for i in $(seq 1 "$ROUNDS"); do
        cpu0=$(server_cpu_seconds)
        wall=$(curl -fsS -o "$WORK/batch.out" -w '%{time_total}' -X POST \
            -H 'Content-Type: text/csv' --data-binary @"$body" "$BASE/api/v1/lookup?crs=wgs84")
        cpu1=$(server_cpu_seconds)
        cpu=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.3f", b - a }')
        if [[ -z $best_wall ]] || awk -v a="$wall" -v b="$best_wall" 'BEGIN { exit !(a < b) }'; then
            best_wall=$wall
            best_cpu=$cpu
        fi
    done
    rows=$(wc -l <"$WORK/batch.out")
    # Rows answered with a grid, against grid_at's count for the same points.
    R[batch_grids]=$("$VENV/bin/python" -c 'import csv, sys
rows = csv.DictReader(open(sys.argv[1], encoding="utf-8"))
print(sum(1 for row in rows if row.get("grid_code")))' "$WORK/batch.out" 2>/dev/null || echo "?")
    R[batch_points]=$n
    R[batch_rows]=$rows
    R[batch_wall_s]=$best_wall
    R[batch_cpu_s]=$best_cpu
    R[batch_points_per_s]=$(awk -v n="$n" -v t="$best_wall" 'BEGIN { printf "%.0f", n / t }')
    R[batch]="${R[batch_points_per_s]} points/s end to end (best wall $best_wall s, server CPU $best_cpu s in that request, $rows response lines, ${R[batch_grids]} with a grid; grid_at finds ${R[csv_hits]})"
}

# GET /api/v1/lookup under load: wrk cycling through the seeded points of points.lua,
# pinned to core 1 (the server has core 0): requests/s and p99 latency.
bench_get_endpoint() {
    if [[ -z $GRIDGOV ]]; then
        R[wrk]="not measured: gridgov-cli does not build"
        return 0
    fi
    server_start
    if ! lookup_endpoint_answers; then
        say "4b. GET /api/v1/lookup does not answer yet: skipped (TODO hook)"
        R[wrk]="not measured: the endpoint does not answer yet"
        return 0
    fi
    if ! command -v wrk >/dev/null; then
        say "installing wrk (Debian package)"
        apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; } ||
            die "could not install wrk"
    fi
    say "4b. GET /api/v1/lookup under wrk: ${WRK_SECONDS}s, $WRK_CONNECTIONS connections"
    local cpu0 cpu1
    cpu0=$(server_cpu_seconds)
    taskset -c 1 wrk -t1 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency \
        -s "$WORK/points.lua" "$BASE" >"$WORK/wrk.out"
    cpu1=$(server_cpu_seconds)
    local line
    line=$(grep '^wrk_result ' "$WORK/wrk.out") || die "wrk printed no result: $(cat "$WORK/wrk.out")"
    local kv
    for kv in ${line#wrk_result }; do
        R[wrk_${kv%%=*}]=${kv#*=}
    done
    R[wrk_server_cpu_s]=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.3f", b - a }')
    R[wrk]="${R[wrk_requests_per_s]} requests/s, p50 ${R[wrk_p50_ms]} ms, p99 ${R[wrk_p99_ms]} ms; ${R[wrk_requests]} requests, ${R[wrk_non_2xx]} non-2xx (404: outside the county), ${R[wrk_socket_errors]} socket errors; server CPU ${R[wrk_server_cpu_s]} s in ${WRK_SECONDS} s ($WRK_CONNECTIONS connections, wrk on core 1, server on core 0)"
}

bench_batch_endpoint
bench_get_endpoint

# ---------------------------------------------------------------------------------------
# The table.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "—" }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "met" : "MISSED") }'; }
g=${R[gridgov_points_per_s]}
s=${R[shapely_points_per_s]}
p=${R[postgis_points_per_s]}
rs=$(ratio "$g" "$s")
rp=$(ratio "$g" "$p")

cat <<EOF

Point → grid lookups on the demo county (seed 42): ${R[gridgov_grids]} grids of the plan in force,
${R[gridgov_vertices]} vertices; points uniform over the county's bounding box (${R[gridgov_hits]} of
${R[gridgov_points]} in a grid). Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),
load average at the end $(cut -d' ' -f1-3 /proc/loadavg). ${R[postgis_version]}; shapely ${R[shapely_version]} (GEOS ${R[geos_version]}).

| lookup | points | points/s (best) | points/s (median) | gridgov is × faster | target | answers differing from gridgov |
|---|---:|---:|---:|---:|---|---:|
| gridgov CountyIndex::grid_at, 1 core | ${R[gridgov_points]} | $g | ${R[gridgov_median_points_per_s]} | 1 | | — |
| shapely STRtree.query(predicate="within"), 1 core | ${R[shapely_points]} | $s | ${R[shapely_median_points_per_s]} | $rs | ≥ 2: $(verdict "$rs" 2) | ${R[shapely_mismatches]} |
| PostGIS ST_Contains + GiST, 1 query a point, Unix socket | ${R[postgis_points]} | $p | ${R[postgis_median_points_per_s]} | $rp | ≥ 20: $(verdict "$rp" 20) | ${R[postgis_mismatches]} |

POST /api/v1/lookup (${R[batch_points]:-100000} points, CSV): ${R[batch]}
GET /api/v1/lookup under wrk: ${R[wrk]}
EOF
