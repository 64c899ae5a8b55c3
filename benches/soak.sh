#!/usr/bin/env bash
# A bounded soak on loopback (issue 5): `gridgov serve` on the demo county (GeoPackage), four
# signed-in users of three roles, a mixed load of composite tiles, lookups, item pages and
# write cycles (create, patch, delete a household) for SECONDS (default 600), with the
# server's memory sampled every minute:
#
#   bash benches/soak.sh
#
# The load is crates/gridgov-bench/src/bin/soak.rs (WORKERS tasks, default 8, seeded); it
# prints each operation's count, errors, p50 and p99, the error rate and the server's RSS
# after a 10 s warm-up, every minute and at the end. The server runs with `--rate-limit 0`:
# four users at full speed would otherwise meet their 100/s bucket, which is what the limits
# are for, not what a soak measures. Every personal read and every write is audited as in
# production. Environment: CARGO_TARGET_DIR, SECONDS_TO_RUN, WORKERS, SEED, TILE_CACHE_MB
# (default 256, the server's default; its tile cache fills during the soak, up to that
# bound), SKIP_BUILD=1, KEEP=1. Port 18095 on 127.0.0.1. Needs curl and jq.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SECONDS_TO_RUN=${SECONDS_TO_RUN:-600}
WORKERS=${WORKERS:-8}
SEED=${SEED:-42}
TILE_CACHE_MB=${TILE_CACHE_MB:-256}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PORT=18095
PASSWORD=gridgov-soak-password

say() { echo "soak.sh: $*" >&2; }
die() {
    say "$*"
    exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gridgov-soak.XXXXXX")
SERVER_PID=""
finish() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ ${KEEP:-} == 1 ]]; then say "kept $WORK"; else rm -rf -- "$WORK"; fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for tool in curl jq; do
    command -v "$tool" >/dev/null || die "$tool is needed (Debian: apt-get install $tool)"
done
if [[ ${SKIP_BUILD:-} != 1 ]]; then
    say "building gridgov and soak (release)"
    cargo build --release -p gridgov-cli -p gridgov-bench --bin gridgov --bin soak >&2 ||
        die "the release build failed"
fi
GRIDGOV=$TARGET/release/gridgov
SOAK=$TARGET/release/soak
for b in "$GRIDGOV" "$SOAK"; do
    [[ -x $b ]] || die "$b is missing"
done

STORE=$WORK/demo.gpkg
say "generating the demo county (seed $SEED)"
"$GRIDGOV" demo --out "$STORE" --seed "$SEED" >&2
add_user() { # NAME ROLE SCOPE
    printf '%s\n' "$PASSWORD" |
        "$GRIDGOV" user add "$1" --role "$2" --scope "$3" --password-stdin --store "$STORE" >&2
}
add_user soak-admin county_admin 520526000000
add_user soak-admin2 county_admin 520526000000
add_user soak-screen command_screen 520526000000

"$GRIDGOV" serve --store "$STORE" --addr "127.0.0.1:$PORT" --web-dir "$ROOT/web" \
    --rate-limit 0 --tile-cache-mb "$TILE_CACHE_MB" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/v1/health" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited: $(tail -n 20 "$WORK/server.log")"
    sleep 0.1
done
TOKEN=$(jq -cn --arg p "$PASSWORD" '{username: "soak-admin", password: $p}' |
    curl -fsS -H 'Content-Type: application/json' --data-binary @- \
        "http://127.0.0.1:$PORT/api/v1/auth/login" | jq -r '.token // empty')
[[ -n $TOKEN ]] || die "soak-admin could not sign in"
api() { curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1"; }
BOUNDS=$(api /tiles/counties.json | jq -r '.bounds | map(tostring) | join(",")')
HOUSE=$(api '/api/v1/layers/households/items?limit=1')
POINT=$(jq -r '.features[0].geometry.coordinates | map(tostring) | join(",")' <<<"$HOUSE")
VILLAGE=$(jq -r '.features[0].properties.division_code' <<<"$HOUSE")
add_user soak-town township_officer "${VILLAGE:0:9}000"
say "bounds $BOUNDS; writes at $POINT in village $VILLAGE"

say "soaking for $SECONDS_TO_RUN s with $WORKERS workers"
"$SOAK" --base "http://127.0.0.1:$PORT" --seconds "$SECONDS_TO_RUN" --workers "$WORKERS" \
    --seed "$SEED" --pid "$SERVER_PID" --bounds "$BOUNDS" --point "$POINT" \
    --division "$VILLAGE" --writer soak-admin \
    --users "soak-admin:$PASSWORD,soak-admin2:$PASSWORD,soak-screen:$PASSWORD,soak-town:$PASSWORD" |
    tee "$WORK/soak.out"
"$GRIDGOV" audit verify --store "$STORE" >&2
