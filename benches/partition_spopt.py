#!/usr/bin/env python3
# Installed and tested with (CPython 3.11.7):
#   pip install spopt
#   -> spopt 0.7.0, libpysal 4.14.1, geopandas 1.2.0, numpy 2.4.6, scipy 1.17.1,
#      scikit-learn 1.9.1, pandas 3.1.1, shapely 2.2.0, pyogrio 0.13.0
"""PySAL spopt's MaxPHeuristic, Skater and AZP on the units gridgov partitions.

    python3 benches/partition_spopt.py --instances instances.json --out spopt.json
        [--methods maxp,maxp_lite,skater,skater_w,skater_nf,azp] [--timeout 120]
        [--maxp-lite 10,1] [--maxp-policy single] [--attrs-scaling common] [--cpu N]
        [--no-labels]

instances.json is a list of {"name": str, "units": path, "grids": k, "tolerance": t}, where
units is what `gridgov ... --units-out` writes: a GeoJSON FeatureCollection (WGS84), one
Feature per unit, properties unit (= position), village_code, households, workload, grid
(gridgov's grid code or null), neighbours (contiguity neighbours, barrier edges left out),
neighbour_lengths (metres, aligned with neighbours), area_m2, perimeter_m, x_m, y_m (local
metric plane). k and t are what gridgov used. A relative units path is taken from the
current directory, else from the instances file's directory.

Every method gets the same units, the same weights (libpysal W built from `neighbours`, ids
0..n-1; made symmetric if the file is not, which the output counts) and the same
attributes: the centroids x_m, y_m standardised with one common scale (centred, divided by
sqrt((var x + var y) / 2)) so that distances stay isotropic and an elongated area is not
squashed into a square; --attrs-scaling per-axis gives per-column z-scores instead
(identical on a square lattice). The GeoDataFrame handed to spopt has these columns, the
workload, and the metric centroids as points for geometry (see Units). mean = W / k
(W = total workload), floor = mean * (1 - t).

    maxp       MaxPHeuristic(gdf, w, ["ax", "ay"], "workload", threshold=floor) with the
               defaults of the class: top_n=2, max_iterations_construction=99,
               max_iterations_sa=10, policy="single". It chooses its own number of regions
               (the most it can find, each >= floor). Its cost is the simulated annealing,
               run max_iterations_sa times on EVERY construction that reached the best p
               (most of the 99 when p is small), each run ~n^2: 820 runs, 183 s, on a
               61-unit village with k = 2; ~3 s per run at n = 400, ~50 s at n = 1600. So
               with the defaults it times out at 120 s on every instance we tried.
    maxp_lite  the same with (max_iterations_construction, max_iterations_sa) = --maxp-lite
               (default 10,1): fewer constructions, one SA run each (spopt needs >= 1, or
               it returns no labels).
               policy "single" (spopt's default, --maxp-policy): a component of the
               neighbours graph whose total is below the threshold is joined to the largest
               component by one link between nearest centroids, so its regions may then be
               non-contiguous in the neighbours graph, and are reported so.
    skater     Skater(gdf, w, ["ax", "ay"], n_clusters=k, floor=floor_units,
               islands="ignore"), spopt's SpanningForest defaults otherwise (manhattan
               dissimilarity, sum of deviations from the region mean). API surprise:
               spopt's Skater floor (SpanningForest's quorum) is a minimum NUMBER OF UNITS
               per region (np.unique counts), not a sum of a variable, and neither Skater
               nor spanning_forest_kwds takes one. So the stock run uses the unit-count
               analogue floor_units = floor((1 - t) * n / k) (the workload floor if the
               workload were uniform). With a floor, Skater's greedy cuts of one spanning
               tree (no backtracking) often stop short of k regions ("MSF contains no valid
               moves"), and a component smaller than the floor makes it raise.
    skater_w   Skater with the floor on workload, what the brief asks for: a SpanningForest
               subclass whose score() is inf when a region's workload is below floor (the
               rule spopt applies to unit counts; a region that is a whole component of the
               graph is exempt), run as Skater.solve runs SpanningForest. Not stock spopt.
    skater_nf  Skater with no floor (spopt's default floor=-inf): always k regions on a
               connected graph, with no regard to workload.
               islands="ignore" (not the default "increase") for all three: components of
               the graph count towards n_clusters, so k regions in all, like k grids
               ("increase" would ask for k + number of components).
    azp        AZP(gdf, w, ["ax", "ay"], n_clusters=k, random_state=1): spopt's defaults
               (AllowMoveAZP, ObjectiveFunctionPairwise = sum of manhattan distances within
               regions, random initial partition). AZP has no floor or balance parameter.

Seeds: numpy.random.seed(1) and random.seed(1) right before each solve (MaxP and Skater
draw from numpy's global generator; AZP from Python's random via random_state=1).

Each solve runs in a forked child process (one at a time), so that a timeout (--timeout
seconds, default 120) or a crash is recorded and the run goes on. One core: every thread
pool (OpenMP, OpenBLAS, MKL, ...) is set to 1 thread before numpy is imported (spopt's
solvers are pure Python/numpy, single-threaded anyway), and --cpu N pins the run to a CPU.
Only the solve() call is timed (time.perf_counter); building W and the model is not, and
neither is forking the child.

Measured per instance and method, from the unit properties (not the geometry), exactly as
gridgov measures its grids:
    regions, regions == k, unassigned units (label < 0 or missing);
    balance: share of regions with |w - mean| / mean <= t for mean = W / k, and for the
        method's own mean W / regions; the largest such deviation for both;
    compactness: Polsby-Popper per region, 4 pi A / P^2, A = sum area_m2,
        P = sum perimeter_m - 2 * sum of neighbour_lengths of pairs i < j inside the region;
        mean and minimum over regions;
    contiguity: every region connected in the neighbours graph (the file's graph, not any
        link spopt added).
The same measures are reported for gridgov's own plan (the `grid` property) as the row
"gridgov" when the file has one (seconds null: gridgov times itself).

Writes everything (with the labels, unless --no-labels) to --out as JSON and prints a table.
"""

