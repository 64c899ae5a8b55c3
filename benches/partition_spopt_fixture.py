#!/usr/bin/env python3
"""A synthetic units file for developing and checking benches/partition_spopt.py.

    python3 benches/partition_spopt_fixture.py --rows 20 --cols 20 --out units.geojson
        [--cell 100] [--seed 1] [--max-households 40] [--barrier] [--stripes S]
        [--instances instances.json --name NAME --grids 4,8 --tolerance 0.1]

Writes what `gridgov ... --units-out` writes (see the header of partition_spopt.py): a
GeoJSON FeatureCollection in WGS84, one square unit (CELL metres a side) per lattice cell,
numbered row by row from the south-west corner, with the properties

    unit, village_code, households, workload, grid (null: no gridgov plan here, unless --stripes),
    neighbours, neighbour_lengths, area_m2, perimeter_m, x_m, y_m.

households are uniform integers 0..MAX_HOUSEHOLDS (numpy default_rng(SEED)), workload =
households (one unit of work per household). The local plane has its origin at the
south-west corner; the geometry is that plane laid around 106.7E 26.6N (an equirectangular
mapping, exact enough for a fixture). village_code is "V<r><c>" for 10 x 10 blocks of cells.

--stripes S fills `grid` with S vertical stripes of columns ("G01".."GS"), a stand-in for
gridgov's plan, so that the runner's "gridgov" row can be checked by hand (a stripe of
c columns and r rows has PP = 4 pi (c r) / (2 (c + r))^2).

--barrier cuts the rook adjacency between the middle two rows everywhere except in one
column (a river with one bridge), so that the neighbours graph is not just the geometric
adjacency, as with gridgov's barrier edges.

With --instances, also writes an instances file for partition_spopt.py: one instance per
value of --grids, all pointing at OUT.
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np

LON0 = 106.7
LAT0 = 26.6
M_PER_DEG_LAT = 111_320.0


def to_lonlat(x: float, y: float) -> list[float]:
    lon = LON0 + x / (M_PER_DEG_LAT * math.cos(math.radians(LAT0)))
    lat = LAT0 + y / M_PER_DEG_LAT
    return [round(lon, 9), round(lat, 9)]


def lattice(rows: int, cols: int, cell: float, seed: int, max_households: int, barrier: bool, stripes: int) -> dict:
    rng = np.random.default_rng(seed)
    households = rng.integers(0, max_households + 1, size=rows * cols)
    cut_row = rows // 2 - 1  # edges between cut_row and cut_row + 1 are cut...
    bridge_col = cols // 2  # ...except in this column

    def uid(r: int, c: int) -> int:
        return r * cols + c

    features = []
    for r in range(rows):
        for c in range(cols):
            neigh = []
            for dr, dc in ((-1, 0), (0, -1), (0, 1), (1, 0)):
                rr, cc = r + dr, c + dc
                if not (0 <= rr < rows and 0 <= cc < cols):
                    continue
                if barrier and dr != 0 and min(r, rr) == cut_row and c != bridge_col:
                    continue
                neigh.append(uid(rr, cc))
            x0, y0 = c * cell, r * cell
            ring = [to_lonlat(x, y) for x, y in ((x0, y0), (x0 + cell, y0), (x0 + cell, y0 + cell), (x0, y0 + cell), (x0, y0))]
            hh = int(households[uid(r, c)])
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                    "properties": {
                        "unit": uid(r, c),
                        "village_code": f"V{r // 10:02d}{c // 10:02d}",
                        "households": hh,
                        "workload": float(hh),
                        "grid": f"G{c * stripes // cols + 1:02d}" if stripes else None,
                        "neighbours": neigh,
                        "neighbour_lengths": [float(cell)] * len(neigh),
                        "area_m2": cell * cell,
                        "perimeter_m": 4.0 * cell,
                        "x_m": x0 + cell / 2,
                        "y_m": y0 + cell / 2,
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20)
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--cell", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-households", type=int, default=40)
    ap.add_argument("--barrier", action="store_true")
    ap.add_argument("--stripes", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--instances")
    ap.add_argument("--name")
    ap.add_argument("--grids", default="4")
    ap.add_argument("--tolerance", type=float, default=0.1)
    a = ap.parse_args()

    fc = lattice(a.rows, a.cols, a.cell, a.seed, a.max_households, a.barrier, a.stripes)
    Path(a.out).write_text(json.dumps(fc))
    total = sum(f["properties"]["workload"] for f in fc["features"])
    print(f"{a.out}: {len(fc['features'])} units, total workload {total:g}")
    if a.instances:
        name = a.name or Path(a.out).stem
        inst = [
            {"name": f"{name}-k{k}", "units": str(a.out), "grids": int(k), "tolerance": a.tolerance}
            for k in a.grids.split(",")
        ]
        Path(a.instances).write_text(json.dumps(inst, indent=1) + "\n")
        print(f"{a.instances}: {len(inst)} instances")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
