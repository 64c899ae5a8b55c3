//! The day's routes: each area's due points solved as trips from its station, the trips laid
//! into its vehicles' shifts, unloads placed at stations with room, and every leg drawn along
//! the roads.
//!
//! # How a day is planned
//!
//! - **Areas.** A tricycle serves its village (the cleaners' assigned area); the township's
//!   trucks, and any vehicle allowed to serve every village (`serves_township`), serve the
//!   villages that have no tricycle of their own. A due point no vehicle may serve is left
//!   unassigned with [`Reason::NoVehicle`]. Within an area, vehicles of one kind starting from
//!   one station plan together, and each point goes to the group whose station is nearest.
//! - **Trips.** A vehicle collects until it is full, unloads at a transfer station and goes
//!   on. With the station it starts from as the depot, the best trips of a group are the
//!   routes of a capacitated VRP with as many vehicles as needed (each "vehicle" a trip), which
//!   the hybrid genetic search ([`crate::cvrp`]) solves, minimising travel time (a shift is
//!   bounded in hours), with the points' opening hours (`open_from`, `open_until`) as time
//!   windows. Vehicles of a group differing in capacity are planned with the smallest. A
//!   point holding more than one load is emptied in several loads.
//! - **Shifts.** Each vehicle has its own shift (`shift_start`, `shift_hours`, else the day's
//!   defaults) and ends it at its end station (`end_station_id`, else where it started). Trips
//!   that must leave earliest (by their points' closing times) are laid first, then the longest,
//!   each into the vehicle that would finish it first within its shift. Driven in order, a
//!   vehicle waits at a point that is not open yet; a trip that would reach a point after it
//!   closes leaves its points unassigned with [`Reason::TimeWindow`], one that does not fit the
//!   shift with [`Reason::Shift`].
//! - **Stations.** Each trip unloads at the station the vehicle started from while it has
//!   room for the day (`capacity_t`); else at the quickest other station of the area with room,
//!   and the vehicle drives back empty; a trip no station can take leaves its points
//!   unassigned with [`Reason::StationCapacity`].
//! - **Roads.** Points, stations and depots are snapped onto the road network of the vehicle's
//!   profile ([`crate::network`]); a point off the roads or on a piece of road not joined to the
//!   station's is unassigned with [`Reason::Unreachable`], with the distance or the reason.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDate;
use geo::{Coord, LineString};
use gridgov_model::vocab::VehicleKind;
use gridgov_model::{Dataset, DivisionCode, Layer};

use super::due::{due_points, unload_places, vehicles, DuePoint, UnloadPlace, Vehicle};
use super::{DayError, DayOptions};
use crate::cvrp::{self, Fleet, Matrix, Node, Options, Problem};
use crate::network::{Profile, RoadLine, RoadNetwork, Snap, SnapOptions};

/// Why a due point is not on any route.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// No vehicle serves the point's village.
    NoVehicle,
    /// The point cannot be reached on the roads of the vehicles that serve it.
    Unreachable {
        /// What is wrong, e.g. "612 m from the nearest road".
        detail: String,
    },
    /// Its trip does not fit in any vehicle's shift.
    Shift,
    /// It is open (`open_from`–`open_until`) when no vehicle that serves it can be there.
    TimeWindow {
        /// Its opening hours, e.g. "14:00–16:00".
        open: String,
    },
    /// No station of the area can take its trip's load today.
    StationCapacity,
}

impl Reason {
    /// The reason in words, for people.
    pub fn describe(&self) -> String {
        match self {
            Reason::NoVehicle => "no vehicle serves its village".into(),
            Reason::Unreachable { detail } => format!("unreachable: {detail}"),
            Reason::Shift => "its trip does not fit in any vehicle's shift".into(),
            Reason::TimeWindow { open } => {
                format!("no vehicle can be there while it is open ({open})")
            }
            Reason::StationCapacity => "no station of the area can take its load today".into(),
        }
    }
}

/// A due point left off the routes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Unassigned {
    /// The collection point's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its village.
    pub village: String,
    /// Why.
    #[serde(flatten)]
    pub reason: Reason,
}

