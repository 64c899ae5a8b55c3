//! The road graph on hand-made networks (one-way streets, crossings, snapping, fragments,
//! speeds and forbidden classes), against the plain reference Dijkstra on random seeded
//! networks, and on the demo county's roads.

#![expect(clippy::unwrap_used, reason = "a test fails loudly")]

use geo::Coord;
use gridgov_model::vocab::RoadClass;
use gridgov_model::Layer;
use gridgov_routing::network::{
    reference, Matrix, NetworkError, Profile, RoadLine, RoadNetwork, Snap, SnapError, SnapOptions,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Metres east and north of (104°E, 26°N) to longitude/latitude.
fn c(x: f64, y: f64) -> Coord<f64> {
    let m_per_deg_lat = 6_371_008.8_f64.to_radians();
    Coord {
        x: 104.0 + x / (m_per_deg_lat * 26.0_f64.to_radians().cos()),
        y: 26.0 + y / m_per_deg_lat,
    }
}

fn road(id: i64, pts: &[(f64, f64)], class: RoadClass, oneway: bool) -> RoadLine {
    RoadLine {
        id,
        coords: pts.iter().map(|&(x, y)| c(x, y)).collect(),
        class,
        oneway,
    }
}

fn village(id: i64, pts: &[(f64, f64)]) -> RoadLine {
    road(id, pts, RoadClass::Village, false)
}

/// Snapping to the nearest road whatever its component.
const NEAREST: SnapOptions = SnapOptions {
    max_distance_m: Some(500.0),
    prefer_main: false,
};

fn snap(net: &RoadNetwork, x: f64, y: f64) -> Snap {
    net.snap(c(x, y)).unwrap()
}

/// Within `tol` metres.
fn near(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn one_way_streets_are_driven_forward_only() {
    // A square: the bottom side one-way eastwards, the other three two-way.
    let roads = vec![
        road(1, &[(0.0, 0.0), (100.0, 0.0)], RoadClass::Village, true),
        village(2, &[(100.0, 0.0), (100.0, 100.0), (0.0, 100.0), (0.0, 0.0)]),
    ];
    let net = RoadNetwork::build(roads, &Profile::tricycle()).unwrap();
    assert_eq!(net.components().pieces.len(), 1);
    let a = snap(&net, 10.0, 1.0);
    let b = snap(&net, 90.0, -1.0);
    assert!(near(a.distance_m, 1.0, 0.01) && near(b.distance_m, 1.0, 0.01));
    let m = net.matrix(&[a.clone(), b.clone()]);
    let ab = m.distance(0, 1).unwrap();
    let ba = m.distance(1, 0).unwrap();
    assert_eq!(ab, 80, "A to B along the one-way street");
    assert_eq!(ba, 320, "B to A the long way round");
    // The way back goes round by the top corners.
    let back = net.path(&b, &a).unwrap();
    assert_eq!(back.distance_m, ba);
    let top_right = c(100.0, 100.0);
    assert!(back
        .coords
        .iter()
        .any(|p| near(p.x, top_right.x, 1e-7) && near(p.y, top_right.y, 1e-7)));
    // A point behind another on the one-way street also goes round.
    let a2 = snap(&net, 50.0, 1.0);
    let m = net.matrix(&[a2, a]);
    assert_eq!(m.distance(1, 0), Some(40));
    assert_eq!(m.distance(0, 1), Some(50 + 300 + 10));
}

#[test]
fn roads_crossing_without_a_shared_point_are_not_joined() {
    let bridge = vec![
        village(1, &[(0.0, 50.0), (100.0, 50.0)]),
        village(2, &[(50.0, 0.0), (50.0, 100.0)]),
    ];
    let net = RoadNetwork::build(bridge, &Profile::tricycle()).unwrap();
    assert_eq!(net.components().pieces.len(), 2);
    // (By default both points would go onto the main piece, whichever of the two it is.)
    let nearest = |x, y| net.snap_with(c(x, y), &NEAREST).unwrap();
    let a = nearest(10.0, 49.0);
    let b = nearest(49.0, 90.0);
    assert_ne!(a.component, b.component);
    let m = net.matrix(&[a.clone(), b.clone()]);
    assert_eq!(m.distance(0, 1), None);
    assert_eq!(m.distance_m[1], Matrix::UNREACHABLE);
    assert_eq!(m.unreachable_pairs(), 2);
    assert!(net.path(&a, &b).is_none());
    // The same two roads meeting at a shared point are joined.
    let junction = vec![
        village(1, &[(0.0, 50.0), (50.0, 50.0), (100.0, 50.0)]),
        village(2, &[(50.0, 0.0), (50.0, 50.0), (50.0, 100.0)]),
    ];
    let net = RoadNetwork::build(junction, &Profile::tricycle()).unwrap();
    assert_eq!(net.components().pieces.len(), 1);
    let a = snap(&net, 10.0, 49.0);
    let b = snap(&net, 49.0, 90.0);
    let m = net.matrix(&[a, b]);
    assert_eq!(m.distance(0, 1), Some(40 + 40));
}

#[test]
fn snapping_finds_the_foot_on_the_middle_of_an_edge() {
    let net = RoadNetwork::build(
        vec![village(7, &[(0.0, 0.0), (100.0, 0.0), (300.0, 0.0)])],
        &Profile::tricycle(),
    )
    .unwrap();
    assert_eq!(net.stats().nodes, 2, "the middle point is no junction");
    assert_eq!(net.edge_count(), 1);
    let s = snap(&net, 150.0, 20.0);
    assert!(near(s.distance_m, 20.0, 0.05), "{}", s.distance_m);
    assert!(near(s.offset_m, 150.0, 0.3), "{}", s.offset_m);
    assert_eq!((s.road, s.road_id, s.segment), (0, 7, 1));
    assert!(near(s.fraction, 0.25, 0.002), "{}", s.fraction);
    assert!(near(s.before.distance_cm as f64, 5_000.0, 30.0));
    assert_eq!(
        s.before.plus(s.after),
        Profile::tricycle()
            .segment_weight(RoadClass::Village, c(100.0, 0.0), c(300.0, 0.0))
            .unwrap()
    );
    let on_road = c(150.0, 0.0);
    assert!(near(s.snapped.x, on_road.x, 1e-7) && near(s.snapped.y, on_road.y, 1e-7));
    // Beyond the end of the line, the foot is its end point.
    let end = snap(&net, 320.0, 0.0);
    assert!(near(end.distance_m, 20.0, 0.05) && near(end.offset_m, 300.0, 0.3));
    // Two points on the one edge: the route stays on it.
    let m = net.matrix(&[s.clone(), end.clone()]);
    assert_eq!(m.distance(0, 1), Some(150));
    assert_eq!(m.distance(1, 0), Some(150));
    let p = net.path(&s, &end).unwrap();
    assert_eq!(p.coords.len(), 2);
    // Too far from every road.
    let err = net.snap(c(150.0, 612.0)).unwrap_err();
    assert!(matches!(err, SnapError::TooFar { distance_m } if near(distance_m, 612.0, 1.0)));
    assert_eq!(err.to_string(), "unreachable: 612 m from the nearest road");
    let far = SnapOptions {
        max_distance_m: None,
        ..SnapOptions::default()
    };
    assert!(net.snap_with(c(150.0, 612.0), &far).is_ok());
}

#[test]
fn disconnected_pieces_are_reported_and_their_points_unreachable() {
    // The main network: a 1 km square grid of 100 m blocks. A 60 m fragment 120 m north of it.
    let mut roads = Vec::new();
    for k in 0..=10 {
        let v = f64::from(k) * 100.0;
        roads.push(village(
            k.into(),
            &(0..=10)
                .map(|i| (f64::from(i) * 100.0, v))
                .collect::<Vec<_>>(),
        ));
        roads.push(village(
            100 + i64::from(k),
            &(0..=10)
                .map(|i| (v, f64::from(i) * 100.0))
                .collect::<Vec<_>>(),
        ));
    }
    roads.push(village(999, &[(500.0, 1120.0), (560.0, 1120.0)]));
    // A far fragment, 2 km east.
    roads.push(village(998, &[(3000.0, 0.0), (3050.0, 0.0)]));
    let net = RoadNetwork::build(roads, &Profile::tricycle()).unwrap();
    let comps = net.components();
    assert_eq!(comps.pieces.len(), 3, "{comps}");
    assert!(near(comps.pieces[0].length_m, 22_000.0, 30.0), "{comps}");
    assert!(near(comps.pieces[1].length_m, 60.0, 0.5));
    assert!(comps.to_string().contains("3 connected pieces"), "{comps}");

    // A point 5 m from the near fragment is snapped to the main network, 115 m away; the
    // fragment passed over is recorded.
    let by_fragment = snap(&net, 530.0, 1115.0);
    assert!(by_fragment.in_main());
    assert!(near(by_fragment.distance_m, 115.0, 0.5));
    assert!(near(by_fragment.passed_over_m.unwrap(), 5.0, 0.05));
    // Asked for the nearest road whatever its component, it lands on the fragment.
    let on_fragment = net.snap_with(c(530.0, 1115.0), &NEAREST).unwrap();
    assert!(!on_fragment.in_main());
    assert_eq!(on_fragment.component, Some(1));
    // A point near only the far fragment goes onto it.
    let far = snap(&net, 3020.0, 10.0);
    assert_eq!(far.component, Some(2));
    let home = snap(&net, 250.0, 310.0);
    let m = net.matrix(&[home, on_fragment, far, by_fragment]);
    for (i, j) in [(0, 1), (1, 0), (0, 2), (2, 0), (1, 2), (2, 1), (3, 1)] {
        assert_eq!(m.distance(i, j), None, "{i} -> {j}");
        assert_eq!(m.time(i, j), None, "{i} -> {j}");
    }
    assert!(m.distance(0, 3).is_some() && m.distance(3, 0).is_some());
    assert_eq!(m.unreachable_pairs(), 10);
}

#[test]
fn speeds_by_class_change_times_and_routes() {
    let straight = |class| vec![road(1, &[(0.0, 0.0), (1000.0, 0.0)], class, false)];
    let truck = Profile::truck();
    let times: Vec<u32> = [RoadClass::Trunk, RoadClass::Village]
        .into_iter()
        .map(|class| {
            let net = RoadNetwork::build(straight(class), &truck).unwrap();
            let m = net.matrix(&[snap(&net, 0.0, 0.0), snap(&net, 1000.0, 0.0)]);
            assert_eq!(m.distance(0, 1), Some(1000));
            m.time(0, 1).unwrap()
        })
        .collect();
    assert_eq!(times, vec![72, 180], "1 km at 50 and at 20 km/h");

    // A 1 km village road, or a 1.6 km detour on trunk roads: the truck takes the trunk road
    // (115 s against 180 s) and reports its length; the tricycle, no faster on the trunk
    // road, keeps to the village road.
    let roads = vec![
        road(1, &[(0.0, 0.0), (1000.0, 0.0)], RoadClass::Village, false),
        road(
            2,
            &[(0.0, 0.0), (0.0, 300.0), (1000.0, 300.0), (1000.0, 0.0)],
            RoadClass::Trunk,
            false,
        ),
    ];
    let net = RoadNetwork::build(roads.clone(), &truck).unwrap();
    let m = net.matrix(&[snap(&net, 0.0, -1.0), snap(&net, 1000.0, -1.0)]);
    assert_eq!((m.distance(0, 1), m.time(0, 1)), (Some(1600), Some(115)));
    let net = RoadNetwork::build(roads, &Profile::tricycle()).unwrap();
    let m = net.matrix(&[snap(&net, 0.0, -1.0), snap(&net, 1000.0, -1.0)]);
    assert_eq!((m.distance(0, 1), m.time(0, 1)), (Some(1000), Some(240)));
}

#[test]
fn a_profile_that_forbids_a_class_has_no_edges_for_it() {
    let track = vec![road(
        1,
        &[(0.0, 0.0), (500.0, 0.0)],
        RoadClass::Track,
        false,
    )];
    let err = RoadNetwork::build(track, &Profile::truck()).unwrap_err();
    assert_eq!(
        err,
        NetworkError::Empty {
            profile: "truck".into()
        }
    );
    // Two village roads joined by a track: one piece for the tricycle, two for the truck.
    let roads = vec![
        village(1, &[(0.0, 0.0), (300.0, 0.0)]),
        road(2, &[(300.0, 0.0), (400.0, 0.0)], RoadClass::Track, false),
        village(3, &[(400.0, 0.0), (700.0, 0.0)]),
        road(4, &[(0.0, 0.0), (0.0, -200.0)], RoadClass::Path, false),
    ];
    let tricycle = RoadNetwork::build(roads.clone(), &Profile::tricycle()).unwrap();
    let truck = RoadNetwork::build(roads.clone(), &Profile::truck()).unwrap();
    assert_eq!(tricycle.components().pieces.len(), 1);
    assert_eq!(truck.components().pieces.len(), 2);
    assert_eq!(truck.stats().forbidden_lines, 2);
    for (net, reachable) in [(&tricycle, true), (&truck, false)] {
        let a = net.snap_with(c(100.0, 0.0), &NEAREST).unwrap();
        let b = net.snap_with(c(600.0, 0.0), &NEAREST).unwrap();
        let m = net.matrix(&[a, b]);
        assert_eq!(m.distance(0, 1).is_some(), reachable);
    }
    // Neither may use the footpath: a point on it snaps to the nearest road it may use.
    let s = snap(&tricycle, 0.0, -150.0);
    assert!(near(s.distance_m, 150.0, 0.1));
    // A profile of one's own.
    let walker = Profile::named("walker")
        .with_speed(RoadClass::Path, Some(4.0))
        .unwrap();
    let net = RoadNetwork::build(roads, &walker).unwrap();
    assert_eq!(net.stats().forbidden_lines, 3);
    assert!(Profile::named("x")
        .with_speed(RoadClass::Lane, Some(-1.0))
        .is_err());
}

#[test]
fn road_lines_are_read_from_fields_and_bad_ones_refused() {
    use geo::{Geometry, LineString, MultiLineString, Point};
    use gridgov_model::{Properties, Value};
    let mut props = Properties::new();
    props.insert("class".into(), Value::Text("巷道".into()));
    props.insert("oneway".into(), Value::Bool(true));
    let line = LineString(vec![c(0.0, 0.0), c(10.0, 0.0)]);
    let lines =
        RoadLine::from_parts(42, Some(&Geometry::LineString(line.clone())), &props).unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(
        (lines[0].id, lines[0].class, lines[0].oneway),
        (42, RoadClass::Lane, true)
    );
    let multi = Geometry::MultiLineString(MultiLineString(vec![line.clone(), line.clone()]));
    assert_eq!(
        RoadLine::from_parts(42, Some(&multi), &props)
            .unwrap()
            .len(),
        2
    );
    let point = Geometry::Point(Point(c(0.0, 0.0)));
    let err = RoadLine::from_parts(42, Some(&point), &props).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("road 42: geometry is not a line"),
        "{err}"
    );
    props.insert("class".into(), Value::Text("motorway".into()));
    let err = RoadLine::from_parts(42, Some(&Geometry::LineString(line)), &props).unwrap_err();
    assert!(err.to_string().contains("not a valid road class"), "{err}");
    // Points that are not longitude/latitude; a line of one repeated point.
    let mut bad = village(5, &[(0.0, 0.0), (10.0, 0.0)]);
    bad.coords[1].y = f64::NAN;
    assert!(matches!(
        RoadNetwork::build(vec![bad], &Profile::tricycle()),
        Err(NetworkError::BadRoad { id: 5, .. })
    ));
    let net = RoadNetwork::build(
        vec![
            village(1, &[(0.0, 0.0), (10.0, 0.0)]),
            village(2, &[(5.0, 5.0), (5.0, 5.0)]),
        ],
        &Profile::tricycle(),
    )
    .unwrap();
    assert_eq!(net.stats().degenerate_lines, 1);
    assert!(matches!(
        net.snap(Coord { x: 200.0, y: 0.0 }),
        Err(SnapError::BadPoint { .. })
    ));
}

/// A random network: a jittered grid of points joined by roads of random classes, some
/// one-way, some crossing without a shared point, some overlapping.
fn random_roads(rng: &mut ChaCha8Rng, size: usize) -> Vec<RoadLine> {
    let classes = RoadClass::ALL;
    let mut roads = Vec::new();
    let pt = |i: usize, j: usize, rng: &mut ChaCha8Rng| {
        (
            i as f64 * 100.0 + rng.gen_range(-20.0..20.0),
            j as f64 * 100.0 + rng.gen_range(-20.0..20.0),
        )
    };
    let grid: Vec<Vec<(f64, f64)>> = (0..size)
        .map(|i| (0..size).map(|j| pt(i, j, rng)).collect())
        .collect();
    let mut id = 0;
    for i in 0..size {
        for j in 0..size {
            for (di, dj) in [(1, 0), (0, 1)] {
                let (ni, nj) = (i + di, j + dj);
                if ni >= size || nj >= size || rng.gen_bool(0.15) {
                    continue;
                }
                let (a, b) = (grid[i][j], grid[ni][nj]);
                // A bend halfway, sometimes.
                let mut pts = vec![a];
                if rng.gen_bool(0.5) {
                    pts.push((
                        f64::midpoint(a.0, b.0) + rng.gen_range(-15.0..15.0),
                        f64::midpoint(a.1, b.1) + rng.gen_range(-15.0..15.0),
                    ));
                }
                pts.push(b);
                if rng.gen_bool(0.5) {
                    pts.reverse();
                }
                id += 1;
                let class = classes[rng.gen_range(0..classes.len())];
                roads.push(road(id, &pts, class, rng.gen_bool(0.25)));
            }
        }
    }
    // Diagonal overpasses that share no point, and a few long multi-block roads.
    for _ in 0..size {
        let (i, j) = (rng.gen_range(0..size - 1), rng.gen_range(0..size - 1));
        id += 1;
        roads.push(village(id, &[grid[i][j + 1], grid[i + 1][j]]));
    }
    for _ in 0..3 {
        let j = rng.gen_range(0..size);
        id += 1;
        let pts: Vec<(f64, f64)> = (0..size).map(|i| grid[i][j]).collect();
        roads.push(road(id, &pts, RoadClass::Primary, rng.gen_bool(0.3)));
    }
    roads
}

/// The distance in metres from a point (metres east and north) to the nearest road the profile
/// may use, by brute force in the test's own plane.
fn nearest_usable(roads: &[RoadLine], profile: &Profile, p: (f64, f64)) -> f64 {
    let origin = c(0.0, 0.0);
    let (kx, ky) = (c(1.0, 0.0).x - origin.x, c(0.0, 1.0).y - origin.y);
    let local = |q: Coord<f64>| ((q.x - origin.x) / kx, (q.y - origin.y) / ky);
    roads
        .iter()
        .filter(|r| profile.speed_kmh(r.class).is_some())
        .flat_map(|r| r.coords.windows(2).map(|w| (local(w[0]), local(w[1]))))
        .map(|(a, b)| {
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
            (p.0 - a.0 - t * dx).hypot(p.1 - a.1 - t * dy)
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn matrices_equal_a_plain_dijkstra_on_random_networks() {
    let mut reachable = 0;
    let mut total = 0;
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let size = 6 + (seed as usize % 5);
        let roads = random_roads(&mut rng, size);
        for profile in [Profile::tricycle(), Profile::truck()] {
            let Ok(net) = RoadNetwork::build(roads.clone(), &profile) else {
                continue;
            };
            let extent = size as f64 * 100.0;
            let any = SnapOptions {
                max_distance_m: None,
                prefer_main: rng.gen_bool(0.5),
            };
            let mut snaps: Vec<Snap> = (0..30)
                .map(|_| {
                    let (x, y) = (rng.gen_range(-50.0..extent), rng.gen_range(-50.0..extent));
                    let s = net.snap_with(c(x, y), &any).unwrap();
                    if !any.prefer_main {
                        let best = nearest_usable(&roads, &profile, (x, y));
                        assert!(
                            near(s.distance_m, best, 0.01 + best * 0.005),
                            "{s:?} {best}"
                        );
                    }
                    s
                })
                .collect();
            // A point twice.
            snaps.push(snaps[0].clone());
            let matrix = net.matrix(&snaps);
            let want = reference::matrix(&roads, &profile, &snaps);
            let count = snaps.len();
            for from in 0..count {
                for to in 0..count {
                    assert_eq!(
                        matrix.weight(from, to),
                        want[from * count + to],
                        "seed {seed} {} {from} -> {to}",
                        profile.name()
                    );
                    total += 1;
                    reachable += usize::from(want[from * count + to].is_some());
                }
            }
            // Paths agree with the matrix and run from one snapped point to the other.
            for _ in 0..20 {
                let (from, to) = (rng.gen_range(0..count), rng.gen_range(0..count));
                match net.path(&snaps[from], &snaps[to]) {
                    Some(route) => {
                        assert_eq!(Some(route.weight), matrix.weight(from, to));
                        assert_eq!(route.coords[0], snaps[from].snapped);
                        assert_eq!(*route.coords.last().unwrap(), snaps[to].snapped);
                    }
                    None => assert_eq!(matrix.weight(from, to), None),
                }
            }
        }
    }
    // The comparison covers both reachable and unreachable pairs.
    assert!(
        reachable > total / 3 && reachable < total,
        "{reachable} of {total}"
    );
}

/// The number of pairs of demo road segments that cross or touch anywhere but at a shared
/// end point.
fn crossings_without_a_shared_point(roads: &[RoadLine]) -> usize {
    use geo::{Intersects, Line};
    use rstar::primitives::{GeomWithData, Rectangle};
    use rstar::{RTree, AABB};
    let segs: Vec<Line<f64>> = roads
        .iter()
        .flat_map(|r| r.coords.windows(2).map(|w| Line::new(w[0], w[1])))
        .collect();
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = segs
        .iter()
        .enumerate()
        .map(|(i, l)| GeomWithData::new(Rectangle::from_corners(l.start.into(), l.end.into()), i))
        .collect();
    let tree = RTree::bulk_load(boxes);
    let mut count = 0;
    for (i, l) in segs.iter().enumerate() {
        let env = AABB::from_corners(l.start.into(), l.end.into());
        for other in tree.locate_in_envelope_intersecting(&env) {
            let j = other.data;
            let m = segs[j];
            let shares = [l.start, l.end]
                .iter()
                .any(|p| *p == m.start || *p == m.end);
            if j > i && !shares && l.intersects(&m) {
                count += 1;
            }
        }
    }
    count
}

#[test]
fn the_demo_county_roads_build_and_its_sites_are_mostly_reachable() {
    let demo = gridgov_demo::generate(42).dataset;
    let roads = RoadLine::from_features(&demo.layers[&Layer::Roads]).unwrap();
    // The generator nodes its network: roads meet only at shared points, never cross.
    assert_eq!(crossings_without_a_shared_point(&roads), 0);
    let layers = [Layer::CollectionPoints, Layer::TransferStations];
    let sites: Vec<(Layer, Coord<f64>)> = layers
        .iter()
        .flat_map(|&l| demo.layers[&l].iter().map(move |f| (l, f)))
        .map(|(l, f)| match f.geometry {
            Some(geo::Geometry::Point(p)) => (l, p.0),
            ref g => panic!("{g:?}"),
        })
        .collect();
    let points: Vec<Coord<f64>> = sites.iter().map(|s| s.1).collect();
    for profile in [Profile::tricycle(), Profile::truck()] {
        let net = RoadNetwork::build(roads.clone(), &profile).unwrap();
        let comps = net.components();
        println!("demo, {}: {:?}; {comps}", profile.name(), net.stats());
        // And it is connected: one piece (some one-way lanes are dead ends whose far node
        // cannot be left; points near them snap to the main network instead).
        assert_eq!(comps.pieces.len(), 1, "{comps}");
        // Within the default 500 m.
        let snapped = net.snap_all(&points, &SnapOptions::default());
        for layer in layers {
            let of_layer: Vec<&Result<Snap, SnapError>> = snapped
                .iter()
                .zip(&sites)
                .filter(|(_, s)| s.0 == layer)
                .map(|(r, _)| r)
                .collect();
            let far: Vec<f64> = of_layer
                .iter()
                .filter_map(|s| match s {
                    Err(SnapError::TooFar { distance_m }) => Some(*distance_m),
                    _ => None,
                })
                .collect();
            let max = far.iter().copied().fold(0.0, f64::max);
            println!(
                "demo, {}: {} of {} {layer} are beyond 500 m of a road (farthest {max:.0} m)",
                profile.name(),
                far.len(),
                of_layer.len(),
            );
            assert!(far.len() * 10 <= of_layer.len(), "at most 10 % too far");
        }
        // However far: every site then lies on the main network and reaches every other.
        let unbounded = SnapOptions {
            max_distance_m: None,
            ..SnapOptions::default()
        };
        let snaps: Vec<Snap> = net
            .snap_all(&points, &unbounded)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let mean = snaps.iter().map(|s| s.distance_m).sum::<f64>() / snaps.len() as f64;
        assert!(snaps.iter().all(Snap::in_main));
        let m = net.matrix(&snaps);
        println!(
            "demo, {}: {} sites snapped (mean {mean:.0} m from the road), \
             {} of {} pairs unreachable",
            profile.name(),
            snaps.len(),
            m.unreachable_pairs(),
            snaps.len() * (snaps.len() - 1)
        );
        assert_eq!(m.unreachable_pairs(), 0);
    }
}
