#!/usr/bin/env bash
# Grid partitioning, gridgov against PySAL spopt (MaxPHeuristic, Skater, AZP), side by side in
# one run on the same units and adjacency:
#
#   bash benches/partition.sh [ROUNDS]
#
#   1. gridgov: crates/gridgov-bench/src/bin/partition_bench.rs generates the demo county,
#      cuts the units of every village the demo gives two grids or more and of one whole
#      township, writes them (the `gridgov partition --units-out` file, with gridgov's grid
#      per unit) and times `gridgov_partition::partition` on them (median of ROUNDS, default
#      5, one thread, after an untimed run that is also checked to repeat itself).
#   2. spopt: benches/partition_spopt.py reads the same files and runs each method with the
#      same number of grids (MaxP chooses its own), one core, a timeout per solve, and
#      measures regions, balance, compactness and contiguity from the units' properties
#      exactly as gridgov does.
#   3. benches/partition_report.py prints the table for BENCHMARKS.md.
#
# spopt and its dependencies are pinned and installed with pip into a venv under
# ${XDG_CACHE_HOME:-$HOME/.cache}/gridgov-bench/venv-spopt when it lacks them. Environment:
# CARGO_TARGET_DIR (default ./target), SEED (1), TOLERANCE (0.1), TIMEOUT (120 s per solve),
# KEEP=1 keeps the work folder. Speed is never asserted: this prints figures.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

ROUNDS=${1:-5}
SEED=${SEED:-1}
TOLERANCE=${TOLERANCE:-0.1}
TIMEOUT=${TIMEOUT:-120}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/gridgov-bench/venv-spopt
PINS=(spopt==0.7.0 libpysal==4.14.1 geopandas==1.2.0)

say() { echo "partition.sh: $*" >&2; }
die() {
    say "$*"
    exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gridgov-partition.XXXXXX")
finish() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ ${KEEP:-} == 1 ]]; then say "kept $WORK"; else rm -rf -- "$WORK"; fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "building partition_bench (release)"
cargo build --release -p gridgov-bench --bin partition_bench >&2 || die "the release build failed"
BENCH=$TARGET/release/partition_bench
[[ -x $BENCH ]] || die "no $BENCH after the build (CARGO_TARGET_DIR?)"

want_versions='import spopt, libpysal, geopandas, sys
want = dict(p.split("==") for p in sys.argv[1:])
have = {"spopt": spopt.__version__, "libpysal": libpysal.__version__,
        "geopandas": geopandas.__version__}
sys.exit(any(have[k] != v for k, v in want.items()))'
if ! "$VENV/bin/python" -c "$want_versions" "${PINS[@]}" 2>/dev/null; then
    say "installing ${PINS[*]} into $VENV"
    mkdir -p "$(dirname "$VENV")"
    [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV" ||
        die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install --quiet "${PINS[@]}" >&2 || die "pip could not install ${PINS[*]}"
fi

say "1. gridgov: units and partitions, median of $ROUNDS"
"$BENCH" --dir "$WORK" --rounds "$ROUNDS" --seed "$SEED" --tolerance "$TOLERANCE"

say "2. spopt on the same units (timeout ${TIMEOUT} s per solve)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$VENV/bin/python" benches/partition_spopt.py \
    --instances "$WORK/instances.json" --out "$WORK/spopt.json" --timeout "$TIMEOUT" >&2

say "3. report"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
"$VENV/bin/python" benches/partition_report.py "$WORK/gridgov.json" "$WORK/spopt.json"