/// What happens at a stop.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StopKind {
    /// Leaving the depot station at the start of the shift.
    Start {
        /// The station's id.
        station_id: i64,
    },
    /// Emptying a collection point (or one load of it).
    Collect {
        /// The collection point's id.
        point_id: i64,
        /// Kilograms taken.
        kg: f64,
    },
    /// Unloading at a station (or incinerator).
    Unload {
        /// The place's layer (`transfer_stations` or `incinerators`).
        layer: String,
        /// Its id.
        place_id: i64,
        /// Kilograms unloaded.
        kg: f64,
    },
    /// Back at the depot station at the end of the shift.
    End {
        /// The station's id.
        station_id: i64,
    },
}

/// One stop of a route, in order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Stop {
    /// What happens there.
    #[serde(flatten)]
    pub kind: StopKind,
    /// Its name.
    pub name: String,
    /// Arrival, in seconds after midnight.
    pub arrival_s: u32,
    /// Seconds waited there before the point opens (zero elsewhere).
    pub wait_s: u32,
    /// Load on board after the stop, in kilograms.
    pub load_kg: f64,
    /// The point on the road the vehicle stops at (longitude, latitude).
    pub at: [f64; 2],
    /// How far the place lies from that road point, in metres.
    pub snap_m: f64,
}

/// One vehicle's route for the day.
#[derive(Debug, Clone, PartialEq)]
pub struct VehicleRoute {
    /// The vehicle.
    pub vehicle: Vehicle,
    /// Its stops, from the start to the end of the shift.
    pub stops: Vec<Stop>,
    /// Trips: loads taken to a station.
    pub trips: usize,
    /// Collection points visited.
    pub points: usize,
    /// Kilograms collected.
    pub collected_kg: f64,
    /// Metres driven.
    pub distance_m: u64,
    /// Seconds from leaving the depot to coming back.
    pub duration_s: u32,
    /// The way driven, along the roads.
    pub geometry: LineString<f64>,
}

/// A township's routes on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct DayPlan {
    /// The township.
    pub township: DivisionCode,
    /// The day.
    pub date: NaiveDate,
    /// Points due that day.
    pub due: Vec<DuePoint>,
    /// The places garbage may be unloaded at.
    pub places: Vec<UnloadPlace>,
    /// The routes of the vehicles that work (a vehicle with nothing to do has none).
    pub routes: Vec<VehicleRoute>,
    /// Due points on no route, with the reason.
    pub unassigned: Vec<Unassigned>,
    /// Kilograms unloaded at each place (same order as `places`).
    pub unloaded_kg: Vec<f64>,
}

/// How the solver runs for a day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Search {
    /// Seed: the same data and seed give the same plan (when no time limit cuts a search).
    pub seed: u64,
    /// Time for the whole day's searches, shared among the areas by their number of points.
    pub time_limit: Option<Duration>,
    /// Offspring budget of each area's search.
    pub max_iterations: Option<u64>,
}

