#!/usr/bin/env bash
# Getis-Ord Gi* with 999 permutations, gridgov against PySAL esda, side by side in one run:
#
#   bash benches/hotspot.sh [SIZES [ROUNDS [ESDA_ROUNDS]]]
#
# For each N of SIZES (default 10000,50000,100000):
#
#   1. gridgov: crates/gridgov-bench/src/bin/hotspot_bench.rs (`run`) makes the seeded test
#      data (the N resolution-9 H3 cells nearest to a point in Chengdu, dispute-like counts:
#      a Poisson background and eight clusters, binary k-ring k=1 weights), writes values and
#      weights (GAL) for esda, and times `gridgov_hotspot::local_g` (row-standardised Gi*,
#      999 permutations, seed SEED) ROUNDS times (default 7) after an untimed run. local_g
#      runs on the calling thread: one core.
#   2. esda: benches/hotspot_esda.py reads the same values and GAL into a libpysal W and
#      times `esda.G_Local(y, w, transform="R", star=True, permutations=999, seed=SEED,
#      keep_simulations=False, n_jobs=…)` ESDA_ROUNDS times (default 3) after an untimed
#      warm-up that compiles numba's kernels, for each n_jobs of ESDA_JOBS (default "-1,1":
#      esda's default, one loky worker process per core, then a single process).
#   3. `hotspot_bench compare`: the z-scores and normal p-values of both, value by value
#      (max |difference|), and how the pseudo p-values agree: they come from different
#      random draws, so only within Monte-Carlo error, and esda's rounding decides some
#      ties, so gridgov's are also held against esda's own draws with the ties counted
#      exactly (esda_p_sim_ties.txt, see hotspot_esda.py and BENCHMARKS.md).
#
# Prints a markdown table at the end: N, the medians of both, the speed-up (esda's faster
# setting ÷ gridgov, and esda in one process ÷ gridgov) and max |Δz|.
# The bar of the issue: z-scores identical (max |Δz| ≤ 1e-9) and gridgov ≥ 10× faster.
#
# esda, libpysal, numba and joblib are pinned and installed with pip into a venv under
# ${XDG_CACHE_HOME:-$HOME/.cache}/gridgov-bench/venv when it lacks them (python3 with venv
# needed). Environment: CARGO_TARGET_DIR (default ./target), SEED (42), ESDA_JOBS,
# PERMUTATIONS (999), KEEP=1 keeps the work folder. Speed is never asserted: this prints
# figures for BENCHMARKS.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SIZES=${1:-10000,50000,100000}
ROUNDS=${2:-7}
ESDA_ROUNDS=${3:-3}
ESDA_JOBS=${ESDA_JOBS:--1,1}
SEED=${SEED:-42}
PERMUTATIONS=${PERMUTATIONS:-999}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/gridgov-bench/venv
# The versions measured (esda 2.9 is also the reference of tests/pysal_reference.rs).
PINS=(esda==2.9.0 libpysal==4.14.1 numba==0.68.1 joblib==1.6.0)

