//! A township's collection day on the demo county, checked from the outside: every route keeps
//! its vehicle's capacity, shift and area, no station takes more than it can, every due point
//! is collected once or listed with a reason, and the routes are drawn along the roads.

#![expect(clippy::unwrap_used, reason = "a test fails loudly on a broken demo")]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::NaiveDate;
use geo::{Coord, Geometry, Point};
use gridgov_model::vocab::VehicleKind;
use gridgov_model::{Dataset, DivisionCode, Feature, Layer, Value};
use gridgov_routing::sanitation::{
    is_due, plan_day, DayOptions, DayPlan, Reason, Search, StopKind,
};
use rstar::{primitives::GeomWithData, RTree, AABB};

const TOWNSHIP: &str = "520526102000";

fn demo() -> &'static Dataset {
    static DEMO: OnceLock<Dataset> = OnceLock::new();
    DEMO.get_or_init(|| gridgov_demo::generate(42).dataset)
}

fn township() -> DivisionCode {
    TOWNSHIP.parse().unwrap()
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
}

/// A short search: the same seed and budget give the same plan, in a debug build too.
fn search() -> Search {
    Search {
        seed: 7,
        time_limit: None,
        max_iterations: Some(400),
    }
}

fn plan(data: &Dataset, options: &DayOptions) -> DayPlan {
    plan_day(data, township(), day(), options, &search(), &mut |_| {}).unwrap()
}

/// The township's part of the demo (roads: all of them), to change in a test.
fn township_data() -> Dataset {
    let mut d = Dataset::default();
    for (layer, features) in &demo().layers {
        let keep: Vec<Feature> = features
            .iter()
            .filter(|f| *layer == Layer::Roads || township().contains(&f.division))
            .cloned()
            .collect();
        d.layers.insert(*layer, keep);
    }
    d
}

type Segment = GeomWithData<rstar::primitives::Line<[f64; 2]>, ()>;

fn road_index(data: &Dataset) -> RTree<Segment> {
    let mut segs = Vec::new();
    for f in &data.layers[&Layer::Roads] {
        if let Some(Geometry::LineString(l)) = &f.geometry {
            for w in l.0.windows(2) {
                segs.push(GeomWithData::new(
                    rstar::primitives::Line::new([w[0].x, w[0].y], [w[1].x, w[1].y]),
                    (),
                ));
            }
        }
    }
    RTree::bulk_load(segs)
}

fn on_a_road(roads: &RTree<Segment>, c: Coord) -> bool {
    // 2e-7° is about 2 cm: the network rounds road points to 1e-7°.
    let tol = 2e-7;
    let env = AABB::from_corners([c.x - tol, c.y - tol], [c.x + tol, c.y + tol]);
    roads
        .locate_in_envelope_intersecting(&env)
        .any(|s| rstar::PointDistance::distance_2(s.geom(), &[c.x, c.y]) <= tol * tol)
}

fn capacity_of(data: &Dataset, layer: Layer, id: i64) -> f64 {
    let f = data.layers[&layer]
        .iter()
        .find(|f| f.id.map(|i| i.0) == Some(id))
        .unwrap();
    match f.get("capacity_t") {
        Some(Value::Real(t)) => t * 1_000.0,
        other => panic!("capacity {other:?}"),
    }
}

