#!/usr/bin/env python3
"""Point-to-grid lookups with shapely 2.x, the reference of the lookup bench.

    python3 benches/lookup_shapely.py DIR [ROUNDS]

reads what the Rust bench (crates/gridgov-bench/benches/lookup.rs, `gridgov` mode) wrote
into DIR:

    grids.hexwkb   one polygon a line: id<TAB>hex WKB (the grids of the plan in force)
    points.f64     the points: little-endian float64 pairs (lon, lat)
    gridgov.i64    gridgov's grid id for each point (-1 for none)

builds STRtree(grids) once, then times STRtree.query(points, predicate="within") over all
points, best of ROUNDS (default 7). Then it resolves each point to one grid by gridgov's rule
(the smallest id among the grids holding it; not timed) and compares with gridgov's answers.

Prints the figures for people on stderr and `result name=value` lines on stdout.
Run it pinned to one core (`taskset -c 0`), as benches/lookup.sh does.
"""

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import shapely
from shapely import STRtree


def main() -> int:
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) == 3 else 7
    if rounds < 1:
        print("ROUNDS must be at least 1", file=sys.stderr)
        return 2
    if int(shapely.__version__.split(".")[0]) < 2:
        print(f"shapely {shapely.__version__} is too old: the bench needs 2.x", file=sys.stderr)
        return 1

    ids, wkb = [], []
    with open(folder / "grids.hexwkb", encoding="ascii") as f:
        for line in f:
            gid, hexwkb = line.rstrip("\n").split("\t")
            ids.append(int(gid))
            wkb.append(hexwkb)
    ids = np.array(ids, dtype=np.int64)
    grids = shapely.from_wkb(wkb)
    xy = np.fromfile(folder / "points.f64", dtype="<f8").reshape(-1, 2)
    points = shapely.points(xy)
    gridgov = np.fromfile(folder / "gridgov.i64", dtype="<i8")
    n = len(points)
    if len(gridgov) != n:
        print(f"{len(gridgov)} gridgov answers for {n} points", file=sys.stderr)
        return 1

    started = time.perf_counter()
    tree = STRtree(grids)
    built = time.perf_counter() - started

    # One untimed pass (warms caches and lets the tree finish building lazily), then rounds.
    pairs = tree.query(points, predicate="within")
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        pairs = tree.query(points, predicate="within")
        times.append(time.perf_counter() - started)
    best, median = min(times), statistics.median(times)

    # pairs[0]: point index, pairs[1]: tree index. Several grids: the smallest id wins.
    found = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(found, pairs[0], ids[pairs[1]])
    found[found == np.iinfo(np.int64).max] = -1
    counts = np.bincount(pairs[0], minlength=n)
    several = int(np.count_nonzero(counts > 1))
    hits = int(np.count_nonzero(found >= 0))
    differ = np.flatnonzero(found != gridgov)
    for i in differ[:10]:
        print(
            f"mismatch at point #{i} ({xy[i, 0]!r}, {xy[i, 1]!r}): "
            f"shapely {found[i]}, gridgov {gridgov[i]}",
            file=sys.stderr,
        )

    print(
        f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}) "
        f"STRtree.query(points, predicate='within'): {n} points ({hits} in a grid, "
        f"{several} in more than one) over {len(ids)} grids, tree built in "
        f"{built * 1e3:.1f} ms; best of {rounds} rounds {best * 1e3:.1f} ms: "
        f"{n / best:.0f} points/s (median {n / median:.0f}); "
        f"{len(differ)} answers differ from gridgov's",
        file=sys.stderr,
    )
    print(f"result shapely_version={shapely.__version__}")
    print(f"result geos_version={shapely.geos_version_string}")
    print(f"result shapely_points={n}")
    print(f"result shapely_hits={hits}")
    print(f"result shapely_points_per_s={n / best:.0f}")
    print(f"result shapely_median_points_per_s={n / median:.0f}")
    print(f"result shapely_mismatches={len(differ)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