import os

_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)
for _var in _THREAD_VARS:
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

SEED = 1
ALL_METHODS = ("maxp", "maxp_lite", "skater", "skater_w", "skater_nf", "azp")
SKATER_ISLANDS = "ignore"  # components count towards n_clusters: k regions in all, like k grids
BALANCE_EPS = 1e-9  # |w - mean| / mean <= t + eps counts as within tolerance


# ---------------------------------------------------------------------------------------
# Loading


class Units:
    """The units of one file: properties as arrays, the neighbours graph, the GeoDataFrame."""

    def __init__(self, path: str, scaling: str):
        import geopandas

        with open(path, encoding="utf-8") as f:
            fc = json.load(f)
        feats = fc["features"]
        n = len(feats)
        props = [ft["properties"] for ft in feats]
        for i, p in enumerate(props):
            if int(p["unit"]) != i:
                raise ValueError(f"{path}: feature {i} has unit {p['unit']} (must equal its position)")
        self.n = n
        self.workload = np.array([float(p["workload"]) for p in props])
        self.households = np.array([int(p.get("households") or 0) for p in props])
        self.area = np.array([float(p["area_m2"]) for p in props])
        self.perimeter = np.array([float(p["perimeter_m"]) for p in props])
        self.x = np.array([float(p["x_m"]) for p in props])
        self.y = np.array([float(p["y_m"]) for p in props])
        self.grid = [p.get("grid") for p in props]

        # Neighbour lists; pairs i < j with their shared length. The relation should be
        # symmetric; if it is not, the union is used and the mismatches are counted.
        neigh: list[set[int]] = [set() for _ in range(n)]
        length: dict[tuple[int, int], float] = {}
        self.self_loops = 0
        for i, p in enumerate(props):
            ns = p.get("neighbours") or []
            ls = p.get("neighbour_lengths") or []
            if len(ls) != len(ns):
                raise ValueError(f"{path}: unit {i}: {len(ns)} neighbours but {len(ls)} lengths")
            for j, ln in zip(ns, ls):
                j = int(j)
                if not 0 <= j < n:
                    raise ValueError(f"{path}: unit {i}: neighbour {j} out of range")
                if j == i:
                    self.self_loops += 1
                    continue
                neigh[i].add(j)
                key = (min(i, j), max(i, j))
                length.setdefault(key, float(ln))
        self.asymmetric = sum(1 for i in range(n) for j in neigh[i] if i not in neigh[j])
        for i in range(n):
            for j in list(neigh[i]):
                neigh[j].add(i)
        self.neighbours = {i: sorted(neigh[i]) for i in range(n)}
        pairs = sorted(length)
        self.edge_i = np.array([a for a, _ in pairs], dtype=np.int64)
        self.edge_j = np.array([b for _, b in pairs], dtype=np.int64)
        self.edge_len = np.array([length[e] for e in pairs])

        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        m = len(pairs)
        self.adj = coo_matrix(
            (np.ones(2 * m), (np.r_[self.edge_i, self.edge_j], np.r_[self.edge_j, self.edge_i])), shape=(n, n)
        ).tocsr()
        self.components, self.component = connected_components(self.adj, directed=False)
        self.islands = int(sum(1 for i in range(n) if not self.neighbours[i]))

        # Attributes: standardised centroids.
        if scaling == "per-axis":
            sx = self.x.std() or 1.0
            sy = self.y.std() or 1.0
        else:
            s = math.sqrt((self.x.var() + self.y.var()) / 2) or 1.0
            sx = sy = s
        ax = (self.x - self.x.mean()) / sx
        ay = (self.y - self.y.mean()) / sy

        # The GeoDataFrame spopt works on: index 0..n-1 like the W ids, the attributes, the
        # threshold variable, and as geometry the units' centroids x_m, y_m in the metric
        # plane rather than the file's WGS84 polygons (read with geopandas, kept as
        # self.geometry): spopt reads the geometry only for MaxP's component linking
        # (policy single/multiple: nearest centroids), which with lon/lat would measure
        # degrees (and warn about a geographic CRS); this way it measures what x_m, y_m do.
        self.geometry = geopandas.GeoDataFrame.from_features(feats, crs="EPSG:4326").geometry
        self.gdf = geopandas.GeoDataFrame(
            {"ax": ax, "ay": ay, "workload": self.workload},
            geometry=geopandas.points_from_xy(self.x, self.y),
            index=range(n),
        )

    def weights(self):
        """A fresh libpysal W from the neighbours (binary; Skater changes W.transform)."""
        from libpysal.weights import W

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # islands / disconnected warnings: counted ourselves
            return W(self.neighbours, ids=list(range(self.n)), silence_warnings=True)