/// Plans `township`'s collection on `date` from the data (roads, collection points,
/// households, transfer stations, incinerators, vehicles). `progress` gets the share done.
pub fn plan_day(
    data: &Dataset,
    township: DivisionCode,
    date: NaiveDate,
    options: &DayOptions,
    search: &Search,
    progress: &mut dyn FnMut(f64),
) -> Result<DayPlan, DayError> {
    let due = due_points(data, township, date, options)?;
    let places = unload_places(data, township)?;
    let fleet = vehicles(data, township, &places, options)?;
    let lines = road_lines(data)?;

    // Areas: a village's own tricycles; the township's trucks, with the vehicles allowed to
    // serve every village, take the villages that have none of their own.
    let mut areas: BTreeMap<DivisionCode, Vec<&Vehicle>> = BTreeMap::new();
    for v in &fleet {
        let area = if v.kind == VehicleKind::Truck || v.serves_township {
            township
        } else {
            v.area
        };
        areas.entry(area).or_default().push(v);
    }
    // Within an area, the vehicles of one kind starting from one station form a group, and
    // each point goes to the group whose station is nearest.
    let mut groups: BTreeMap<(DivisionCode, VehicleKind, usize), Area> = BTreeMap::new();
    for (&division, list) in &areas {
        for v in list {
            groups
                .entry((division, v.kind, v.depot))
                .or_insert_with(|| Area {
                    division,
                    vehicles: Vec::new(),
                    points: Vec::new(),
                })
                .vehicles
                .push((*v).clone());
        }
    }
    let mut unassigned = Vec::new();
    for (i, p) in due.iter().enumerate() {
        let area = [p.village, township]
            .into_iter()
            .find(|a| areas.contains_key(a));
        let group = area.and_then(|a| {
            groups
                .keys()
                .filter(|k| k.0 == a)
                .min_by(|x, y| near2(p.at, places[x.2].at).total_cmp(&near2(p.at, places[y.2].at)))
                .copied()
        });
        match group.and_then(|k| groups.get_mut(&k)) {
            Some(g) => g.points.push(i),
            None => unassigned.push(unassigned_point(p, Reason::NoVehicle)),
        }
    }

    let total_points: usize = groups.values().map(|a| a.points.len()).sum();
    let mut networks: BTreeMap<VehicleKind, RoadNetwork> = BTreeMap::new();
    let mut routes = Vec::new();
    let mut unloaded_kg = vec![0.0; places.len()];
    let mut done = 0usize;
    for (&(_, kind, _), area) in groups.iter().filter(|(_, a)| !a.points.is_empty()) {
        let net = match networks.entry(kind) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(
                RoadNetwork::build(lines.iter().cloned(), &Profile::for_vehicle(kind))
                    .map_err(|e| DayError::Network(e.to_string()))?,
            ),
        };
        let net = &*net;
        let share = area.points.len() as f64 / total_points.max(1) as f64;
        let area_search = Search {
            time_limit: search.time_limit.map(|t| t.mul_f64(share)),
            ..*search
        };
        let outcome = plan_area(
            net,
            area,
            &due,
            &places,
            &mut unloaded_kg,
            options,
            &area_search,
        )?;
        routes.extend(outcome.routes);
        unassigned.extend(outcome.unassigned);
        done += area.points.len();
        progress(done as f64 / total_points.max(1) as f64);
    }
    unassigned.sort_by_key(|u| u.id);
    routes.sort_by_key(|r| r.vehicle.id);
    Ok(DayPlan {
        township,
        date,
        due,
        places,
        routes,
        unassigned,
        unloaded_kg,
    })
}

/// Squared distance on a local plane, to find the nearest station.
fn near2(a: Coord, b: Coord) -> f64 {
    let k = a.y.to_radians().cos();
    let dx = (a.x - b.x) * k;
    let dy = a.y - b.y;
    dx * dx + dy * dy
}

/// The road lines of the data's `roads` layer.
fn road_lines(data: &Dataset) -> Result<Vec<RoadLine>, DayError> {
    let mut lines = Vec::new();
    for (i, f) in data
        .layers
        .get(&Layer::Roads)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .enumerate()
    {
        lines.extend(
            RoadLine::from_feature(f, i as i64).map_err(|e| DayError::Network(e.to_string()))?,
        );
    }
    if lines.is_empty() {
        return Err(DayError::Network(
            "the township has no roads to route on".into(),
        ));
    }
    Ok(lines)
}

/// The reason for a point that is open when no vehicle can be there.
fn window_reason(p: &DuePoint) -> Reason {
    let (open, close) = p.window.unwrap_or((0, 86_400));
    Reason::TimeWindow {
        open: format!("{}–{}", clock_text(open), clock_text(close)),
    }
}

/// The point left off the routes; a time-window reason gets the point's opening hours.
fn unassigned_point(p: &DuePoint, reason: Reason) -> Unassigned {
    let reason = match reason {
        Reason::TimeWindow { .. } => window_reason(p),
        other => other,
    };
    Unassigned {
        id: p.id,
        name: p.name.clone(),
        village: p.village.to_string(),
        reason,
    }
}

/// Vehicles of one kind starting from one station, the division they serve (a village, or
/// the township), and the due points (indices) they serve.
struct Area {
    division: DivisionCode,
    vehicles: Vec<Vehicle>,
    points: Vec<usize>,
}

struct AreaOutcome {
    routes: Vec<VehicleRoute>,
    unassigned: Vec<Unassigned>,
}

/// One client of the area's problem: a load of a due point.
struct Load {
    point: usize,
    kg: f64,
    service_s: u32,
    /// The point's opening hours, in seconds after midnight.
    window: Option<(u32, u32)>,
}