/// Every rule a plan must keep, checked against the data it was made from.
fn check(data: &Dataset, options: &DayOptions, plan: &DayPlan) {
    let roads = road_index(data);
    let shift_end = options.shift_start_s + options.shift_s;
    let mut collected: BTreeMap<i64, f64> = BTreeMap::new();
    let mut served_by: BTreeMap<i64, i64> = BTreeMap::new();
    let mut unloaded: BTreeMap<(String, i64), f64> = BTreeMap::new();
    let due_village: BTreeMap<i64, DivisionCode> =
        plan.due.iter().map(|p| (p.id, p.village)).collect();
    for r in &plan.routes {
        let v = &r.vehicle;
        let stops = &r.stops;
        assert!(
            matches!(stops[0].kind, StopKind::Start { .. }),
            "{}",
            v.plate
        );
        assert!(matches!(stops.last().unwrap().kind, StopKind::End { .. }));
        assert!(
            stops.windows(2).all(|w| w[0].arrival_s <= w[1].arrival_s),
            "{}: time goes forward",
            v.plate
        );
        assert_eq!(stops[0].arrival_s, options.shift_start_s);
        assert!(
            stops.last().unwrap().arrival_s <= shift_end,
            "{} back at {} s, after the shift",
            v.plate,
            stops.last().unwrap().arrival_s
        );
        let mut load = 0.0;
        let mut trips = 0;
        for s in stops {
            match &s.kind {
                StopKind::Collect { point_id, kg } => {
                    load += kg;
                    assert!(load <= v.capacity_kg + 0.5, "{} over capacity", v.plate);
                    assert!((s.load_kg - load).abs() < 0.5);
                    *collected.entry(*point_id).or_default() += kg;
                    let first = *served_by.entry(*point_id).or_insert(v.id);
                    assert_eq!(first, v.id, "point {point_id} served by two vehicles");
                    if v.kind == VehicleKind::Tricycle {
                        assert_eq!(
                            due_village[point_id], v.area,
                            "a tricycle keeps to its area"
                        );
                    }
                    assert!(s.snap_m <= options.max_snap_m);
                }
                StopKind::Unload {
                    layer,
                    place_id,
                    kg,
                } => {
                    assert!((kg - load).abs() < 0.5, "unloads what it carries");
                    *unloaded.entry((layer.clone(), *place_id)).or_default() += kg;
                    load = 0.0;
                    trips += 1;
                }
                StopKind::Start { .. } | StopKind::End { .. } => {
                    assert!(load.abs() < 1e-9, "starts and ends empty");
                }
            }
        }
        assert_eq!(trips, r.trips);
        // Drawn along the roads, from the depot and back.
        let g = &r.geometry.0;
        assert!(g.len() >= 2, "{}", v.plate);
        let off: Vec<&Coord> = g.iter().filter(|c| !on_a_road(&roads, **c)).collect();
        assert!(
            off.is_empty(),
            "{}: {} vertices off the roads: {:?}",
            v.plate,
            off.len(),
            &off[..off.len().min(3)]
        );
        let start = stops[0].at;
        assert!((g[0].x - start[0]).abs() < 1e-9 && (g[0].y - start[1]).abs() < 1e-9);
        assert_eq!(g.first(), g.last(), "{}: a round trip", v.plate);
        assert!(r.distance_m > 0);
    }
    for ((layer, id), kg) in &unloaded {
        let layer: Layer = layer.parse().unwrap();
        let cap = capacity_of(data, layer, *id);
        assert!(*kg <= cap + 0.5, "{layer} {id} takes {kg} kg of {cap}");
    }
    // Every due point collected whole, once, or listed with a reason; never both.
    for p in &plan.due {
        let listed = plan.unassigned.iter().filter(|u| u.id == p.id).count();
        match collected.get(&p.id) {
            Some(kg) => {
                assert_eq!(listed, 0, "point {} both collected and listed", p.id);
                assert!(
                    (kg - p.expected_kg).abs() < 0.5,
                    "point {} collected whole",
                    p.id
                );
            }
            None => assert_eq!(listed, 1, "point {} neither collected nor listed", p.id),
        }
    }
}

#[test]
fn a_day_of_the_demo_township_keeps_every_rule() {
    let data = township_data();
    let options = DayOptions::default();
    let plan = plan(&data, &options);
    assert!(plan.due.len() > 50, "{} due", plan.due.len());
    check(&data, &options, &plan);
    let visited: usize = plan.routes.iter().map(|r| r.points).sum();
    // The demo's stations have room and its shifts are long enough: only points too far from
    // any road (the generator places them by houses) may be left.
    assert!(
        plan.unassigned
            .iter()
            .all(|u| matches!(u.reason, Reason::Unreachable { .. })),
        "{:?}",
        plan.unassigned
    );
    assert!(
        visited * 10 >= plan.due.len() * 9,
        "{visited} of {}",
        plan.due.len()
    );
    // The same seed and budget give the same routes.
    let again = plan_day(&data, township(), day(), &options, &search(), &mut |_| {}).unwrap();
    assert_eq!(again, plan);
}

