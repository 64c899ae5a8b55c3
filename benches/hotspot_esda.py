#!/usr/bin/env python3
"""Getis-Ord Gi* with PySAL esda, the reference of the hotspot bench.

    python3 benches/hotspot_esda.py DIR [ROUNDS [N_JOBS,... [PERMUTATIONS [SEED]]]]

reads what the Rust bench (crates/gridgov-bench/src/bin/hotspot_bench.rs, `run` mode)
wrote into DIR:

    values.txt    the count of each cell, one a line
    weights.gal   binary k-ring weights over the cells, GAL with ids 0..n-1 in order
                  (libpysal reads them as the strings "0"..)

and, for each n_jobs setting (default "-1,1": esda's default, all cores as joblib/loky
worker processes, then one process), runs

    esda.G_Local(y, w, transform="R", star=True, permutations=PERMUTATIONS (999),
                 seed=SEED (42), keep_simulations=False, n_jobs=N_JOBS)

once untimed (the warm-up: numba compiles esda's kernels there, in this process and in
the loky workers, which joblib keeps for the next calls, so JIT compile time and worker
start-up are excluded), then ROUNDS (default 5) times timed, and reports the median and
the best. `w` is the binary W read from the GAL file (transform "B"): G_Local itself adds
the self-weight 1 (fill_diagonal) and row-standardises, as it does for any caller of
`G_Local(star=True)`; the script checks afterwards that the W it used has the self-weight
1/(k+1) on every row. keep_simulations=False because gridgov keeps no simulated values
either (esda's default True also copies an n x 999 array out of the workers).

NUMBA_NUM_THREADS does not matter here: esda 2.9's conditional randomisation runs in
numba functions compiled without parallel=True; its parallelism is n_jobs processes.

Writes esda's results of the last timed run of the first setting into DIR:
esda_z.txt (Zs), esda_p_norm.txt (p_norm) and esda_p_sim.txt (p_sim), one a line.

Then, untimed, esda_p_sim_ties.txt: the pseudo p-values of esda's own random draws (the
table `esda.crand.vec_permutations` draws for this seed, read as esda reads it) with the
neighbour sums compared exactly, so that a draw of the same sum as the observed one counts
as ">=". With counts, many draws tie; esda compares the divided statistics instead, whose
rounding puts some ties below the observed value, and gridgov compares the sums (see
crates/gridgov-hotspot/src/permutation.rs). This file tells the two effects apart: gridgov
against it differs by Monte-Carlo error only, esda against it by rounding only.

Prints figures for people on stderr and `result name=value` lines on stdout.
"""

import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np