/// A trip as solved: loads in order (indices into the area's loads).
struct Trip {
    loads: Vec<usize>,
    kg: f64,
    /// Seconds from leaving the depot to being back, unload included, when it unloads at the
    /// depot and waits nowhere.
    seconds: u32,
    /// The latest departure from the depot (seconds after midnight) that reaches every point
    /// before it closes; `u32::MAX` when no point of the trip has opening hours.
    latest: u32,
}

/// A trip driven from node `from` at `start` through its loads: the clock after the last
/// point's service and the seconds waited at each point, or `None` when a point closes before
/// the vehicle gets there.
fn drive(
    trip: &Trip,
    loads: &[(Load, usize)],
    from: usize,
    start: u32,
    secs: &dyn Fn(usize, usize) -> u32,
) -> Option<(u32, usize, Vec<u32>)> {
    let mut t = start;
    let mut at = from;
    let mut waits = Vec::with_capacity(trip.loads.len());
    for &l in &trip.loads {
        let (ld, node) = &loads[l];
        t = t.saturating_add(secs(at, *node));
        let mut wait = 0;
        if let Some((open, close)) = ld.window {
            if t > close {
                return None;
            }
            wait = open.saturating_sub(t);
        }
        t += wait + ld.service_s;
        waits.push(wait);
        at = *node;
    }
    Some((t, at, waits))
}

/// The `HH:MM` of seconds after midnight.
fn clock_text(s: u32) -> String {
    format!("{:02}:{:02}", s / 3_600, s % 3_600 / 60)
}