#[test]
fn points_due_follow_their_rhythm() {
    let d = |n: i64| day() + chrono::Duration::days(n);
    for id in 1..50 {
        // Every 1, 2 or 3 days: exactly one day in each run of that many.
        for every in 1..=3u32 {
            let hits = (0..i64::from(every))
                .filter(|&n| is_due(id, every, d(n)))
                .count();
            assert_eq!(hits, 1, "point {id} every {every} days");
            assert_eq!(
                is_due(id, every, d(0)),
                is_due(id, every, d(i64::from(every)))
            );
        }
    }
}

#[test]
fn full_stations_short_shifts_and_far_points_are_named() {
    let mut data = township_data();
    // One village's stations hold a tenth of a tonne, one point lies 50 km from any road.
    let stations = data.layers.get_mut(&Layer::TransferStations).unwrap();
    let village = stations[0].division;
    for s in stations.iter_mut().filter(|s| s.division == village) {
        s.properties.insert("capacity_t".into(), Value::Real(0.1));
    }
    let far = {
        let points = data.layers.get_mut(&Layer::CollectionPoints).unwrap();
        let p = points
            .iter_mut()
            .find(|p| p.division != village && p.get("every_days") == Some(&Value::Integer(1)))
            .unwrap();
        if let Some(Geometry::Point(pt)) = &p.geometry {
            p.geometry = Some(Geometry::Point(Point::new(pt.x() + 0.5, pt.y())));
        }
        p.id.unwrap().0
    };
    let options = DayOptions::default();
    let plan = plan(&data, &options);
    check(&data, &options, &plan);
    let reasons: BTreeMap<i64, &Reason> =
        plan.unassigned.iter().map(|u| (u.id, &u.reason)).collect();
    match reasons.get(&far) {
        Some(Reason::Unreachable { detail }) => {
            assert!(detail.contains("m from the nearest road"), "{detail}");
            let said = reasons[&far].describe();
            assert_eq!(said.matches("unreachable").count(), 1, "{said}");
        }
        other => panic!("the far point: {other:?}"),
    }
    let village_points: Vec<i64> = plan
        .due
        .iter()
        .filter(|p| p.village == village)
        .map(|p| p.id)
        .collect();
    assert!(
        village_points
            .iter()
            .any(|id| reasons.get(id) == Some(&&Reason::StationCapacity)),
        "the full station leaves points: {reasons:?}"
    );

    // A two-hour shift cannot hold every trip.
    let short = DayOptions {
        shift_s: 2 * 3_600,
        ..DayOptions::default()
    };
    let plan = plan_day(
        &township_data(),
        township(),
        day(),
        &short,
        &search(),
        &mut |_| {},
    )
    .unwrap();
    check(&township_data(), &short, &plan);
    assert!(plan.unassigned.iter().any(|u| u.reason == Reason::Shift));
    assert!(!plan.routes.is_empty());
}

#[test]
fn a_village_without_a_tricycle_is_served_by_the_township_trucks() {
    let mut data = township_data();
    let vehicles = data.layers.get_mut(&Layer::Vehicles).unwrap();
    let i = vehicles
        .iter()
        .position(|v| v.text("kind") == Some("tricycle"))
        .unwrap();
    let village = vehicles.remove(i).division;
    let options = DayOptions::default();
    let plan = plan(&data, &options);
    check(&data, &options, &plan);
    let trucks: Vec<_> = plan
        .routes
        .iter()
        .filter(|r| r.vehicle.kind == VehicleKind::Truck)
        .collect();
    assert!(!trucks.is_empty());
    let due_here: Vec<i64> = plan
        .due
        .iter()
        .filter(|p| p.village == village)
        .map(|p| p.id)
        .collect();
    for id in &due_here {
        let by_truck = trucks.iter().any(|r| {
            r.stops
                .iter()
                .any(|s| matches!(s.kind, StopKind::Collect { point_id, .. } if point_id == *id))
        });
        let listed = plan.unassigned.iter().any(|u| u.id == *id);
        assert!(by_truck || listed, "point {id} of {village}");
    }
    // Without any vehicle, the points are listed as served by none.
    data.layers.get_mut(&Layer::Vehicles).unwrap().clear();
    let plan = plan_day(&data, township(), day(), &options, &search(), &mut |_| {}).unwrap();
    assert!(plan.routes.is_empty());
    assert_eq!(plan.unassigned.len(), plan.due.len());
    assert!(plan
        .unassigned
        .iter()
        .all(|u| u.reason == Reason::NoVehicle));
}