# ---------------------------------------------------------------------------------------
# Methods (run in the child)


def solve(units: Units, method: str, k: int, t: float, policy: str, maxp_lite: tuple[int, int]) -> dict:
    """Build the model (untimed), solve (timed), return labels, seconds and notes."""
    total = float(units.workload.sum())
    mean = total / k
    floor = mean * (1 - t)
    w = units.weights()
    gdf = units.gdf
    attrs = ["ax", "ay"]
    extra: dict = {}

    if method in ("maxp", "maxp_lite"):
        from spopt.region import MaxPHeuristic

        construction, sa = (99, 10) if method == "maxp" else maxp_lite
        config = {
            "class": "spopt.region.MaxPHeuristic",
            "attrs_name": attrs,
            "threshold_name": "workload",
            "threshold": floor,
            "top_n": 2,
            "max_iterations_construction": construction,
            "max_iterations_sa": sa,
            "policy": policy,
        }
        model = MaxPHeuristic(
            gdf, w, attrs, "workload", floor,
            top_n=2, max_iterations_construction=construction, max_iterations_sa=sa, policy=policy,
        )
    elif method in ("skater", "skater_nf"):
        from spopt.region import Skater

        floor_units = int(math.floor((1 - t) * units.n / k)) if method == "skater" else -np.inf
        config = {
            "class": "spopt.region.Skater",
            "attrs_name": attrs,
            "n_clusters": k,
            "floor": floor_units if method == "skater" else None,
            "floor_is": "number of units (spopt's quorum counts units)" if method == "skater" else "none",
            "islands": SKATER_ISLANDS,
            "spanning_forest_kwds": "defaults (manhattan, np.sum, np.mean)",
        }
        model = Skater(gdf, w, attrs, n_clusters=k, floor=floor_units, islands=SKATER_ISLANDS)
    elif method == "skater_w":
        config = {
            "class": "SpanningForest subclass (workload floor in score), run as Skater.solve",
            "attrs_name": attrs,
            "n_clusters": k,
            "floor": floor,
            "floor_is": "workload",
            "islands": SKATER_ISLANDS,
            "spanning_forest_kwds": "defaults (manhattan, np.sum, np.mean)",
        }
        model = WorkloadFloorSkater(gdf, w, attrs, k, units.workload, floor, units.component, SKATER_ISLANDS)
    elif method == "azp":
        from spopt.region import AZP

        config = {
            "class": "spopt.region.AZP",
            "attrs_name": attrs,
            "n_clusters": k,
            "random_state": SEED,
            "allow_move_strategy": "None (AllowMoveAZP)",
            "objective_func": "ObjectiveFunctionPairwise (manhattan)",
        }
        model = AZP(gdf, w, attrs, n_clusters=k, random_state=SEED)
    else:
        raise ValueError(f"unknown method {method!r}")

    random.seed(SEED)
    np.random.seed(SEED)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        model.solve()
        seconds = time.perf_counter() - t0
    labels = getattr(model, "labels_", None)
    if method.startswith("maxp"):
        extra["p"] = int(model.p) if getattr(model, "p", None) is not None else None
    notes = []
    for wm in caught:
        if issubclass(wm.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning)):
            continue  # pandas/geopandas deprecations inside spopt: not about the solve
        msg = f"{wm.category.__name__}: {wm.message}"
        if msg not in notes:
            notes.append(msg)
    if labels is None:
        raise RuntimeError("solve() returned no labels (no feasible solution found)")
    labels = [int(v) for v in np.asarray(labels).ravel()]
    if len(labels) != units.n and method.startswith("maxp") and policy == "drop":
        # policy "drop" solved on the feasible components only (spopt keeps their order)
        comp_total = np.bincount(units.component, weights=units.workload)
        keep = np.flatnonzero(comp_total[units.component] >= floor)
        if len(keep) == len(labels):
            full = [-1] * units.n
            for i, v in zip(keep, labels):
                full[int(i)] = v
            labels = full
    if len(labels) != units.n:
        raise RuntimeError(f"solve() returned {len(labels)} labels for {units.n} units")
    return {"config": config, "seconds": seconds, "labels": labels, "warnings": notes[:10], **extra}


