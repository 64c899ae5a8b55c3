#!/usr/bin/env python3
"""CVRP instances in the manner of Uchoa et al. (2017), "New benchmark instances for the
capacitated vehicle routing problem", section 3 (the generator of the X set), written from
the paper's description, seeded:

    python3 benches/routing_generate.py OUT_DIR [--seed 1] [--sizes 200,400,600]

For each size n it writes OUT_DIR/G<seed>-n<n>.vrp (VRPLIB, EUC_2D, a 1000 x 1000 grid) with
the depot (central, eccentric at the corner, or random), the customers (random, clustered or
half and half), the demands (unitary, small or large uniform, by quadrant, or many small and
few large) and the capacity (from an average route size drawn from 3 to 25) chosen by the
seed. The instances have no known optimum: they check that the solver holds its quality on
data nobody tuned it on (`bash benches/routing.sh OUT_DIR/*.vrp` runs them beside PyVRP).
"""

import argparse
import math
import os
import random

GRID = 1000


def customers(rng, n, kind):
    """Customer positions: random (R), clustered (C) or half of each (RC)."""
    points = set()
    if kind == "R":
        while len(points) < n:
            points.add((rng.randint(0, GRID), rng.randint(0, GRID)))
        return list(points)
    seeds = [(rng.randint(0, GRID), rng.randint(0, GRID)) for _ in range(rng.randint(3, 8))]
    clustered = n if kind == "C" else n // 2
    while len(points) < clustered:
        # Accept a point with probability decreasing exponentially with its distance to the
        # nearest seed (the paper's attraction with lambda = 40).
        p = (rng.randint(0, GRID), rng.randint(0, GRID))
        d = min(math.dist(p, s) for s in seeds)
        if rng.random() < math.exp(-d / 40.0):
            points.add(p)
    while len(points) < n:
        points.add((rng.randint(0, GRID), rng.randint(0, GRID)))
    return list(points)


def demand(rng, kind, p):
    if kind == "unitary":
        return 1
    if kind == "small":
        return rng.randint(1, 10)
    if kind == "large":
        return rng.randint(50, 100)
    if kind == "quadrant":
        # Large in two opposite quadrants, small in the other two.
        odd = (p[0] < GRID / 2) != (p[1] < GRID / 2)
        return rng.randint(51, 100) if odd else rng.randint(1, 50)
    # Many small, few large.
    return rng.randint(1, 10) if rng.random() < 0.8 else rng.randint(50, 100)


def instance(rng, n):
    depot_kind = rng.choice(["central", "eccentric", "random"])
    customer_kind = rng.choice(["R", "C", "RC"])
    demand_kind = rng.choice(["unitary", "small", "large", "quadrant", "mixed"])
    route_size = rng.uniform(3, 25)
    depot = {
        "central": (GRID // 2, GRID // 2),
        "eccentric": (0, 0),
        "random": (rng.randint(0, GRID), rng.randint(0, GRID)),
    }[depot_kind]
    pts = [p for p in customers(rng, n + 1, customer_kind) if p != depot][:n]
    demands = [demand(rng, demand_kind, p) for p in pts]
    capacity = max(max(demands), math.ceil(route_size * sum(demands) / n))
    comment = f"{depot_kind} depot, {customer_kind} customers, {demand_kind} demands, r = {route_size:.1f}"
    return depot, pts, demands, capacity, comment


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sizes", default="200,400,600")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for n in (int(s) for s in args.sizes.split(",")):
        rng = random.Random(f"{args.seed}-{n}")
        depot, pts, demands, capacity, comment = instance(rng, n)
        name = f"G{args.seed}-n{n + 1}"
        with open(os.path.join(args.out, name + ".vrp"), "w", encoding="utf-8") as f:
            f.write(f"NAME : {name}\nCOMMENT : {comment}\nTYPE : CVRP\n")
            f.write(f"DIMENSION : {n + 1}\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : {capacity}\n")
            f.write("NODE_COORD_SECTION\n")
            for i, (x, y) in enumerate([depot] + pts, start=1):
                f.write(f"{i}\t{x}\t{y}\n")
            f.write("DEMAND_SECTION\n")
            for i, d in enumerate([0] + demands, start=1):
                f.write(f"{i}\t{d}\n")
            f.write("DEPOT_SECTION\n\t1\n\t-1\nEOF\n")
        print(f"{name}: {comment}, capacity {capacity}")


if __name__ == "__main__":
    main()
