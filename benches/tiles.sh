#!/usr/bin/env bash
# Vector tiles on the demo county, side by side in one run:
#
#   bash benches/tiles.sh
#
#   1. PostGIS, caches off: `gridgov serve --store postgres://… --tile-cache-mb 0` against
#      Martin (MARTIN, default /work/tools/martin/bin/martin; skipped with a note when
#      missing) over the same tables of a throwaway PostGIS (scripts/pg.sh) holding the demo
#      county (`gridgov demo --seed 42`, `gridgov migrate`, `gridgov load`). Martin is
#      configured by `tile_bench martin-config` from gridgov's tile schema: the same layers,
#      attributes, minimum zooms, extent 4096 and buffer 64, its tile cache off
#      (benches/tiles_martin.yaml is a copy, for reading). Two mixes over the same seeded
#      addresses (ADDRESSES, default 2,000, zooms 8–16 over the county's bounds read from
#      TileJSON /tiles/counties.json): the composite tile of every layer
#      (`/tiles/all/z/x/y.mvt` against Martin's `/counties,townships,…/z/x/y`) and one layer
#      a request, mostly the dense layers (`/tiles/{layer}/…` against `/{layer}/…`). Before
#      the load, `tile_bench compare` fetches every tile from both and compares bytes,
#      features and vertices per layer, feature ids and attribute values.
#   2. Cached: gridgov with `--tile-cache-mb 256`, every composite tile fetched first,
#      against `fixed_body` (a minimal axum server answering one fixed body of the mean
#      response size, same content type, same number of tokio workers): the HTTP ceiling.
#   3. GeoPackage, caches off: `gridgov serve --store demo.gpkg --tile-cache-mb 0` (tiles
#      encoded from the in-memory index), both mixes; its tiles compared with PostGIS's.
#
# Load: wrk (benches/tiles.lua cycling through the paths) on loopback, WRK_THREADS threads
# (default 1), WRK_CONNECTIONS (64) connections, a WARM_SECONDS (5) warm-up, then
# WRK_SECONDS (20); ROUNDS (2) rounds, alternating which server goes first; the table shows
# each round and the median. Nothing is pinned: servers, PostgreSQL and wrk share the
# machine's cores. Every request sends `Accept-Encoding: $ENCODING` (default gzip; both
# servers then gzip at level 6).
#
# Sign-in: gridgov answers nothing but its health check without a session. Each store (the
# PostGIS database, the GeoPackage) gets a county admin `bench` (`gridgov user add …
# --password-stdin`, a fixed bench password); once a gridgov server is up the script logs in
# (`POST /api/v1/auth/login`) and sends `Authorization: Bearer TOKEN` on every request to that
# server: TileJSON (curl), `tile_bench compare`/`fetch` (--a-token, --b-token, --token) and
# wrk (benches/tiles.lua reads TILES_AUTHORIZATION). Martin and fixed_body get no header.
#
# PARTS (default "postgis gpkg cached") picks the parts to run: PARTS=cached measures the
# cached tiles alone (PostGIS, the demo and the addresses are still set up; the other rows of
# the table stay empty).
#
# Environment: CARGO_TARGET_DIR (default ./target), PARTS, MARTIN, MARTIN_POOL_SIZE (default:
# Martin's own, 20; gridgov's pool is 8), ADDRESSES, SEED (42), WRK_*, WARM_SECONDS, ROUNDS,
# ENCODING, SKIP_BUILD=1 (use the binaries already built), KEEP=1 (keep the work folder).
# Ports PORT_BASE (18090) to PORT_BASE + 4 on 127.0.0.1. Needs PostgreSQL 15 + PostGIS
# (scripts/setup.sh), wrk, curl, jq. Speed is never asserted: this prints figures for
# BENCHMARKS.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BENCHES=$ROOT/benches