class WorkloadFloorSkater:
    """Skater.solve with a SpanningForest whose floor is a minimum workload per region.

    A region that is a whole component of the neighbours graph (an island) is exempt: it
    cannot grow, and spopt's unit-count quorum would refuse to start instead.
    """

    def __init__(self, gdf, w, attrs_name, n_clusters, workload, floor, component, islands):
        from spopt.region.skater import SpanningForest

        comp_size = np.bincount(component)

        class _Forest(SpanningForest):
            def score(self, data, labels=None, quorum=-np.inf):
                if labels is None:
                    labels = self.current_labels_
                below = np.bincount(labels, weights=workload) < floor
                if below.any():
                    size = np.bincount(labels)
                    first = np.full(len(size), len(labels))
                    np.minimum.at(first, labels, np.arange(len(labels)))
                    whole = size == comp_size[component[first]]
                    if (below & ~whole).any():
                        return np.inf
                return super().score(data, labels=labels, quorum=quorum)

        self._forest = _Forest
        self.gdf, self.w, self.attrs_name, self.n_clusters = gdf, w, attrs_name, n_clusters
        self.islands = islands

    def solve(self):
        X = self.gdf[self.attrs_name].values
        model = self._forest()
        model.fit(self.n_clusters, self.w, data=X, quorum=-np.inf, trace=False, islands=self.islands)
        self.labels_ = model.current_labels_


def _child(conn, units, method, k, t, policy, maxp_lite):
    try:
        conn.send(("ok", solve(units, method, k, t, policy, maxp_lite)))
    except BaseException as e:  # noqa: BLE001 (anything the method raises is its result)
        tb = traceback.format_exc(limit=4)
        conn.send(("error", f"{type(e).__name__}: {e}", tb))
    finally:
        conn.close()


def run_isolated(units, method, k, t, policy, maxp_lite, timeout):
    """Solve in a forked child; returns (result or None, error text or None).

    The timeout covers the whole child (building W and the model too, which is quick),
    the recorded seconds only solve().
    """
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, units, method, k, t, policy, maxp_lite), daemon=True)
    started = time.perf_counter()
    proc.start()
    send.close()
    msg = None
    try:
        if recv.poll(timeout):
            try:
                msg = recv.recv()
            except EOFError:
                msg = None
        else:
            msg = "timeout"
    finally:
        if msg == "timeout" or msg is None:
            proc.kill()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
        recv.close()
    wall = time.perf_counter() - started
    if msg == "timeout":
        return None, f"timeout after {timeout:g} s"
    if msg is None:
        return None, f"child died (exit code {proc.exitcode}) after {wall:.1f} s"
    if msg[0] == "ok":
        return msg[1], None
    return None, msg[1] + "\n" + msg[2]


# ---------------------------------------------------------------------------------------
# Measures