def main() -> int:
    args = sys.argv[1:]
    if not 1 <= len(args) <= 5:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(args[0])
    rounds = int(args[1]) if len(args) > 1 else 5
    settings = [int(j) for j in args[2].split(",")] if len(args) > 2 else [-1, 1]
    permutations = int(args[3]) if len(args) > 3 else 999
    seed = int(args[4]) if len(args) > 4 else 42
    if rounds < 1 or not settings:
        print("ROUNDS must be at least 1 and N_JOBS name a setting", file=sys.stderr)
        return 2

    # esda warns that its default alternative ("directed", which gridgov computes) will
    # change, and that the bench's W has no diagonal; neither is news here.
    warnings.simplefilter("ignore")
    import esda
    import libpysal
    import numba
    import scipy
    from esda.getisord import G_Local

    started = time.perf_counter()
    y = np.loadtxt(folder / "values.txt", dtype=np.float64)
    w = libpysal.io.open(str(folder / "weights.gal"), "r").read()
    read_s = time.perf_counter() - started
    n = len(y)
    if w.n != n or list(w.id_order) != [str(i) for i in range(n)]:
        print(f"weights.gal: {w.n} observations in another order than 0..{n - 1}", file=sys.stderr)
        return 1
    w.transform = "B"
    print(
        f"hotspot_esda.py: esda {esda.__version__}, libpysal {libpysal.__version__}, "
        f"numba {numba.__version__}, numpy {np.__version__}, scipy {scipy.__version__}; "
        f"{n} cells read in {read_s:.2f} s",
        file=sys.stderr,
    )

    def g_local(n_jobs):
        return G_Local(
            y,
            w,
            transform="R",
            star=True,
            permutations=permutations,
            seed=seed,
            keep_simulations=False,
            n_jobs=n_jobs,
        )

    # The weights G_Local works with (checked on a run without permutations: the
    # randomisation removes the diagonal of the W it was given): self-weight 1 added,
    # then rows standardised, so every row is 1/(k+1) with k the cell's neighbours.
    used = G_Local(y, w, transform="R", star=True, permutations=0).w.sparse
    cards = np.array([w.cardinalities[i] for i in w.id_order], dtype=np.float64)
    if not (
        np.allclose(used.diagonal(), 1.0 / (cards + 1.0), rtol=0, atol=1e-15)
        and np.allclose(np.asarray(used.sum(axis=1)).ravel(), 1.0, rtol=0, atol=1e-12)
    ):
        print("G_Local's weights are not the self-weighted, row-standardised k-ring", file=sys.stderr)
        return 1
    del used

    print(f"result esda_version={esda.__version__}")
    print(f"result libpysal_version={libpysal.__version__}")
    print(f"result numba_version={numba.__version__}")
    print(f"result numpy_version={np.__version__}")
    written = False
    for n_jobs in settings:
        started = time.perf_counter()
        lg = g_local(n_jobs)
        warm_s = time.perf_counter() - started
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            lg = g_local(n_jobs)
            times.append(time.perf_counter() - started)
        best, median = min(times), statistics.median(times)
        name = "all" if n_jobs == -1 else str(n_jobs)
        print(
            f"hotspot_esda.py: G_Local(star=True, permutations={permutations}, n_jobs={n_jobs}): "
            f"median {median:.4f} s, best {best:.4f} s of {rounds} (warm-up with JIT {warm_s:.2f} s)",
            file=sys.stderr,
        )
        print(f"result esda_njobs_{name}_median_s={median:.6f}")
        print(f"result esda_njobs_{name}_best_s={best:.6f}")
        print(f"result esda_njobs_{name}_warmup_s={warm_s:.6f}")

        if not written:
            for fname, values in (
                ("esda_z.txt", lg.Zs),
                ("esda_p_norm.txt", lg.p_norm),
                ("esda_p_sim.txt", lg.p_sim),
            ):
                with open(folder / fname, "w", encoding="ascii") as f:
                    f.writelines(f"{float(v)!r}\n" for v in values)
            written = True

    started = time.perf_counter()
    ties = p_sim_exact_ties(y, w, permutations, seed)
    with open(folder / "esda_p_sim_ties.txt", "w", encoding="ascii") as f:
        f.writelines(f"{float(v)!r}\n" for v in ties)
    print(
        f"hotspot_esda.py: esda's draws with ties compared exactly, in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


def p_sim_exact_ties(y, w, permutations, seed):
    """esda's draws for `seed`, the neighbour sums compared exactly (integers here)."""
    from esda.crand import vec_permutations

    n = len(y)
    neighbours = [np.array([int(j) for j in w.neighbors[str(i)]], dtype=np.int64) for i in range(n)]
    cards = np.array([len(nb) for nb in neighbours])
    ids = vec_permutations(cards.max(), n, permutations, seed)
    observed = np.array([y[nb].sum() for nb in neighbours])
    p = np.full(n, np.nan)
    for c in np.unique(cards[cards > 0]):
        cells = np.flatnonzero(cards == c)
        r = ids[:, :c]
        for chunk in np.array_split(cells, max(1, len(cells) // 500)):
            # Entry r of the table stands for observation r + (r >= i) (all but i).
            picked = r[None, :, :] + (r[None, :, :] >= chunk[:, None, None])
            sums = y[picked].sum(axis=2)
            larger = (sums >= observed[chunk, None]).sum(axis=1)
            larger = np.minimum(larger, permutations - larger)
            p[chunk] = (larger + 1.0) / (permutations + 1.0)
    return p


if __name__ == "__main__":
    sys.exit(main())
