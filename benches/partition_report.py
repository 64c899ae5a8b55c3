#!/usr/bin/env python3
"""The table of benches/partition.sh: gridgov's partitions (gridgov.json from partition_bench)
beside spopt's (spopt.json from partition_spopt.py) on the same units.

    python3 benches/partition_report.py gridgov.json spopt.json

Per group (the demo's villages together, then the township): for every method, the grids
within the tolerance of the mean W/k (all grids of the group counted together), instances
with exactly k regions, instances with every region contiguous, mean Polsby-Popper over all
grids, and total solve seconds. Then per instance the speed-up: the fastest spopt method that
drew exactly k contiguous regions, divided by gridgov's median.
"""

import json
import math
import sys


def main() -> int:
    gridgov = {r["name"]: r for r in json.load(open(sys.argv[1]))}
    spopt = json.load(open(sys.argv[2]))
    v = spopt["versions"]
    print(
        f"spopt {v['spopt']}, libpysal {v['libpysal']}, geopandas {v['geopandas']}, numpy {v['numpy']}, "
        f"python {v['python']}; timeout {spopt['settings']['timeout_s']:.0f} s per solve; one core each."
    )
    groups = {"villages": [], "township": []}
    for inst in spopt["instances"]:
        groups["township" if inst["name"].startswith("township") else "villages"].append(inst)
    for group, insts in groups.items():
        if not insts:
            continue
        print()
        n_units = sum(i["n"] for i in insts)
        k_total = sum(i["grids"] for i in insts)
        print(f"**{group}**: {len(insts)} instance(s), {n_units} units, {k_total} grids asked for")
        print()
        print("| method | grids within ±tolerance | instances with k regions | all regions contiguous | mean compactness (PP) | solve seconds, total |")
        print("|---|---:|---:|---:|---:|---:|")
        methods = []
        for inst in insts:
            for r in inst["results"]:
                if r["method"] not in methods:
                    methods.append(r["method"])
        for m in methods:
            within = regions = eq_k = contig = 0
            pp_sum = 0.0
            secs = 0.0
            failed = 0
            for inst in insts:
                r = next((x for x in inst["results"] if x["method"] == m), None)
                meas = (r or {}).get("measures")
                if not meas:
                    failed += 1
                    continue
                reg = meas["regions"]
                regions += reg
                within += round(meas["balanced_share_k"] * reg)
                eq_k += bool(meas["regions_eq_k"])
                contig += bool(meas["contiguous"])
                pp_sum += meas["pp_mean"] * reg
                if m == "gridgov":
                    secs += gridgov[inst["name"]]["seconds"]
                elif r.get("seconds") is not None:
                    secs += r["seconds"]
            note = f" ({failed} failed or timed out)" if failed else ""
            share = f"{within}/{regions} ({100 * within / regions:.0f} %)" if regions else "-"
            pp = f"{pp_sum / regions:.3f}" if regions else "-"
            print(f"| {m}{note} | {share} | {eq_k}/{len(insts)} | {contig}/{len(insts)} | {pp} | {secs:.3f} |")
        print()
        ratios = []
        for inst in insts:
            g = gridgov[inst["name"]]["seconds"]
            best = None
            for r in inst["results"]:
                meas = r.get("measures")
                if r["method"] == "gridgov" or not meas or r.get("seconds") is None:
                    continue
                if meas["regions_eq_k"] and meas["contiguous"]:
                    if best is None or r["seconds"] < best[1]:
                        best = (r["method"], r["seconds"])
            if best:
                ratios.append((inst["name"], best[0], best[1], g, best[1] / g))
        if ratios:
            print("| instance | fastest spopt method with k contiguous regions | its seconds | gridgov seconds | speed-up |")
            print("|---|---|---:|---:|---:|")
            for name, m, s, g, x in ratios:
                print(f"| {name} | {m} | {s:.3f} | {g:.4f} | {x:.0f}× |")
            gm = math.exp(sum(math.log(x[4]) for x in ratios) / len(ratios))
            print(f"\nspeed-up: geometric mean {gm:.0f}×, smallest {min(x[4] for x in ratios):.0f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