#[allow(clippy::too_many_lines)]
fn plan_area(
    net: &RoadNetwork,
    area: &Area,
    due: &[DuePoint],
    places: &[UnloadPlace],
    unloaded_kg: &mut [f64],
    options: &DayOptions,
    search: &Search,
) -> Result<AreaOutcome, DayError> {
    let mut unassigned = Vec::new();
    let depot = area.vehicles[0].depot;
    // The places of the matrix: the depot, the area's other stations (all of them places to
    // unload at), then the stations shifts end at, if elsewhere.
    let mut stations: Vec<usize> = vec![depot];
    stations.extend((0..places.len()).filter(|&i| {
        i != depot
            && places[i].layer == Layer::TransferStations
            && area.division.contains(&places[i].division)
    }));
    let unload_count = stations.len();
    for v in &area.vehicles {
        if !stations.contains(&v.end) {
            stations.push(v.end);
        }
    }
    let snap_options = SnapOptions {
        max_distance_m: Some(options.max_snap_m),
        ..SnapOptions::default()
    };
    let depot_snap = net
        .snap_with(places[depot].at, &snap_options)
        .map_err(|e| DayError::Unroutable {
            place: places[depot].name.clone(),
            detail: e.to_string(),
        })?;
    // (place, its snap, whether garbage may be unloaded there)
    let mut station_snaps: Vec<(usize, Snap, bool)> = vec![(depot, depot_snap.clone(), true)];
    for (k, &s) in stations.iter().enumerate().skip(1) {
        match net.snap_with(places[s].at, &snap_options) {
            Ok(snap) if snap.component == depot_snap.component => {
                station_snaps.push((s, snap, k < unload_count));
            }
            _ if k < unload_count => {}
            Ok(_) => {
                return Err(DayError::Unroutable {
                    place: places[s].name.clone(),
                    detail: format!(
                        "a shift ends there, but its road is not joined to the roads of {}",
                        places[depot].name
                    ),
                })
            }
            Err(e) => {
                return Err(DayError::Unroutable {
                    place: places[s].name.clone(),
                    detail: e.to_string(),
                })
            }
        }
    }
    // Points: snapped, on the depot's piece of road.
    let mut served: Vec<(usize, Snap)> = Vec::new();
    for &i in &area.points {
        let p = &due[i];
        match net.snap_with(p.at, &snap_options) {
            Ok(snap) if snap.component.is_some() && snap.component == depot_snap.component => {
                served.push((i, snap));
            }
            Ok(snap) => unassigned.push(unassigned_point(
                p,
                Reason::Unreachable {
                    detail: format!(
                        "its road ({:.0} m away) is not joined to the roads of {}",
                        snap.distance_m, places[depot].name
                    ),
                },
            )),
            Err(e) => unassigned.push(unassigned_point(
                p,
                Reason::Unreachable {
                    // The snap error says "unreachable: …" itself; the reason adds it.
                    detail: e.to_string().trim_start_matches("unreachable: ").to_owned(),
                },
            )),
        }
    }
    // One matrix over the stations and the points: stations first.
    let snaps: Vec<Snap> = station_snaps
        .iter()
        .map(|(_, s, _)| s.clone())
        .chain(served.iter().map(|(_, s)| s.clone()))
        .collect();
    let m = net.matrix(&snaps);
    let ns = station_snaps.len();
    let node_of = |place: usize| station_snaps.iter().position(|(p, _, _)| *p == place);
    // The earliest start and latest end of the group's shifts.
    let first_start = area
        .vehicles
        .iter()
        .map(|v| v.shift_start_s)
        .min()
        .unwrap_or(options.shift_start_s);
    let last_end = area
        .vehicles
        .iter()
        .map(|v| v.shift_start_s + v.shift_s)
        .max()
        .unwrap_or(first_start);
    // Points the depot cannot reach or come back from (one-way dead ends) are unreachable;
    // points open only outside every shift are not served.
    let mut kept = Vec::new();
    for (k, (i, snap)) in served.into_iter().enumerate() {
        let node = ns + k;
        let p = &due[i];
        if m.time(0, node).is_none() || m.time(node, 0).is_none() {
            unassigned.push(unassigned_point(
                p,
                Reason::Unreachable {
                    detail: format!("no way there and back from {}", places[depot].name),
                },
            ));
        } else if p
            .window
            .is_some_and(|(open, close)| close < first_start || open >= last_end)
        {
            unassigned.push(unassigned_point(p, window_reason(p)));
        } else {
            kept.push((i, snap, node));
        }
    }
    let capacity = area
        .vehicles
        .iter()
        .map(|v| v.capacity_kg)
        .fold(f64::INFINITY, f64::min);
    let capacity_kg = capacity.floor().max(1.0);
    // Loads: a point holding more than a vehicle's load is emptied in several.
    let mut loads: Vec<(Load, usize)> = Vec::new();
    for (i, _, node) in &kept {
        let p = &due[*i];
        let kg = p.expected_kg.max(0.0);
        let parts = (kg / capacity_kg).ceil().max(1.0) as usize;
        for _ in 0..parts {
            loads.push((
                Load {
                    point: *i,
                    kg: kg / parts as f64,
                    service_s: p.service_s / parts as u32,
                    window: p.window,
                },
                *node,
            ));
        }
    }
    let mut routes = Vec::new();
    if loads.is_empty() {
        return Ok(AreaOutcome { routes, unassigned });
    }
    let time = |a: usize, b: usize| i64::from(m.time(a, b).unwrap_or(u32::MAX / 4));
    let secs = |a: usize, b: usize| u32::try_from(time(a, b).max(0)).unwrap_or(u32::MAX / 4);
    let nodes_of: Vec<usize> = std::iter::once(0)
        .chain(loads.iter().map(|(_, n)| *n))
        .collect();
    let dim = nodes_of.len();
    let travel = Matrix::from_fn(dim, |a, b| {
        if nodes_of[a] == nodes_of[b] {
            0
        } else {
            time(nodes_of[a], nodes_of[b])
        }
    });
    let longest_shift = area.vehicles.iter().map(|v| v.shift_s).max().unwrap_or(0);
    let unload = i64::from(options.unload_s);
    let windowed = loads.iter().any(|(l, _)| l.window.is_some());
    let mut nodes = vec![Node::depot()];
    if windowed {
        // Times from the earliest shift start; a trip may leave the depot any time.
        nodes[0].due = i64::from(last_end - first_start) - unload;
    }
    for (l, _) in &loads {
        let mut n = Node::client((l.kg.ceil() as i64).max(0));
        n.service = i64::from(l.service_s);
        if let Some((open, close)) = l.window {
            n.ready = i64::from(open.saturating_sub(first_start));
            n.due = i64::from(close.saturating_sub(first_start)).max(n.ready);
        }
        nodes.push(n);
    }
    let problem = Problem {
        distance: travel.clone(),
        duration: travel,
        nodes,
        fleet: Fleet {
            capacity: capacity_kg as i64,
            vehicles: None,
            max_duration: Some((i64::from(longest_shift) - unload).max(0)),
        },
        scale: 1,
    };
    let solution = cvrp::solve(
        &problem,
        &Options {
            seed: search.seed,
            time_limit: search.time_limit,
            max_iterations: search.max_iterations,
            ..Options::default()
        },
        &mut |_| {},
    )
    .map_err(|e| DayError::Solver(e.to_string()))?;
    let mut trips: Vec<Trip> = solution
        .routes
        .iter()
        .filter(|r| !r.is_empty())
        .map(|r| {
            let loads_in: Vec<usize> = r.iter().map(|&c| c - 1).collect();
            // Seconds from the depot to each point, and the latest departure that keeps
            // every window.
            let mut t = 0u32;
            let mut at = 0usize;
            let mut latest = u32::MAX;
            for &l in &loads_in {
                let (ld, node) = &loads[l];
                t = t.saturating_add(secs(at, *node));
                if let Some((_, close)) = ld.window {
                    latest = latest.min(close.saturating_sub(t));
                }
                t += ld.service_s;
                at = *node;
            }
            t = t.saturating_add(secs(at, 0)) + options.unload_s;
            Trip {
                kg: loads_in.iter().map(|&l| loads[l].0.kg).sum(),
                loads: loads_in,
                seconds: t,
                latest,
            }
        })
        .collect();
    // Trips that must leave earliest first, then the longest; each into the vehicle that
    // would finish it first, while its shift allows (estimated from the depot; the drive below
    // decides).
    trips.sort_by(|a, b| {
        a.latest
            .cmp(&b.latest)
            .then(b.seconds.cmp(&a.seconds))
            .then(a.loads.cmp(&b.loads))
    });
    let end_node = |v: &Vehicle| node_of(v.end).unwrap_or(0);
    let mut free: Vec<u32> = area.vehicles.iter().map(|v| v.shift_start_s).collect();
    let mut lists: Vec<Vec<Trip>> = area.vehicles.iter().map(|_| Vec::new()).collect();
    let mut dropped: Vec<(Trip, Reason)> = Vec::new();
    for trip in trips {
        let mut best: Option<(u32, usize)> = None;
        let mut window_only = true;
        for (k, v) in area.vehicles.iter().enumerate() {
            let Some((t, at, _)) = drive(&trip, &loads, 0, free[k], &secs) else {
                continue;
            };
            let back = t
                .saturating_add(secs(at, 0))
                .saturating_add(options.unload_s);
            if back.saturating_add(secs(0, end_node(v))) > v.shift_start_s + v.shift_s {
                window_only = false;
                continue;
            }
            if best.is_none_or(|(b, _)| back < b) {
                best = Some((back, k));
            }
        }
        match best {
            Some((back, k)) => {
                free[k] = back;
                lists[k].push(trip);
            }
            None if window_only && trip.latest != u32::MAX => {
                dropped.push((
                    trip,
                    Reason::TimeWindow {
                        open: String::new(),
                    },
                ));
            }
            None => dropped.push((trip, Reason::Shift)),
        }
    }
    let point_dropped = |trip: &Trip, reason: Reason, unassigned: &mut Vec<Unassigned>| {
        for &l in &trip.loads {
            let p = &due[loads[l].0.point];
            if !unassigned.iter().any(|u| u.id == p.id) {
                unassigned.push(unassigned_point(p, reason.clone()));
            }
        }
    };
    for (trip, reason) in &dropped {
        point_dropped(trip, reason.clone(), &mut unassigned);
    }
    // Each vehicle's day: trips in order, unloads where there is room.
    for (v, list) in area.vehicles.iter().zip(lists) {
        if list.is_empty() {
            continue;
        }
        let end = end_node(v);
        let mut clock = v.shift_start_s;
        let mut stops = vec![Stop {
            kind: StopKind::Start {
                station_id: places[depot].id,
            },
            name: places[depot].name.clone(),
            arrival_s: clock,
            wait_s: 0,
            load_kg: 0.0,
            at: [snaps[0].snapped.x, snaps[0].snapped.y],
            snap_m: snaps[0].distance_m,
        }];
        let mut legs: Vec<(usize, usize)> = Vec::new();
        let mut here = 0usize; // matrix node where the vehicle is
        let mut collected = 0.0;
        let mut points_seen: Vec<usize> = Vec::new();
        let mut trips_done = 0;
        let shift_end = v.shift_start_s + v.shift_s;
        for trip in &list {
            // Where it unloads: the depot while it has room, else the quickest station with
            // room from the trip's last point.
            let last = loads[*trip.loads.last().unwrap_or(&0)].1;
            let station = station_snaps
                .iter()
                .enumerate()
                .filter(|(_, (p, _, unloads))| {
                    *unloads && unloaded_kg[*p] + trip.kg <= places[*p].capacity_kg
                })
                .min_by_key(|(k, _)| (usize::from(*k != 0), time(last, *k)))
                .map(|(k, (p, _, _))| (k, *p));
            let Some((station_node, place)) = station else {
                point_dropped(trip, Reason::StationCapacity, &mut unassigned);
                continue;
            };
            // The trip as driven from where the vehicle is; it is made only if every point is
            // still open when the vehicle gets there, and the vehicle can still unload and
            // reach the end of its shift in time.
            let Some((t, at, waits)) = drive(trip, &loads, here, clock, &secs) else {
                point_dropped(
                    trip,
                    Reason::TimeWindow {
                        open: String::new(),
                    },
                    &mut unassigned,
                );
                continue;
            };
            let t = t + secs(at, station_node) + options.unload_s;
            if t + secs(station_node, end) > shift_end {
                point_dropped(trip, Reason::Shift, &mut unassigned);
                continue;
            }
            trips_done += 1;
            let mut load = 0.0;
            for (&l, wait) in trip.loads.iter().zip(waits) {
                let (ld, node) = &loads[l];
                clock += secs(here, *node);
                legs.push((here, *node));
                here = *node;
                load += ld.kg;
                collected += ld.kg;
                let p = &due[ld.point];
                if !points_seen.contains(&ld.point) {
                    points_seen.push(ld.point);
                }
                let snap = &snaps[*node];
                stops.push(Stop {
                    kind: StopKind::Collect {
                        point_id: p.id,
                        kg: round1(ld.kg),
                    },
                    name: p.name.clone(),
                    arrival_s: clock,
                    wait_s: wait,
                    load_kg: round1(load),
                    at: [snap.snapped.x, snap.snapped.y],
                    snap_m: snap.distance_m,
                });
                clock += wait + ld.service_s;
            }
            clock += secs(here, station_node);
            legs.push((here, station_node));
            here = station_node;
            unloaded_kg[place] += trip.kg;
            let snap = &snaps[station_node];
            stops.push(Stop {
                kind: StopKind::Unload {
                    layer: places[place].layer.name().to_owned(),
                    place_id: places[place].id,
                    kg: round1(trip.kg),
                },
                name: places[place].name.clone(),
                arrival_s: clock,
                wait_s: 0,
                load_kg: 0.0,
                at: [snap.snapped.x, snap.snapped.y],
                snap_m: snap.distance_m,
            });
            clock += options.unload_s;
        }
        if trips_done == 0 {
            continue;
        }
        clock += secs(here, end);
        if here != end {
            legs.push((here, end));
        }
        stops.push(Stop {
            kind: StopKind::End {
                station_id: places[v.end].id,
            },
            name: places[v.end].name.clone(),
            arrival_s: clock,
            wait_s: 0,
            load_kg: 0.0,
            at: [snaps[end].snapped.x, snaps[end].snapped.y],
            snap_m: snaps[end].distance_m,
        });
        let mut coords: Vec<Coord<f64>> = Vec::new();
        let mut distance_m = 0u64;
        for (a, b) in legs {
            if a == b || snaps[a].snapped == snaps[b].snapped {
                continue;
            }
            let path = net.path(&snaps[a], &snaps[b]).ok_or_else(|| {
                DayError::Solver(format!(
                    "no road path between two points the matrix joined ({a} → {b})"
                ))
            })?;
            distance_m += u64::from(path.distance_m);
            for c in path.coords {
                if coords.last() != Some(&c) {
                    coords.push(c);
                }
            }
        }
        routes.push(VehicleRoute {
            vehicle: v.clone(),
            trips: trips_done,
            points: points_seen.len(),
            collected_kg: round1(collected),
            distance_m,
            duration_s: clock - v.shift_start_s,
            stops,
            geometry: LineString::new(coords),
        });
    }
    Ok(AreaOutcome { routes, unassigned })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
