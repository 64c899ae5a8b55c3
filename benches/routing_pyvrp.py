"""PyVRP on one VRPLIB instance, for benches/routing.sh.

    python routing_pyvrp.py INSTANCE SECONDS SEED

Reads the instance with CVRPLIB's rounding (round_func="round"), solves it with PyVRP's
default hybrid genetic search for SECONDS of wall clock on one core, and prints one JSON line:
the cost, whether the solution is feasible, the number of routes and iterations.
"""

import json
import sys
import time

from pyvrp import read, solve
from pyvrp.stop import MaxRuntime


def main() -> None:
    path, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    data = read(path, round_func="round")
    start = time.perf_counter()
    result = solve(data, stop=MaxRuntime(seconds), seed=seed, display=False)
    elapsed = time.perf_counter() - start
    best = result.best
    print(
        json.dumps(
            {
                "cost": int(round(best.distance())) if best.is_feasible() else None,
                "feasible": best.is_feasible(),
                "routes": best.num_routes(),
                "iterations": result.num_iterations,
                "seconds": round(elapsed, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