say() { echo "hotspot.sh: $*" >&2; }
die() {
    say "$*"
    exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gridgov-hotspot.XXXXXX")
finish() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ ${KEEP:-} == 1 ]]; then say "kept $WORK"; else rm -rf -- "$WORK"; fi
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# name=value pairs from every `result name=value` line a step prints, under a prefix.
declare -A R
collect() {
    local prefix=$1 file=$2 line
    while IFS= read -r line; do
        if [[ $line == result\ *=* ]]; then
            line=${line#result }
            R[$prefix${line%%=*}]=${line#*=}
        fi
    done <"$file"
}

# ---------------------------------------------------------------------------------------
say "building hotspot_bench (release)"
cargo build --release -p gridgov-bench --bin hotspot_bench >&2 || die "the release build failed"
BENCH=$TARGET/release/hotspot_bench
[[ -x $BENCH ]] || die "no $BENCH after the build (CARGO_TARGET_DIR?)"

want_versions='import esda, libpysal, numba, joblib, sys
want = dict(p.split("==") for p in sys.argv[1:])
have = {"esda": esda.__version__, "libpysal": libpysal.__version__,
        "numba": numba.__version__, "joblib": joblib.__version__}
sys.exit(any(have[k] != v for k, v in want.items()))'
if ! "$VENV/bin/python" -c "$want_versions" "${PINS[@]}" 2>/dev/null; then
    say "installing ${PINS[*]} into $VENV"
    mkdir -p "$(dirname "$VENV")"
    [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV" ||
        die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$VENV/bin/pip" install --quiet "${PINS[@]}" >&2 || die "pip could not install ${PINS[*]}"
fi

# ---------------------------------------------------------------------------------------
IFS=, read -r -a sizes <<<"$SIZES"
for n in "${sizes[@]}"; do
    dir=$WORK/$n
    say "N=$n: 1. gridgov local_g, median of $ROUNDS"
    "$BENCH" run --n "$n" --dir "$dir" --rounds "$ROUNDS" --seed "$SEED" \
        --permutations "$PERMUTATIONS" >"$dir.gridgov.out"
    collect "$n." "$dir.gridgov.out"

    say "N=$n: 2. esda G_Local, n_jobs in $ESDA_JOBS, median of $ESDA_ROUNDS after a warm-up"
    # OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (set on some machines for old OpenBLAS builds) slow
    # a current numpy down; unset for the reference's run alone.
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$VENV/bin/python" benches/hotspot_esda.py \
        "$dir" "$ESDA_ROUNDS" "$ESDA_JOBS" "$PERMUTATIONS" "$SEED" >"$dir.esda.out"
    collect "$n." "$dir.esda.out"

    say "N=$n: 3. comparing"
    "$BENCH" compare --dir "$dir" >"$dir.compare.out"
    collect "$n." "$dir.compare.out"
done

# ---------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f", a / b; else print "—" }'; }
smaller() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "" && (b == "" || a + 0 < b + 0)) ? a : b }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r + 0 >= t) ? "met" : "MISSED" }'; }
identical() { awk -v d="$1" 'BEGIN { print (d + 0 <= 1e-9) ? "met" : "MISSED" }'; }

first=${sizes[0]}
cat <<EOF

Gi* (row-standardised, star, $PERMUTATIONS permutations, seed $SEED) on N resolution-${R[$first.resolution]} H3 cells,
k-ring k=1 weights, the same values and weights on both sides. Machine: $(nproc) cores,
$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average at the end $(cut -d' ' -f1-3 /proc/loadavg).
esda ${R[$first.esda_version]}, libpysal ${R[$first.libpysal_version]}, numba ${R[$first.numba_version]}, numpy ${R[$first.numpy_version]}; esda warm-up (JIT) excluded.
Seconds are medians (gridgov of $ROUNDS runs, esda of $ESDA_ROUNDS).

| N | gridgov s (1 thread) | esda s, n_jobs=-1 | esda s, n_jobs=1 | speed-up (≥ 10) | speed-up, one process | max \|Δz\| (≤ 1e-9) | largest \|z\| | mean / max \|Δp_sim\| | vs esda's draws, exact ties: mean / max, cells beyond MC error | esda's rounded ties: cells, max |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for n in "${sizes[@]}"; do
    g=${R[$n.gridgov_median_s]}
    ea=${R[$n.esda_njobs_all_median_s]:-}
    e1=${R[$n.esda_njobs_1_median_s]:-}
    best=$(smaller "$ea" "$e1")
    up=$(ratio "$best" "$g")
    up1=$(ratio "${e1:-0}" "$g")
    printf '| %s | %s | %s | %s | **%s×** (%s) | %s× | %s (%s) | %s | %s / %s | %s / %s, %s | %s, %s |\n' \
        "$n" "$g" "${ea:-—}" "${e1:-—}" "$up" "$(verdict "$up" 10)" "$up1" \
        "${R[$n.max_dz]}" "$(identical "${R[$n.max_dz]}")" "${R[$n.max_abs_z]}" \
        "${R[$n.mean_dp_sim]}" "${R[$n.max_dp_sim]}" \
        "${R[$n.mean_dp_sim_ties]}" "${R[$n.max_dp_sim_ties]}" "${R[$n.beyond_mc]}" \
        "${R[$n.esda_rounded_ties]}" "${R[$n.esda_rounded_ties_max]}"
done
cat <<EOF

max |Δp_norm| by N: $(for n in "${sizes[@]}"; do printf '%s ' "${R[$n.max_dp_norm]}"; done)
EOF
