//! The partitioner on the demo county: every village partitioned into grids that are contiguous,
//! tile the village exactly, nest in it, stay within the tolerance and do not depend on
//! anything but the seed; barriers that no grid crosses; small villages merged whole in township
//! mode; infeasible targets explained; and minimal-change rebalancing after 200 households move
//! in.

#![expect(clippy::unwrap_used, reason = "a test fails loudly on a broken demo")]

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::OnceLock;

use geo::{
    Area, BooleanOps, Contains, Coord, Geometry, InteriorPoint, LineString, MultiPolygon, Point,
};
use gridgov_model::vocab::RoadClass;
use gridgov_model::{Dataset, DivisionCode, Feature, Layer};
use gridgov_partition::request::parse_barriers;
use gridgov_partition::{
    rerun, run, Barriers, Options, Outcome, Request, Scope, Targets, Workload,
};

fn demo() -> &'static Dataset {
    static DEMO: OnceLock<Dataset> = OnceLock::new();
    DEMO.get_or_init(|| gridgov_demo::generate(42).dataset)
}

fn code(f: &Feature) -> DivisionCode {
    f.text("code").unwrap().parse().unwrap()
}

fn village_polygon(data: &Dataset, v: DivisionCode) -> MultiPolygon<f64> {
    let f = data.layers[&Layer::Villages]
        .iter()
        .find(|f| code(f) == v)
        .unwrap();
    match f.geometry.clone().unwrap() {
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        Geometry::MultiPolygon(m) => m,
        g => panic!("village geometry {g:?}"),
    }
}

/// Grids of the demo's plan in force per village.
fn demo_grids(data: &Dataset, v: DivisionCode) -> Vec<Feature> {
    data.layers[&Layer::Grids]
        .iter()
        .filter(|g| g.division == v)
        .cloned()
        .collect()
}

fn request(scope: Scope, grids: Option<usize>) -> Request {
    Request {
        scope,
        targets: Targets {
            grids,
            ..Targets::default()
        },
        options: Options::default(),
        workload: Workload::default(),
        barriers: Barriers::default(),
    }
}

/// Planar area in square metres of a WGS84 multipolygon, near latitude 26.6°.
fn area_m2(m: &MultiPolygon<f64>) -> f64 {
    let k = 111_195.0;
    let c = 26.6f64.to_radians().cos();
    let mut scaled = m.clone();
    geo::MapCoordsInPlace::map_coords_in_place(&mut scaled, |p: Coord<f64>| Coord {
        x: p.x * k * c,
        y: p.y * k,
    });
    scaled.unsigned_area()
}

/// Checks what every plan must be: each grid connected over the units' shared boundaries (an
/// independent breadth-first search), the grids' union equal to the area, no two grids
/// overlapping, every grid inside its village.
fn check_plan(data: &Dataset, o: &Outcome) {
    let g = &o.units.graph;
    let mut adj = vec![Vec::new(); g.units.len()];
    for e in &g.edges {
        if !e.barrier {
            adj[e.a].push(e.b);
            adj[e.b].push(e.a);
        }
    }
    let mut seen_units = BTreeSet::new();
    for grid in &o.grids {
        let members: BTreeSet<usize> = grid.units.iter().copied().collect();
        assert!(!members.is_empty());
        for u in &members {
            assert!(seen_units.insert(*u), "unit {u} in two grids");
        }
        let start = *members.iter().next().unwrap();
        let mut reached = BTreeSet::from([start]);
        let mut queue = VecDeque::from([start]);
        while let Some(u) = queue.pop_front() {
            for &v in &adj[u] {
                if members.contains(&v) && reached.insert(v) {
                    queue.push_back(v);
                }
            }
        }
        assert_eq!(
            reached.len(),
            members.len(),
            "{} is not contiguous",
            grid.code
        );
        // A contiguous grid is one polygon (whole villages merged may touch at a point only).
        assert_eq!(
            grid.polygon.0.len(),
            1,
            "{} has {} parts",
            grid.code,
            grid.polygon.0.len()
        );
        // Its villages: the one it belongs to, and small villages merged whole into it.
        let villages: BTreeSet<usize> = members.iter().map(|&u| g.units[u].village).collect();
        let village = villages
            .iter()
            .map(|&v| village_polygon(data, o.units.villages[v]))
            .fold(MultiPolygon(Vec::new()), |a, b| a.union(&b));
        let outside = area_m2(&grid.polygon.difference(&village));
        assert!(
            outside < 1.0,
            "{} reaches {outside} m² outside its village",
            grid.code
        );
    }
    assert_eq!(seen_units.len(), g.units.len(), "a unit without a grid");
    // Exact tiling: the grids' areas add up to their union's, which is the area's.
    let area: MultiPolygon<f64> = o
        .units
        .villages
        .iter()
        .map(|v| village_polygon(data, *v))
        .fold(MultiPolygon(Vec::new()), |a, b| a.union(&b));
    let sum: f64 = o.grids.iter().map(|g| area_m2(&g.polygon)).sum();
    let union = o
        .grids
        .iter()
        .fold(MultiPolygon(Vec::new()), |a, g| a.union(&g.polygon));
    let (a, u) = (area_m2(&area), area_m2(&union));
    assert!(
        (sum - u).abs() / a < 1e-6,
        "grids overlap: {sum} m² in all, {u} m² united"
    );
    assert!((u - a).abs() / a < 1e-6, "grids cover {u} m² of {a} m²");
    assert!(
        area_m2(&union.xor(&area)) / a < 1e-6,
        "grids and area differ"
    );
}

