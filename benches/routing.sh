#!/usr/bin/env bash
# Cleaner routing's solver on CVRPLIB, gridgov against PyVRP side by side in one run (issue 8):
#
#   bash benches/routing.sh [INSTANCE.vrp ...]
#
#   Default instances: the X instances of ../shared/geodata/cvrp (Uchoa et al., n = 101-393);
#   instances without a .sol beside them (benches/routing_generate.py) get no gap, only the
#   ratio to PyVRP.
#   Each instance gets DIMENSION/4 seconds (SCALE=0.25 per node), and both solvers run at
#   the same time, one core each: `gridgov route --vrplib` pinned to core 0 and PyVRP 0.14.1
#   (benches/routing_pyvrp.py, its default hybrid genetic search, CVRPLIB rounding) pinned to
#   core 1, with the same seed. The gap is measured against the best-known cost in the
#   instance's .sol file; the ratio is gridgov / PyVRP. A full X run takes about 21 minutes.
#
# PyVRP is installed with pip into a venv under ${XDG_CACHE_HOME:-$HOME/.cache}/gridgov-bench
# when missing. Environment: CARGO_TARGET_DIR (default ./target), SEED (1), SCALE (0.25),
# KEEP=1 keeps the work folder. Speed is never asserted: this prints figures.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
source benches/lib.sh
bench_init routing.sh

SEED=${SEED:-1}
SCALE=${SCALE:-0.25}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/gridgov-bench/venv-pyvrp
CVRP=$ROOT/../shared/geodata/cvrp

if (($# > 0)); then
    INSTANCES=("$@")
else
    shopt -s nullglob
    INSTANCES=("$CVRP"/X-n*.vrp)
    shopt -u nullglob
    ((${#INSTANCES[@]} > 0)) || die "no X instances in $CVRP (is ../shared there?)"
fi

say "building gridgov (release)"
cargo build --release -p gridgov-cli >&2 || die "the release build failed"
GRIDGOV=$TARGET/release/gridgov
[[ -x $GRIDGOV ]] || die "no $GRIDGOV after the build (CARGO_TARGET_DIR?)"

bench_venv "$VENV" 'import sys, importlib.metadata as m; sys.exit(m.version("pyvrp") != "0.14.1")' \
    pyvrp==0.14.1

RESULTS=$WORK/results.tsv
for vrp in "${INSTANCES[@]}"; do
    name=$(basename "$vrp" .vrp)
    sol=${vrp%.vrp}.sol
    n=$(grep -m1 -E '^ *DIMENSION' "$vrp" | tr -dc '0-9')
    [[ -n $n ]] || die "$vrp has no DIMENSION"
    # Generated instances (benches/routing_generate.py) have no best-known cost: no gap.
    bks=-
    [[ -f $sol ]] && bks=$(grep -m1 -iE '^ *cost' "$sol" | tr -dc '0-9.')
    seconds=$(awk -v n="$n" -v s="$SCALE" 'BEGIN { printf "%.2f", n * s }')
    say "$name: n = $n, $seconds s each"
    taskset -c 0 "$GRIDGOV" route --vrplib "$vrp" --seconds "$seconds" --seed "$SEED" \
        >"$WORK/$name.gridgov" 2>"$WORK/$name.gridgov.err" &
    g=$!
    taskset -c 1 "$VENV/bin/python" benches/routing_pyvrp.py "$vrp" "$seconds" "$SEED" \
        >"$WORK/$name.pyvrp" 2>"$WORK/$name.pyvrp.err" &
    p=$!
    wait "$g" || die "gridgov failed on $name: $(tail -3 "$WORK/$name.gridgov.err")"
    wait "$p" || die "PyVRP failed on $name: $(tail -3 "$WORK/$name.pyvrp.err")"
    ours=$(tail -1 "$WORK/$name.gridgov" | sed -n 's/^cost \([0-9]*\)$/\1/p')
    [[ -n $ours ]] || die "gridgov's last line on $name is not 'cost N'"
    theirs=$("$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["cost"])' \
        <"$WORK/$name.pyvrp")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$n" "$seconds" "$bks" "$ours" "$theirs" >>"$RESULTS"
done

echo
machine_line
echo "Seed $SEED, $SCALE s per node, one core each, both solvers at the same time."
echo
awk -F'\t' '
BEGIN {
    print "| instance | n | seconds | best known | gridgov | gap | PyVRP 0.14.1 | gap | gridgov / PyVRP |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
}
{
    known = ($4 != "-")
    g = known ? sprintf("%.2f %%", ($5 - $4) / $4 * 100) : "-"
    if ($6 == "None") { p = "-"; r = "-" } else {
        p = known ? sprintf("%.2f %%", ($6 - $4) / $4 * 100) : "-"
        r = sprintf("%.4f", $5 / $6); pr += $5 / $6; np++
        if (known) { pg += ($6 - $4) / $4 * 100; npk++ }
    }
    printf "| %s | %d | %s | %s | %d | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, g, $6, p, r
    if (known) { sg += ($5 - $4) / $4 * 100; k++ }
    rows++
}
END {
    if (rows == 0) exit 1
    printf "| **mean** | | | | | **%s** | | **%s** | **%s** |\n", (k ? sprintf("%.2f %%", sg / k) : "-"), (npk ? sprintf("%.2f %%", pg / npk) : "-"), (np ? sprintf("%.4f", pr / np) : "-")
}' "$RESULTS"
