#!/usr/bin/env bash
# Benchmark: `gridgov load` of the demo GeoPackage into PostGIS against
# `ogr2ogr -f PostgreSQL` of the same file with PG_USE_COPY=YES, side by side in one run.
# Each round loads into a fresh database (so both create their tables); rounds alternate
# the order of the two tools. Prints the median wall time of each and the ratio.
#
#   bash benches/load_vs_ogr2ogr.sh [ROUNDS]      (default 5)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ROUNDS=${1:-5}
bash scripts/setup.sh >/dev/null
cargo build --release -q -p gridgov-cli
BIN=$ROOT/target/release/gridgov

eval "$(bash scripts/pg.sh start)"
WORK=$(mktemp -d)
trap 'bash scripts/pg.sh stop "$GRIDGOV_PG_DIR"; rm -rf "$WORK"' EXIT
ADMIN="postgres://postgres@127.0.0.1:$GRIDGOV_PG_PORT/postgres"
"$BIN" demo --out "$WORK/demo.gpkg" --seed 42 2>/dev/null

# Every round gets databases of its own; none is dropped until the server goes away. (Dropping
# a database deletes thousands of files, and ext4 then creates new files ever more slowly for
# a while: round after round, table creation took three times as long, whichever tool ran.)
fresh_db() {
    psql -q "$ADMIN" -c "CREATE DATABASE $1" >/dev/null
    psql -q "postgres://postgres@127.0.0.1:$GRIDGOV_PG_PORT/$1" -c "CREATE EXTENSION postgis" >/dev/null
}
now() { date +%s.%N; }

declare -a G O
for ((i = 0; i < ROUNDS; i++)); do
    fresh_db "bench_g$i"
    fresh_db "bench_o$i"
    run_g() {
        local t0 t1
        t0=$(now)
        "$BIN" load --from "$WORK/demo.gpkg" --to "postgres://postgres@127.0.0.1:$GRIDGOV_PG_PORT/bench_g$i" 2>/dev/null
        t1=$(now)
        G+=("$(awk "BEGIN {print $t1 - $t0}")")
    }
    run_o() {
        local t0 t1
        t0=$(now)
        PG_USE_COPY=YES ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$GRIDGOV_PG_PORT user=postgres dbname=bench_o$i" "$WORK/demo.gpkg"
        t1=$(now)
        O+=("$(awk "BEGIN {print $t1 - $t0}")")
    }
    if ((i % 2)); then run_o; run_g; else run_g; run_o; fi
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mg=$(median "${G[@]}")
mo=$(median "${O[@]}")
features=$(psql -tA "postgres://postgres@127.0.0.1:$GRIDGOV_PG_PORT/bench_g0" -c \
  "SELECT sum(n) FROM (SELECT count(*) n FROM households UNION ALL SELECT count(*) FROM disputes UNION ALL SELECT count(*) FROM persons) s")
echo "rounds: $ROUNDS (gridgov: ${G[*]}; ogr2ogr: ${O[*]})"
echo "gridgov load   median ${mg}s"
echo "ogr2ogr COPY   median ${mo}s"
echo "ratio gridgov/ogr2ogr: $(awk "BEGIN {printf \"%.3f\", $mg / $mo}")  (households+disputes+persons loaded: $features)"