def measure(units: Units, labels, k: int, t: float) -> dict:
    """Regions, balance, Polsby-Popper and contiguity of a labelling, from the properties."""
    from scipy.sparse.csgraph import connected_components

    lab = np.asarray(labels, dtype=np.int64)
    assigned = lab >= 0
    unassigned = int((~assigned).sum())
    ids, dense = np.unique(lab[assigned], return_inverse=True)
    r = len(ids)
    full = -np.ones(units.n, dtype=np.int64)
    full[assigned] = dense
    total = float(units.workload.sum())
    out = {"regions": r, "regions_eq_k": r == k, "unassigned_units": unassigned}
    if r == 0:
        return out

    wl = np.bincount(full[assigned], weights=units.workload[assigned], minlength=r)
    area = np.bincount(full[assigned], weights=units.area[assigned], minlength=r)
    per = np.bincount(full[assigned], weights=units.perimeter[assigned], minlength=r)
    li, lj = full[units.edge_i], full[units.edge_j]
    inside = (li == lj) & (li >= 0)
    per = per - 2 * np.bincount(li[inside], weights=units.edge_len[inside], minlength=r)
    with np.errstate(divide="ignore", invalid="ignore"):
        pp = np.where(per > 0, 4 * math.pi * area / per**2, np.nan)

    def balance(mean):
        dev = np.abs(wl - mean) / mean if mean > 0 else np.full(r, np.inf)
        return float((dev <= t + BALANCE_EPS).mean()), float(dev.max())

    mean_k = total / k
    mean_own = total / r
    share_k, dev_k = balance(mean_k)
    share_own, dev_own = balance(mean_own)

    noncontig = 0
    for g in range(r):
        members = np.flatnonzero(full == g)
        if len(members) > 1:
            sub = units.adj[members][:, members]
            nc, _ = connected_components(sub, directed=False)
            if nc > 1:
                noncontig += 1
    out.update(
        {
            "mean_k": mean_k,
            "balanced_share_k": share_k,
            "max_dev_k": dev_k,
            "mean_own": mean_own,
            "balanced_share_own": share_own,
            "max_dev_own": dev_own,
            "workload_min": float(wl.min()),
            "workload_max": float(wl.max()),
            "pp_mean": float(np.nanmean(pp)),
            "pp_min": float(np.nanmin(pp)),
            "contiguous": noncontig == 0,
            "noncontiguous_regions": noncontig,
        }
    )
    return out


# ---------------------------------------------------------------------------------------
# Main


