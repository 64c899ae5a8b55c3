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
    is_due, plan_day, DayOptions, DayPlan, Reason, Search, StopKind, VehicleRoute,
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
    let mut collected: BTreeMap<i64, f64> = BTreeMap::new();
    let mut served_by: BTreeMap<i64, i64> = BTreeMap::new();
    let mut unloaded: BTreeMap<(String, i64), f64> = BTreeMap::new();
    let due_village: BTreeMap<i64, DivisionCode> =
        plan.due.iter().map(|p| (p.id, p.village)).collect();
    let windows: BTreeMap<i64, Option<(u32, u32)>> =
        plan.due.iter().map(|p| (p.id, p.window)).collect();
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
        assert_eq!(stops[0].arrival_s, v.shift_start_s);
        let shift_end = v.shift_start_s + v.shift_s;
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
                    if v.kind == VehicleKind::Tricycle && !v.serves_township {
                        assert_eq!(
                            due_village[point_id], v.area,
                            "a tricycle keeps to its area"
                        );
                    }
                    if let Some((open, close)) = windows[point_id] {
                        assert!(
                            s.arrival_s <= close && s.arrival_s + s.wait_s >= open,
                            "{}: point {point_id} open {open}–{close} s, reached at {} s, \
                             served after {} s",
                            v.plate,
                            s.arrival_s,
                            s.wait_s
                        );
                    } else {
                        assert_eq!(s.wait_s, 0);
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
                StopKind::Start { station_id } => {
                    assert!(load.abs() < 1e-9, "starts empty");
                    assert_eq!(*station_id, plan.places[v.depot].id);
                }
                StopKind::End { station_id } => {
                    assert!(load.abs() < 1e-9, "ends empty");
                    assert_eq!(*station_id, plan.places[v.end].id, "{}", v.plate);
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
        let end = stops.last().unwrap().at;
        let last = g.last().unwrap();
        assert!(
            (last.x - end[0]).abs() < 1e-9 && (last.y - end[1]).abs() < 1e-9,
            "{}: drawn to the end of its shift",
            v.plate
        );
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

/// The feature of `layer` with `id`, to change.
fn feature_mut(data: &mut Dataset, layer: Layer, id: i64) -> &mut Feature {
    data.layers
        .get_mut(&layer)
        .unwrap()
        .iter_mut()
        .find(|f| f.id.map(|i| i.0) == Some(id))
        .unwrap()
}

/// The points a route collects, in order.
fn collected_points(r: &VehicleRoute) -> Vec<i64> {
    r.stops
        .iter()
        .filter_map(|s| match s.kind {
            StopKind::Collect { point_id, .. } => Some(point_id),
            _ => None,
        })
        .collect()
}

#[test]
fn opening_hours_are_kept_or_named() {
    let mut data = township_data();
    let options = DayOptions::default();
    let before = plan(&data, &options);
    // Five points of the busiest tricycle open only part of the morning or around noon, one
    // point only before any shift starts.
    let busiest = before
        .routes
        .iter()
        .filter(|r| r.vehicle.kind == VehicleKind::Tricycle)
        .max_by_key(|r| r.points)
        .unwrap();
    let points = collected_points(busiest);
    assert!(points.len() >= 6, "{} points", points.len());
    let hours = [
        ("09:00", "10:30"),
        ("09:00", "10:30"),
        ("09:00", "10:30"),
        ("11:30", "12:30"),
        ("11:30", "12:30"),
    ];
    for (id, (from, until)) in points.iter().zip(hours) {
        let f = feature_mut(&mut data, Layer::CollectionPoints, *id);
        f.properties.insert("open_from".into(), from.into());
        f.properties.insert("open_until".into(), until.into());
    }
    let early = *points.last().unwrap();
    let f = feature_mut(&mut data, Layer::CollectionPoints, early);
    f.properties.insert("open_from".into(), "04:00".into());
    f.properties.insert("open_until".into(), "05:00".into());
    let after = plan(&data, &options);
    check(&data, &options, &after);
    for id in &points[..5] {
        assert!(
            after
                .routes
                .iter()
                .any(|r| collected_points(r).contains(id)),
            "point {id} with opening hours is collected: {:?}",
            after.unassigned
        );
    }
    let listed = after.unassigned.iter().find(|u| u.id == early).unwrap();
    assert!(
        matches!(&listed.reason, Reason::TimeWindow { open } if open == "04:00–05:00"),
        "{listed:?}"
    );
    assert!(listed.reason.describe().contains("04:00–05:00"));
    // A window the model does not accept is refused when written.
    let mut bad = data.layers[&Layer::CollectionPoints][0]
        .clone()
        .with("open_from", "12:00")
        .with("open_until", "11:00");
    bad.id = None;
    let e = gridgov_model::validate(Layer::CollectionPoints, &mut bad).unwrap_err();
    assert_eq!(e.field, "open_until");
    bad.properties.insert("open_until".into(), "25:00".into());
    let e = gridgov_model::validate(Layer::CollectionPoints, &mut bad).unwrap_err();
    assert!(e.reason.contains("HH:MM"), "{e}");
}

#[test]
fn a_vehicle_keeps_its_own_shift_and_ends_where_it_is_told() {
    let mut data = township_data();
    let options = DayOptions::default();
    let before = plan(&data, &options);
    let route = before
        .routes
        .iter()
        .find(|r| r.vehicle.kind == VehicleKind::Tricycle && r.trips >= 1)
        .unwrap();
    let id = route.vehicle.id;
    let depot = before.places[route.vehicle.depot].id;
    // Another station of the township to end at.
    let end = before
        .places
        .iter()
        .filter(|p| p.layer == Layer::TransferStations && p.id != depot)
        .min_by(|a, b| {
            let d = |p: &gridgov_routing::sanitation::UnloadPlace| {
                let at = before.places[route.vehicle.depot].at;
                (p.at.x - at.x).hypot(p.at.y - at.y)
            };
            d(a).total_cmp(&d(b))
        })
        .unwrap()
        .id;
    let f = feature_mut(&mut data, Layer::Vehicles, id);
    f.properties.insert("shift_start".into(), "07:30".into());
    f.properties.insert("shift_hours".into(), Value::Real(3.0));
    f.properties
        .insert("end_station_id".into(), Value::Integer(end));
    let after = plan(&data, &options);
    check(&data, &options, &after);
    let r = after.routes.iter().find(|r| r.vehicle.id == id).unwrap();
    assert_eq!(r.stops[0].arrival_s, 7 * 3_600 + 1_800);
    assert!(r.stops.last().unwrap().arrival_s <= 10 * 3_600 + 1_800);
    assert!(matches!(
        r.stops.last().unwrap().kind,
        StopKind::End { station_id } if station_id == end
    ));
    // The shorter shift leaves some of its village's points: listed, for the shift.
    let village = r.vehicle.area;
    let left: Vec<_> = after
        .unassigned
        .iter()
        .filter(|u| u.village == village.to_string())
        .collect();
    assert!(
        left.iter()
            .all(|u| u.reason == Reason::Shift || matches!(u.reason, Reason::Unreachable { .. })),
        "{left:?}"
    );
}

#[test]
fn only_a_vehicle_allowed_beyond_its_village_serves_another() {
    let mut data = township_data();
    // No trucks; village A loses its tricycle, village B's tricycle is allowed beyond it.
    let vehicles = data.layers.get_mut(&Layer::Vehicles).unwrap();
    vehicles.retain(|v| v.text("kind") == Some("tricycle"));
    assert!(vehicles.len() >= 2);
    let a = vehicles.remove(0).division;
    let b = vehicles[0].id.unwrap().0;
    let options = DayOptions::default();
    let plan_a = plan(&data, &options);
    check(&data, &options, &plan_a);
    let due_in_a: Vec<i64> = plan_a
        .due
        .iter()
        .filter(|p| p.village == a)
        .map(|p| p.id)
        .collect();
    assert!(!due_in_a.is_empty());
    for id in &due_in_a {
        let u = plan_a.unassigned.iter().find(|u| u.id == *id);
        assert_eq!(u.map(|u| &u.reason), Some(&Reason::NoVehicle), "point {id}");
    }
    let f = feature_mut(&mut data, Layer::Vehicles, b);
    f.properties
        .insert("serves_township".into(), Value::Bool(true));
    let plan_b = plan(&data, &options);
    check(&data, &options, &plan_b);
    let route = plan_b.routes.iter().find(|r| r.vehicle.id == b).unwrap();
    let by_b = collected_points(route);
    assert!(
        due_in_a.iter().any(|id| by_b.contains(id)),
        "the allowed tricycle collects in {a}"
    );
    for id in &due_in_a {
        let listed = plan_b.unassigned.iter().find(|u| u.id == *id);
        assert!(
            by_b.contains(id) || listed.is_some_and(|u| u.reason != Reason::NoVehicle),
            "point {id}: {listed:?}"
        );
    }
}