ADDRESSES=${ADDRESSES:-2000}
SEED=${SEED:-42}
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
WRK_SECONDS=${WRK_SECONDS:-20}
WARM_SECONDS=${WARM_SECONDS:-5}
ROUNDS=${ROUNDS:-2}
ENCODING=${ENCODING:-gzip}
PARTS=${PARTS:-postgis gpkg cached}
MARTIN=${MARTIN:-/work/tools/martin/bin/martin}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PORT_BASE=${PORT_BASE:-18090}
GRIDGOV_PORT=$PORT_BASE
MARTIN_PORT=$((PORT_BASE + 1))
FIXED_PORT=$((PORT_BASE + 2))
CACHED_PORT=$((PORT_BASE + 3))
GPKG_PORT=$((PORT_BASE + 4))
# The account every gridgov server is signed in with (a throwaway store: the password is fixed).
BENCH_USER=bench
BENCH_PASSWORD=gridgov-tile-bench
BENCH_SCOPE=520526000000

say() { echo "tiles.sh: $*" >&2; }
die() {
    say "$*"
    exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gridgov-tiles.XXXXXX")
PG_DIR=""
declare -A PIDS=()
finish() {
    local rc=$? name
    trap - EXIT INT TERM
    for name in "${!PIDS[@]}"; do
        kill "${PIDS[$name]}" 2>/dev/null || true
        wait "${PIDS[$name]}" 2>/dev/null || true
    done
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
declare -A R=()
collect() {
    local line
    while IFS= read -r line; do
        if [[ $line == result\ *=* ]]; then
            line=${line#result }
            R[${line%%=*}]=${line#*=}
        fi
    done <"$1"
}

for tool in wrk curl jq; do
    command -v "$tool" >/dev/null || die "$tool is needed (Debian: apt-get install $tool)"
done

# ---------------------------------------------------------------------------------------
# Build.
if [[ ${SKIP_BUILD:-} != 1 ]]; then
    say "building gridgov, tile_bench and fixed_body (release)"
    cargo build --release -p gridgov-cli -p gridgov-bench --bins >&2 || die "the release build failed"
fi
GRIDGOV=$TARGET/release/gridgov
TILE_BENCH=$TARGET/release/tile_bench
FIXED_BODY=$TARGET/release/fixed_body
for b in "$GRIDGOV" "$TILE_BENCH" "$FIXED_BODY"; do
    [[ -x $b ]] || die "$b is missing (build with cargo build --release -p gridgov-cli -p gridgov-bench --bins)"
done
# part NAME: whether PARTS holds NAME.
part() { [[ " $PARTS " == *" $1 "* ]]; }
for p in $PARTS; do
    [[ $p == postgis || $p == gpkg || $p == cached ]] || die "PARTS: unknown part '$p' (postgis, gpkg, cached)"
done
HAVE_MARTIN=""
if ! part postgis; then
    R[martin_version]="not measured: PARTS=$PARTS"
elif [[ -x $MARTIN ]]; then
    HAVE_MARTIN=1
    R[martin_version]=$("$MARTIN" --version 2>/dev/null | head -n1 || echo "martin (version unknown)")
else
    say "no Martin binary at $MARTIN: the Martin side is skipped"
    R[martin_version]="not measured: no binary at $MARTIN"
fi

# ---------------------------------------------------------------------------------------
# Servers: each on its own port, its output in WORK/NAME.log.
port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# start_server NAME PORT HEALTH_PATH COMMAND...: starts it and waits (60 s) for HEALTH_PATH.
start_server() {
    local name=$1 port=$2 health=$3 _
    shift 3
    port_busy "$port" && die "port $port is in use (needed for $name)"
    "$@" >"$WORK/$name.log" 2>&1 &
    PIDS[$name]=$!
    for _ in $(seq 1 600); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port$health" 2>/dev/null; then
            return 0
        fi
        kill -0 "${PIDS[$name]}" 2>/dev/null || {
            tail -n 30 "$WORK/$name.log" >&2
            unset "PIDS[$name]"
            die "$name exited (log above)"
        }
        sleep 0.1
    done
    tail -n 30 "$WORK/$name.log" >&2
    die "$name did not answer $health within 60 s"
}

# add_bench_user STORE: the bench account in a store (a GeoPackage path or postgres:// URL).
add_bench_user() {
    printf '%s\n' "$BENCH_PASSWORD" |
        "$GRIDGOV" user add "$BENCH_USER" --role county_admin --scope "$BENCH_SCOPE" \
            --password-stdin --store "$1" >&2
}

# sign_in PORT: prints a session token of the bench account from the gridgov server on PORT.
sign_in() {
    local token
    token=$(jq -cn --arg u "$BENCH_USER" --arg p "$BENCH_PASSWORD" '{username: $u, password: $p}' |
        curl -fsS -H 'Content-Type: application/json' --data-binary @- \
            "http://127.0.0.1:$1/api/v1/auth/login" | jq -r '.token // empty') || true
    [[ -n $token ]] || return 1
    printf '%s\n' "$token"
}

stop_server() {
    local name=$1
    [[ -n ${PIDS[$name]:-} ]] || return 0
    kill "${PIDS[$name]}" 2>/dev/null || true
    wait "${PIDS[$name]}" 2>/dev/null || true
    unset "PIDS[$name]"
}

# CPU seconds (user + system, all threads) a process has used so far.
cpu_seconds() {
    local stat fields
    stat=$(<"/proc/$1/stat") || {
        echo 0
        return
    }
    read -r -a fields <<<"${stat##*) }"
    awk -v u="${fields[11]}" -v s="${fields[12]}" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.2f", (u + s) / hz }'
}

# bench KEY SERVER_NAME PORT PATHS_FILE [TOKEN]: a warm-up, then one measured wrk run (with
# `Authorization: Bearer TOKEN` when given); appends the requests/s to RPS[KEY] and keeps the
# run's other figures in R[KEY_*] (the last round's).
declare -A RPS=()
bench() {
    local key=$1 name=$2 port=$3 paths=$4 token=${5:-} out=$WORK/wrk_$1.out line kv cpu0 cpu1
    local base=http://127.0.0.1:$port authorization=""
    if [[ -n $token ]]; then
        authorization="Bearer $token"
    fi
    TILES_AUTHORIZATION=$authorization wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" \
        -d"${WARM_SECONDS}s" -s "$BENCHES/tiles.lua" "$base" -- "$paths" "$ENCODING" >/dev/null
    cpu0=$(cpu_seconds "${PIDS[$name]}")
    TILES_AUTHORIZATION=$authorization wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" \
        -d"${WRK_SECONDS}s" -s "$BENCHES/tiles.lua" "$base" -- "$paths" "$ENCODING" >"$out"
    cpu1=$(cpu_seconds "${PIDS[$name]}")
    line=$(grep '^wrk_result ' "$out") || die "wrk printed no result: $(cat "$out")"
    for kv in ${line#wrk_result }; do
        R[${key}_${kv%%=*}]=${kv#*=}
    done
    R[${key}_server_cpu_s]=$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.1f", b - a }')
    RPS[$key]="${RPS[$key]:-} ${R[${key}_requests_per_s]}"
    say "  $key: ${R[${key}_requests_per_s]} requests/s, p50 ${R[${key}_p50_ms]} ms, p99 ${R[${key}_p99_ms]} ms, ${R[${key}_non_2xx]} non-2xx, ${R[${key}_socket_errors]} socket errors, server CPU ${R[${key}_server_cpu_s]} s"
}

# The figures of RPS[KEY], one a line (none for a part not run).
figures() { tr ' ' '\n' <<<"${RPS[$1]:-}" | { grep -v '^$' || true; }; }
median() {
    figures "$1" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) printf "%.0f", v[(NR + 1) / 2]; else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
rounds_of() { figures "$1" | awk '{ printf "%s%.0f", (NR > 1 ? " / " : ""), $1 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "—" }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "—") print "—"; else print (r >= t ? "met" : "MISSED") }'; }

# ---------------------------------------------------------------------------------------
# PostGIS with the demo county.
say "starting a throwaway PostGIS"
pg_env=$(GRIDGOV_PG_OWNER=$$ bash scripts/pg.sh start) || die "PostGIS could not be started"
eval "$pg_env"
PG_DIR=$GRIDGOV_PG_DIR
URL=$GRIDGOV_TEST_DATABASE_URL
say "generating the demo county (seed $SEED) and loading it into PostGIS"
"$GRIDGOV" demo --out "$WORK/demo.gpkg" --seed "$SEED" >&2
"$GRIDGOV" migrate --store "$URL" >&2
"$GRIDGOV" load --from "$WORK/demo.gpkg" --to "$URL" >&2
add_bench_user "$URL" || die "could not add the bench account to PostGIS"
PSQL=(psql -X -q -At -h 127.0.0.1 -p "$GRIDGOV_PG_PORT" -U postgres -d gridgov_test)
"${PSQL[@]}" -c 'VACUUM ANALYZE' >&2
# gridgov serves as a role that row-level security holds (it refuses the superuser); Martin
# reads as the superuser, with no policies in its way.
"${PSQL[@]}" -c 'CREATE ROLE gridgov_bench_server LOGIN IN ROLE gridgov_app' >&2
SERVER_URL="postgres://gridgov_bench_server@127.0.0.1:$GRIDGOV_PG_PORT/gridgov_test"
R[postgis_version]=$("${PSQL[@]}" -c "SELECT 'PostgreSQL ' || split_part(version(), ' ', 2) || ' / PostGIS ' || postgis_lib_version() || ' / GEOS ' || postgis_geos_version()")
R[features]=$("${PSQL[@]}" -c "SELECT (SELECT count(*) FROM households) || ' households, ' || (SELECT count(*) FROM roads) || ' roads, ' || (SELECT count(*) FROM grids) || ' grids, ' || (SELECT count(*) FROM land_use) || ' land-use polygons, ' || (SELECT count(*) FROM collection_points) || ' collection points'")

# ---------------------------------------------------------------------------------------
# 1. PostGIS, caches off.
say "1. gridgov on PostGIS, caches off (port $GRIDGOV_PORT)"
start_server gridgov "$GRIDGOV_PORT" /api/v1/health \
    "$GRIDGOV" serve --store "$SERVER_URL" --addr "127.0.0.1:$GRIDGOV_PORT" --web-dir "$ROOT/web" --tile-cache-mb 0 --rate-limit 0
PG_TOKEN=$(sign_in "$GRIDGOV_PORT") || die "could not sign in to gridgov on port $GRIDGOV_PORT"
BOUNDS=$(curl -fsS -H "Authorization: Bearer $PG_TOKEN" "http://127.0.0.1:$GRIDGOV_PORT/tiles/counties.json" |
    jq -r '.bounds | map(tostring) | join(",")')
[[ $BOUNDS == *,*,*,* ]] || die "no county bounds in /tiles/counties.json: '$BOUNDS'"
R[bounds]=$BOUNDS
"$TILE_BENCH" addresses --bounds "$BOUNDS" --dir "$WORK" --count "$ADDRESSES" --seed "$SEED" >"$WORK/addresses.out"
collect "$WORK/addresses.out"

if [[ -n $HAVE_MARTIN ]]; then
    "$TILE_BENCH" martin-config --url "$URL" --out "$WORK/martin.yaml" \
        --listen "127.0.0.1:$MARTIN_PORT" ${MARTIN_POOL_SIZE:+--pool-size "$MARTIN_POOL_SIZE"} >&2
    # The checked-in copy is for reading; warn when the schema has moved away from it.
    if ! diff <(sed -n '/^  tables:/,$p' "$WORK/martin.yaml") \
        <(sed -n '/^  tables:/,$p' "$BENCHES/tiles_martin.yaml") >/dev/null 2>&1; then
        say "note: benches/tiles_martin.yaml differs from the tile schema; the generated configuration is used (refresh the copy with tile_bench martin-config)"
    fi
    say "1. Martin on the same tables (port $MARTIN_PORT)"
    start_server martin "$MARTIN_PORT" /health env RUST_LOG=warn "$MARTIN" --config "$WORK/martin.yaml"
    M=http://127.0.0.1:$MARTIN_PORT
    G=http://127.0.0.1:$GRIDGOV_PORT
    say "1. comparing every tile of both mixes (gridgov against Martin)"
    "$TILE_BENCH" compare --label all --a "gridgov=$G" --a-paths "$WORK/gridgov_all.paths" \
        --a-token "$PG_TOKEN" --b "martin=$M" --b-paths "$WORK/martin_all.paths" --encoding "$ENCODING" \
        --report "$WORK/compare_all.txt" >"$WORK/compare_all.out"
    collect "$WORK/compare_all.out"
    "$TILE_BENCH" compare --label layers --a "gridgov=$G" --a-paths "$WORK/gridgov_layers.paths" \
        --a-token "$PG_TOKEN" --b "martin=$M" --b-paths "$WORK/martin_layers.paths" --encoding "$ENCODING" \
        --report "$WORK/compare_layers.txt" >"$WORK/compare_layers.out"
    collect "$WORK/compare_layers.out"
fi

for round in $(seq 1 "$ROUNDS"); do
    part postgis || break
    order="gridgov martin"
    ((round % 2 == 0)) && order="martin gridgov"
    for side in $order; do
        [[ $side == martin && -z $HAVE_MARTIN ]] && continue
        for mix in all layers; do
            say "1. round $round: $side, $mix"
            if [[ $side == gridgov ]]; then
                bench "pg_gridgov_$mix" gridgov "$GRIDGOV_PORT" "$WORK/gridgov_$mix.paths" "$PG_TOKEN"
            else
                bench "pg_martin_$mix" martin "$MARTIN_PORT" "$WORK/martin_$mix.paths"
            fi
        done
    done
done
stop_server martin

# ---------------------------------------------------------------------------------------
# 3. GeoPackage, caches off (gridgov on PostGIS still up, for the comparison of tiles).
if part gpkg; then
    say "3. gridgov on the GeoPackage, caches off (port $GPKG_PORT)"
    add_bench_user "$WORK/demo.gpkg" || die "could not add the bench account to the GeoPackage"
    start_server gpkg "$GPKG_PORT" /api/v1/health \
        "$GRIDGOV" serve --store "$WORK/demo.gpkg" --addr "127.0.0.1:$GPKG_PORT" --web-dir "$ROOT/web" --tile-cache-mb 0 --rate-limit 0
    GPKG_TOKEN=$(sign_in "$GPKG_PORT") || die "could not sign in to gridgov on port $GPKG_PORT"
    "$TILE_BENCH" compare --label gpkg_all --a "gpkg=http://127.0.0.1:$GPKG_PORT" \
        --a-paths "$WORK/gridgov_all.paths" --a-token "$GPKG_TOKEN" \
        --b "postgis=http://127.0.0.1:$GRIDGOV_PORT" --b-paths "$WORK/gridgov_all.paths" \
        --b-token "$PG_TOKEN" --encoding "$ENCODING" \
        --report "$WORK/compare_gpkg.txt" >"$WORK/compare_gpkg.out"
    collect "$WORK/compare_gpkg.out"
    stop_server gridgov
    for round in $(seq 1 "$ROUNDS"); do
        for mix in all layers; do
            say "3. round $round: GeoPackage, $mix"
            bench "gpkg_$mix" gpkg "$GPKG_PORT" "$WORK/gridgov_$mix.paths" "$GPKG_TOKEN"
        done
    done
    stop_server gpkg
fi
stop_server gridgov

# ---------------------------------------------------------------------------------------
# 2. Cached tiles against the HTTP ceiling.
if part cached; then
    say "2. gridgov on PostGIS with a 256 MiB tile cache (port $CACHED_PORT), every composite tile fetched first"
    start_server cached "$CACHED_PORT" /api/v1/health \
        "$GRIDGOV" serve --store "$SERVER_URL" --addr "127.0.0.1:$CACHED_PORT" --web-dir "$ROOT/web" --tile-cache-mb 256 --rate-limit 0
    CACHED_TOKEN=$(sign_in "$CACHED_PORT") || die "could not sign in to gridgov on port $CACHED_PORT"
    "$TILE_BENCH" fetch --base "http://127.0.0.1:$CACHED_PORT" --paths "$WORK/gridgov_all.paths" \
        --token "$CACHED_TOKEN" --encoding "$ENCODING" >/dev/null
    "$TILE_BENCH" fetch --base "http://127.0.0.1:$CACHED_PORT" --paths "$WORK/gridgov_all.paths" \
        --token "$CACHED_TOKEN" --encoding "$ENCODING" >"$WORK/fetch_cached.out"
    collect "$WORK/fetch_cached.out"
    BODY=${R[mean_wire_bytes]}
    FIXED_ARGS=(--bytes "$BODY" --addr "127.0.0.1:$FIXED_PORT")
    [[ $ENCODING == gzip ]] && FIXED_ARGS+=(--gzip-header)
    say "2. fixed_body: $BODY bytes (the mean cached response) (port $FIXED_PORT)"
    start_server fixed "$FIXED_PORT" / "$FIXED_BODY" "${FIXED_ARGS[@]}"
    for round in $(seq 1 "$ROUNDS"); do
        order="cached fixed"
        ((round % 2 == 0)) && order="fixed cached"
        for side in $order; do
            say "2. round $round: $side"
            if [[ $side == cached ]]; then
                bench cached_gridgov cached "$CACHED_PORT" "$WORK/gridgov_all.paths" "$CACHED_TOKEN"
            else
                bench cached_fixed fixed "$FIXED_PORT" "$WORK/gridgov_all.paths"
            fi
        done
    done
    stop_server cached
    stop_server fixed
fi

# ---------------------------------------------------------------------------------------
# The tables.
pga=$(median pg_gridgov_all)
pma=$(median pg_martin_all)
pgl=$(median pg_gridgov_layers)
pml=$(median pg_martin_layers)
cg=$(median cached_gridgov)
cf=$(median cached_fixed)
ra=$(ratio "$pga" "$pma")
rl=$(ratio "$pgl" "$pml")
rc=$(ratio "$cg" "$cf")
g() { echo "${R[$1]:-—}"; }

cat <<EOF

Vector tiles on the demo county (seed $SEED: $(g features)), ${R[addresses]} tile addresses
(${R[addresses_distinct]} distinct; ${R[addresses_per_zoom]}) drawn over the county's bounds ${R[bounds]};
one-layer mix: ${R[addresses_per_layer]}.
Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average at the end $(cut -d' ' -f1-3 /proc/loadavg).
$(g postgis_version); $(g martin_version); $(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2).
wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s after a ${WARM_SECONDS} s warm-up, $ROUNDS rounds, Accept-Encoding: $ENCODING, loopback, nothing pinned.

| run | requests/s (rounds) | median | p50 / p99 ms (last round) | bytes a response | non-2xx | ratio | goal |
|---|---:|---:|---:|---:|---:|---:|---|
| PostGIS, caches off, composite: gridgov \`/tiles/all\` | $(rounds_of pg_gridgov_all) | $pga | $(g pg_gridgov_all_p50_ms) / $(g pg_gridgov_all_p99_ms) | $(g pg_gridgov_all_bytes_per_response) | $(g pg_gridgov_all_non_2xx) | | |
| PostGIS, caches off, composite: Martin (16 sources) | $(rounds_of pg_martin_all) | ${pma:-—} | $(g pg_martin_all_p50_ms) / $(g pg_martin_all_p99_ms) | $(g pg_martin_all_bytes_per_response) | $(g pg_martin_all_non_2xx) | **$ra** | ≥ 1.0 (aim 1.3): $(verdict "$ra" 1.0) |
| PostGIS, caches off, one layer: gridgov | $(rounds_of pg_gridgov_layers) | $pgl | $(g pg_gridgov_layers_p50_ms) / $(g pg_gridgov_layers_p99_ms) | $(g pg_gridgov_layers_bytes_per_response) | $(g pg_gridgov_layers_non_2xx) | | |
| PostGIS, caches off, one layer: Martin | $(rounds_of pg_martin_layers) | ${pml:-—} | $(g pg_martin_layers_p50_ms) / $(g pg_martin_layers_p99_ms) | $(g pg_martin_layers_bytes_per_response) | $(g pg_martin_layers_non_2xx) | **$rl** | ≥ 1.0 (aim 1.3): $(verdict "$rl" 1.0) |
| cached composite: gridgov, 256 MiB cache, warmed | $(rounds_of cached_gridgov) | $cg | $(g cached_gridgov_p50_ms) / $(g cached_gridgov_p99_ms) | $(g cached_gridgov_bytes_per_response) | $(g cached_gridgov_non_2xx) | | |
| fixed body of $BODY bytes (axum, the HTTP ceiling) | $(rounds_of cached_fixed) | $cf | $(g cached_fixed_p50_ms) / $(g cached_fixed_p99_ms) | $(g cached_fixed_bytes_per_response) | $(g cached_fixed_non_2xx) | **$rc** | ≥ 0.8: $(verdict "$rc" 0.8) |
| GeoPackage, caches off, composite: gridgov | $(rounds_of gpkg_all) | $(median gpkg_all) | $(g gpkg_all_p50_ms) / $(g gpkg_all_p99_ms) | $(g gpkg_all_bytes_per_response) | $(g gpkg_all_non_2xx) | | |
| GeoPackage, caches off, one layer: gridgov | $(rounds_of gpkg_layers) | $(median gpkg_layers) | $(g gpkg_layers_p50_ms) / $(g gpkg_layers_p99_ms) | $(g gpkg_layers_bytes_per_response) | $(g gpkg_layers_non_2xx) | | |

Server CPU seconds in the last measured round: gridgov composite $(g pg_gridgov_all_server_cpu_s), Martin composite $(g pg_martin_all_server_cpu_s), gridgov one layer $(g pg_gridgov_layers_server_cpu_s), Martin one layer $(g pg_martin_layers_server_cpu_s) (PostgreSQL's own CPU is not in these).

Tiles compared address by address (every tile of the list, fetched once from each):

| mix | side | bytes on the wire | uncompressed | features | vertices | tiles whose per-layer counts differ | ids on this side only | attribute values differing (features both hold) |
|---|---|---:|---:|---:|---:|---:|---:|---|
| composite | gridgov | $(g all_gridgov_wire_bytes) | $(g all_gridgov_plain_bytes) | $(g all_gridgov_features) | $(g all_gridgov_vertices) | $(g all_tiles_differing) | $(g all_only_gridgov) | $(g all_value_mismatches) of $(g all_common_features) ($(g all_value_mismatch_keys)) |
| composite | Martin | $(g all_martin_wire_bytes) | $(g all_martin_plain_bytes) | $(g all_martin_features) | $(g all_martin_vertices) | | $(g all_only_martin) | |
| one layer | gridgov | $(g layers_gridgov_wire_bytes) | $(g layers_gridgov_plain_bytes) | $(g layers_gridgov_features) | $(g layers_gridgov_vertices) | $(g layers_tiles_differing) | $(g layers_only_gridgov) | $(g layers_value_mismatches) of $(g layers_common_features) ($(g layers_value_mismatch_keys)) |
| one layer | Martin | $(g layers_martin_wire_bytes) | $(g layers_martin_plain_bytes) | $(g layers_martin_features) | $(g layers_martin_vertices) | | $(g layers_only_martin) | |
| composite | gridgov, GeoPackage | $(g gpkg_all_gpkg_wire_bytes) | $(g gpkg_all_gpkg_plain_bytes) | $(g gpkg_all_gpkg_features) | $(g gpkg_all_gpkg_vertices) | $(g gpkg_all_tiles_differing) | $(g gpkg_all_only_gpkg) | $(g gpkg_all_value_mismatches) of $(g gpkg_all_common_features) ($(g gpkg_all_value_mismatch_keys)) |
| composite | gridgov, PostGIS | $(g gpkg_all_postgis_wire_bytes) | $(g gpkg_all_postgis_plain_bytes) | $(g gpkg_all_postgis_features) | $(g gpkg_all_postgis_vertices) | | $(g gpkg_all_only_postgis) | |
EOF
for f in compare_all compare_layers compare_gpkg; do
    if [[ -f $WORK/$f.txt ]]; then
        echo
        echo "--- $f (per layer; first differing tiles) ---"
        head -n 60 "$WORK/$f.txt"
    fi
done