def versions() -> dict:
    import geopandas
    import libpysal
    import scipy
    import sklearn
    import spopt

    return {
        "python": platform.python_version(),
        "spopt": spopt.__version__,
        "libpysal": libpysal.__version__,
        "geopandas": geopandas.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def note(res: dict) -> str:
    if res.get("error"):
        return "error: " + res["error"].splitlines()[0][:70]
    if res.get("warnings"):
        return "warning: " + res["warnings"][0].split(". ")[0][:70]
    return ""


def print_table(instances: list[dict]) -> None:
    nw = max([8] + [len(i["name"]) for i in instances])
    head = (
        f"{'instance':<{nw}} {'method':<9} {'n':>6} {'k':>3} {'reg':>4} {'=k':>3} {'seconds':>9} "
        f"{'bal(k)':>6} {'bal(own)':>8} {'maxdev':>7} {'PPmean':>6} {'PPmin':>6} {'contig':>6}  notes"
    )
    print(head)
    print("-" * len(head))
    for inst in instances:
        for res in inst["results"]:
            m = res.get("measures") or {}
            contig = m.get("contiguous")
            print(
                f"{inst['name']:<{nw}} {res['method']:<9} {inst['n']:>6} {inst['grids']:>3} "
                f"{fmt(m.get('regions'), 'd'):>4} {('yes' if m.get('regions_eq_k') else 'no') if m else '-':>3} "
                f"{fmt(res.get('seconds'), '.3f'):>9} {fmt(m.get('balanced_share_k'), '.2f'):>6} "
                f"{fmt(m.get('balanced_share_own'), '.2f'):>8} {fmt(m.get('max_dev_k'), '.3f'):>7} "
                f"{fmt(m.get('pp_mean'), '.3f'):>6} {fmt(m.get('pp_min'), '.3f'):>6} "
                f"{'-' if contig is None else ('yes' if contig else 'NO'):>6}  {note(res)}"
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instances", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--methods", default=",".join(ALL_METHODS))
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per solve (default 120)")
    ap.add_argument("--attrs-scaling", choices=("common", "per-axis"), default="common")
    ap.add_argument("--maxp-policy", choices=("single", "multiple", "keep", "drop"), default="single")
    ap.add_argument(
        "--maxp-lite",
        default="10,1",
        help="max_iterations_construction,max_iterations_sa of maxp_lite (default 10,1)",
    )
    ap.add_argument("--cpu", type=int, help="pin the run (and the solver processes) to this CPU")
    ap.add_argument("--no-labels", action="store_true", help="leave the labels out of --out")
    a = ap.parse_args()

    methods = [m.strip() for m in a.methods.split(",") if m.strip()]
    for m in methods:
        if m not in ALL_METHODS:
            ap.error(f"unknown method {m!r} (known: {', '.join(ALL_METHODS)})")

    try:
        maxp_lite = tuple(int(v) for v in a.maxp_lite.split(","))
        assert len(maxp_lite) == 2 and maxp_lite[0] >= 1 and maxp_lite[1] >= 1
    except (ValueError, AssertionError):
        ap.error("--maxp-lite takes two integers >= 1, e.g. 10,1 (spopt needs at least one SA run)")

    if a.cpu is not None:
        os.sched_setaffinity(0, {a.cpu})  # inherited by the forked solver processes

    vers = versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items()), file=sys.stderr)

    specs = json.loads(Path(a.instances).read_text())
    base = Path(a.instances).resolve().parent
    out = {
        "versions": vers,
        "settings": {
            "methods": methods,
            "timeout_s": a.timeout,
            "seed": SEED,
            "attrs_scaling": a.attrs_scaling,
            "maxp_policy": a.maxp_policy,
            "maxp_lite": list(maxp_lite),
            "threads": {v: os.environ[v] for v in _THREAD_VARS},
            "cpu": a.cpu,
            "loadavg_before": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "affinity": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        },
        "instances": [],
    }
    loaded: dict[str, Units] = {}
    for spec in specs:
        name, k, t = spec["name"], int(spec["grids"]), float(spec["tolerance"])
        path = Path(spec["units"])
        if not path.is_absolute() and not path.exists():
            path = base / path
        key = str(path.resolve())
        if key not in loaded:
            loaded.clear()  # one units file in memory at a time
            loaded[key] = Units(str(path), a.attrs_scaling)
        units = loaded[key]
        total = float(units.workload.sum())
        inst = {
            "name": name,
            "units": str(spec["units"]),
            "grids": k,
            "tolerance": t,
            "n": units.n,
            "edges": int(len(units.edge_len)),
            "components": int(units.components),
            "islands": units.islands,
            "asymmetric_neighbour_entries": units.asymmetric,
            "self_loops": units.self_loops,
            "total_workload": total,
            "mean": total / k,
            "floor": total / k * (1 - t),
            "results": [],
        }
        print(f"{name}: n={units.n} edges={inst['edges']} components={inst['components']} k={k} t={t}", file=sys.stderr)
        codes = {g: i for i, g in enumerate(sorted({str(g) for g in units.grid if g is not None}))}
        if codes:  # gridgov's own plan, measured the same way
            labels = [codes[str(g)] if g is not None else -1 for g in units.grid]
            row = {"method": "gridgov", "seconds": None, "error": None, "measures": measure(units, labels, k, t)}
            inst["results"].append(row)
        for method in methods:
            res, err = run_isolated(units, method, k, t, a.maxp_policy, maxp_lite, a.timeout)
            row = {"method": method, "seconds": None, "error": err}
            if res is not None:
                row["seconds"] = res["seconds"]
                row["config"] = res["config"]
                row["warnings"] = res["warnings"]
                if "p" in res:
                    row["p"] = res["p"]
                row["measures"] = measure(units, res["labels"], k, t)
                if not a.no_labels:
                    row["labels"] = res["labels"]
            inst["results"].append(row)
            m = row.get("measures") or {}
            print(
                f"  {method:<9} {fmt(row['seconds'], '.3f')} s  regions={m.get('regions', '-')}"
                f"  bal(k)={fmt(m.get('balanced_share_k'), '.2f')}  PP={fmt(m.get('pp_mean'), '.3f')}"
                f"  contiguous={m.get('contiguous', '-')}" + (f"  error: {err.splitlines()[0]}" if err else ""),
                file=sys.stderr,
            )
        inst["loadavg_after"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
        out["instances"].append(inst)
        Path(a.out).write_text(json.dumps(out, indent=1) + "\n")  # after each instance

    Path(a.out).write_text(json.dumps(out, indent=1) + "\n")
    print_table(out["instances"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