#[test]
fn every_demo_village_gets_balanced_contiguous_grids_that_tile_it() {
    let data = demo();
    let mut within = 0;
    let mut grids = 0;
    for v in &data.layers[&Layer::Villages] {
        let v = code(v);
        // As many grids as the demo's own plan: villages below 300 households keep one.
        let k = demo_grids(data, v).len();
        let o = run(data, &request(Scope::Village(v), Some(k)), &mut |_| {}).unwrap();
        assert_eq!(o.grids.len(), k, "{v}");
        check_plan(data, &o);
        let hh: u64 = o.grids.iter().map(|g| g.households).sum();
        assert_eq!(hh, o.units.graph.households(), "{v}: households lost");
        let registered = data.layers[&Layer::Households]
            .iter()
            .filter(|h| h.division == v)
            .count() as u64;
        assert_eq!(
            hh + o.units.outside as u64,
            registered,
            "{v}: households not counted"
        );
        for g in &o.grids {
            assert_eq!(g.village, v, "{} is not in {v}", g.code);
            assert!(g.code.to_string().starts_with(v.as_str()));
        }
        within += o
            .solution
            .grids
            .iter()
            .filter(|g| g.deviation.abs() <= 0.1 + 1e-9)
            .count();
        grids += o.grids.len();
        assert!(
            o.solution.balanced,
            "{v}: not balanced: {:?}",
            o.solution
                .grids
                .iter()
                .map(|g| g.deviation)
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(within, grids);
}

#[test]
fn the_same_seed_gives_the_same_plan() {
    let data = demo();
    let v: DivisionCode = "520526101001".parse().unwrap();
    let r = request(Scope::Village(v), None);
    let a = run(data, &r, &mut |_| {}).unwrap();
    let b = run(data, &r, &mut |_| {}).unwrap();
    assert_eq!(
        gridgov_partition::plan::plan_geojson(&a.grids),
        gridgov_partition::plan::plan_geojson(&b.grids)
    );
    assert_eq!(a.solution.assignment, b.solution.assignment);
}

#[test]
fn no_grid_crosses_a_barrier() {
    let data = demo();
    let barriers = parse_barriers("trunk,primary,river").unwrap();
    // Villages with barrier roads inside, most first; the first that a barrier-respecting plan
    // can balance (a barrier may cut off a corner too small for a grid: that is explained).
    let mut candidates: Vec<(usize, DivisionCode)> = data.layers[&Layer::Villages]
        .iter()
        .map(|f| {
            let v = code(f);
            (
                barrier_points(data, &barriers.road_classes, &village_polygon(data, v)).len(),
                v,
            )
        })
        .filter(|(n, _)| *n > 0)
        .filter(|(_, v)| {
            // Enough households for two grids of 300-500.
            data.layers[&Layer::Households]
                .iter()
                .filter(|h| h.division == *v)
                .count()
                >= 700
        })
        .collect();
    candidates.sort_unstable_by(|a, b| b.cmp(a));
    let mut found = None;
    let mut refused = 0;
    'search: for (_, v) in &candidates {
        // Barriers leave pieces of whatever size the roads make: more grids, looser balance.
        for k in 2..=6 {
            let mut r = request(Scope::Village(*v), Some(k));
            r.barriers = barriers.clone();
            r.targets.tolerance = 0.3;
            match run(data, &r, &mut |_| {}) {
                Ok(o) if o.units.graph.edges.iter().any(|e| e.barrier) => {
                    found = Some((*v, o));
                    break 'search;
                }
                Ok(_) => {}
                Err(e) => {
                    eprintln!("{v}, {k} grids: {e}");
                    assert!(e.to_string().contains("barrier"), "{v}: {e}");
                    refused += 1;
                }
            }
        }
    }
    eprintln!("{refused} requests refused for barriers");
    let (v, o) = found.unwrap();
    check_plan(data, &o);
    assert!(
        o.units.graph.edges.iter().any(|e| e.barrier),
        "{v}: no barrier edge"
    );
    for e in o.units.graph.edges.iter().filter(|e| e.barrier) {
        assert_ne!(o.solution.assignment[e.a], o.solution.assignment[e.b]);
    }
    // Independently of the graph: no point of a barrier road lies inside a grid.
    let poly = village_polygon(data, v);
    let units: Vec<MultiPolygon<f64>> = (0..o.units.shapes.len())
        .map(|u| o.units.polygon(u))
        .collect();
    for p in barrier_points(data, &barriers.road_classes, &poly) {
        // A barrier that ends inside a block (a dead end) cuts nothing: a point of it inside
        // one unit is no crossing. Any other point inside a grid would be.
        if units.iter().any(|u| u.contains(&p)) {
            continue;
        }
        for g in &o.grids {
            assert!(
                !g.polygon.contains(&p),
                "{} holds a barrier at {p:?}",
                g.code
            );
        }
    }
}

/// Midpoints of the segments of barrier roads that lie inside a polygon.
fn barrier_points(
    data: &Dataset,
    classes: &[RoadClass],
    poly: &MultiPolygon<f64>,
) -> Vec<Point<f64>> {
    let mut out = Vec::new();
    for r in &data.layers[&Layer::Roads] {
        let barrier = r
            .text("class")
            .and_then(|c| c.parse::<RoadClass>().ok())
            .is_some_and(|c| classes.contains(&c));
        let Some(Geometry::LineString(LineString(cs))) = &r.geometry else {
            continue;
        };
        if !barrier {
            continue;
        }
        for w in cs.windows(2) {
            let m = Point::new(f64::midpoint(w[0].x, w[1].x), f64::midpoint(w[0].y, w[1].y));
            if poly.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

#[test]
fn a_township_merges_small_villages_whole() {
    let data = demo();
    let mut per_township: BTreeMap<DivisionCode, Vec<DivisionCode>> = BTreeMap::new();
    for v in &data.layers[&Layer::Villages] {
        let v = code(v);
        per_township.entry(v.parent().unwrap()).or_default().push(v);
    }
    let t: DivisionCode = "520526101000".parse().unwrap();
    // Within ±10 % of the township's mean is infeasible in 520526101000: villages of 332 and
    // 356 households can neither fill a grid of 388-474 nor take a whole neighbour (201-286)
    // without overshooting it; that is explained, naming the village.
    let mut r = request(Scope::Township(t), None);
    r.targets.tolerance = 0.25;
    let tight = run(data, &request(Scope::Township(t), None), &mut |_| {}).unwrap_err();
    assert!(tight.to_string().contains("520526101202"), "{tight}");
    // Township 520526107000 can: its villages fit ±25 % of its mean.
    let t: DivisionCode = "520526107000".parse().unwrap();
    assert!(per_township.contains_key(&t));
    r.scope = Scope::Township(t);
    let o = run(data, &r, &mut |_| {}).unwrap();
    check_plan(data, &o);
    let g = &o.units.graph;
    assert!(
        g.villages.iter().any(|v| v.whole),
        "no small village in {t}"
    );
    for (i, v) in g.villages.iter().enumerate() {
        let grids: BTreeSet<usize> = g
            .units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.village == i)
            .map(|(u, _)| o.solution.assignment[u])
            .collect();
        if v.whole {
            assert_eq!(grids.len(), 1, "small village {} split", v.code);
        }
    }
    for grid in &o.grids {
        let big: BTreeSet<usize> = grid
            .units
            .iter()
            .map(|&u| g.units[u].village)
            .filter(|&v| !g.villages[v].whole)
            .collect();
        assert!(big.len() <= 1, "{} spans villages {big:?}", grid.code);
    }
    assert!(
        o.solution.balanced,
        "{:?}",
        o.solution
            .grids
            .iter()
            .map(|g| (g.workload, g.units.len()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn an_impossible_range_is_explained() {
    let data = demo();
    // A village of 698 households cannot make grids of 400-450: one holds 698, two 349.
    let v = data.layers[&Layer::Villages]
        .iter()
        .map(code)
        .find(|v| {
            let n = data.layers[&Layer::Households]
                .iter()
                .filter(|h| h.division == *v)
                .count();
            (451..=799).contains(&n)
        })
        .unwrap();
    let mut r = request(Scope::Village(v), None);
    r.targets.range = (400.0, 450.0);
    let e = run(data, &r, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("400") && e.contains("450"), "{e}");
}

#[test]
fn rebalancing_after_200_new_households_moves_few_and_keeps_codes() {
    let mut data = demo().clone();
    let v: DivisionCode = "520526101001".parse().unwrap();
    let current = demo_grids(&data, v);
    let k = current.len();
    // 200 new households in the village's north-west corner: near the vertex with the
    // smallest x + (-y), spread over a few metres.
    let poly = village_polygon(&data, v);
    let corner = poly
        .0
        .iter()
        .flat_map(|p| p.exterior().0.iter().copied())
        .min_by(|a, b| (a.x - a.y).total_cmp(&(b.x - b.y)))
        .unwrap();
    let centre = poly.interior_point().unwrap().0;
    let spot = Coord {
        x: corner.x + (centre.x - corner.x) * 0.08,
        y: corner.y + (centre.y - corner.y) * 0.08,
    };
    assert!(poly.contains(&Point::from(spot)));
    let new_points: Vec<Point<f64>> = (0..200)
        .map(|i| {
            let d = f64::from(i) * 1e-6;
            Point::new(spot.x + d, spot.y - d)
        })
        .collect();
    for (i, p) in new_points.iter().enumerate() {
        data.push(
            Layer::Households,
            Feature::new(v, Some(Geometry::Point(*p))).with("address", format!("新建小区{i}号")),
        );
    }
    // Households per grid 300-500: the village had 1,456 in 3 grids; with 1,656 it needs 4.
    let r = request(Scope::Village(v), None);
    let fresh = run(&data, &r, &mut |_| {}).unwrap();
    assert_eq!(fresh.grids.len(), k + 1);
    let again = rerun(&data, &r, &current, &mut |_| {}).unwrap();
    check_plan(&data, &again);
    assert!(again.solution.balanced);
    // Households moved against the plan in force, each way measured by the same rule.
    let (before, codes) = gridgov_partition::plan::current_assignment(&again.units, &current);
    // Only households that had a grid can move: the newcomers are taken out per unit.
    let newcomers: Vec<u64> = (0..again.units.shapes.len())
        .map(|u| {
            let p = again.units.polygon(u);
            new_points.iter().filter(|q| p.contains(*q)).count() as u64
        })
        .collect();
    assert_eq!(newcomers.iter().sum::<u64>(), 200);
    let moved = |o: &Outcome| -> u64 {
        o.grids
            .iter()
            .flat_map(|g| g.units.iter().map(move |&u| (u, g.code.clone())))
            .filter(|(u, code)| before[*u].map(|i| &codes[i]) != Some(code))
            .map(|(u, _)| u64::from(o.units.graph.units[u].households) - newcomers[u])
            .sum()
    };
    // A fresh plan's grids take the codes of the grids of the plan in force they overlap most
    // (by households), so it is not charged for numbering them differently.
    let mut fresh = fresh;
    let mut overlap: Vec<(u64, usize, usize)> = Vec::new();
    for (gi, g) in fresh.grids.iter().enumerate() {
        let mut per: BTreeMap<usize, u64> = BTreeMap::new();
        for &u in &g.units {
            if let Some(c) = before[u] {
                *per.entry(c).or_default() += u64::from(fresh.units.graph.units[u].households);
            }
        }
        overlap.extend(per.into_iter().map(|(c, n)| (n, gi, c)));
    }
    overlap.sort_unstable_by(|a, b| b.cmp(a));
    let (mut used_g, mut used_c) = (BTreeSet::new(), BTreeSet::new());
    for (_, gi, c) in overlap {
        if !used_g.contains(&gi) && !used_c.contains(&c) {
            fresh.grids[gi].code = codes[c].clone();
            used_g.insert(gi);
            used_c.insert(c);
        }
    }
    let (m_fresh, m_again) = (moved(&fresh), moved(&again));
    eprintln!("rebalancing moved {m_again} households, a fresh plan {m_fresh}");
    assert!(
        m_again < m_fresh,
        "rebalancing moved {m_again}, a fresh plan {m_fresh}"
    );
    // A lower bound on what any plan must move: the new grid needs households beyond the
    // newcomers, and each old grid above the band must give its excess away.
    let k_new = again.grids.len() as f64;
    let total = again.units.graph.households() as f64;
    let (lo, hi) = (total / k_new * 0.9, total / k_new * 1.1);
    let old_loads: Vec<f64> = current
        .iter()
        .map(|g| {
            let code = g.text("code").unwrap();
            (0..again.units.shapes.len())
                .filter(|&u| before[u].is_some_and(|i| codes[i].to_string() == code))
                .map(|u| f64::from(again.units.graph.units[u].households) - newcomers[u] as f64)
                .sum::<f64>()
        })
        .collect();
    let excess: f64 = old_loads.iter().map(|l| (l - hi).max(0.0)).sum();
    let bound = (lo - 200.0).max(excess).max(0.0);
    eprintln!("lower bound {bound:.0}");
    assert!(
        (m_again as f64) <= 1.5 * bound,
        "rebalancing moved {m_again}, the bound is {bound:.0}"
    );
    let kept: BTreeSet<String> = again.grids.iter().map(|g| g.code.to_string()).collect();
    for c in &codes {
        assert!(kept.contains(&c.to_string()), "{c} lost");
    }
}
