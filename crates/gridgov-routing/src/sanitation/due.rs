//! What must be collected on a date: the collection points due by their rhythm, with the
//! garbage each is expected to hold, and the places it can be taken to.

use chrono::{Datelike, NaiveDate};
use geo::{Coord, Geometry};
use gridgov_model::vocab::{CollectionPointKind, VehicleKind};
use gridgov_model::{Dataset, DivisionCode, Feature, Layer, Value};

use super::{DayError, DayOptions};

/// A collection point due on the day.
#[derive(Debug, Clone, PartialEq)]
pub struct DuePoint {
    /// The point's feature id.
    pub id: i64,
    /// Its name, or `collection point {id}`.
    pub name: String,
    /// The village it belongs to.
    pub village: DivisionCode,
    /// Where it is (longitude, latitude).
    pub at: Coord,
    /// Garbage pool or bin group.
    pub kind: CollectionPointKind,
    /// Every how many days it is emptied.
    pub every_days: u32,
    /// Households that bring their garbage here (those nearer to it than to any other point
    /// of their village).
    pub households: u32,
    /// Garbage expected, in kilograms: what its households leave over `every_days` days,
    /// capped by what the point holds when full.
    pub expected_kg: f64,
    /// Time spent at the point, in seconds.
    pub service_s: u32,
    /// When it may be emptied (`open_from`, `open_until`), in seconds after midnight; `None`
    /// when it is open all day.
    pub window: Option<(u32, u32)>,
}

/// A place garbage is unloaded: a transfer station (or a township's incinerator).
#[derive(Debug, Clone, PartialEq)]
pub struct UnloadPlace {
    /// The feature id in its layer.
    pub id: i64,
    /// `transfer_stations` or `incinerators`.
    pub layer: Layer,
    /// Its name.
    pub name: String,
    /// The division that owns it (a village for a station, a township for an incinerator).
    pub division: DivisionCode,
    /// Where it is.
    pub at: Coord,
    /// What it takes in a day, in kilograms.
    pub capacity_kg: f64,
}

/// A vehicle that works on the day.
#[derive(Debug, Clone, PartialEq)]
pub struct Vehicle {
    /// The feature id.
    pub id: i64,
    /// Its plate.
    pub plate: String,
    /// Tricycle or truck.
    pub kind: VehicleKind,
    /// The division it serves: its village (a tricycle) or township (a truck).
    pub area: DivisionCode,
    /// What it carries, in kilograms.
    pub capacity_kg: f64,
    /// The station it starts from, as an index into the day's unload places.
    pub depot: usize,
    /// The station its shift ends at (`end_station_id`, else the depot), as an index into the
    /// day's unload places.
    pub end: usize,
    /// When its shift starts, in seconds after midnight (`shift_start`, else the day's default).
    pub shift_start_s: u32,
    /// How long its shift lasts, in seconds (`shift_hours`, else the day's default).
    pub shift_s: u32,
    /// Whether it may serve every village of its township (`serves_township`), not only its
    /// own area.
    pub serves_township: bool,
}

/// Seconds in a day.
const DAY_S: u32 = 86_400;

/// Whether a point that is emptied every `every_days` days is due on `date`.
///
/// There is no record of past collections yet, so each point keeps a fixed phase: its id
/// decides which day of its cycle it is emptied on. A township's pools are therefore spread
/// evenly over the days, and a point's collection days are `every_days` apart.
pub fn is_due(id: i64, every_days: u32, date: NaiveDate) -> bool {
    let every = i64::from(every_days.max(1));
    (i64::from(date.num_days_from_ce()) + id).rem_euclid(every) == 0
}

fn real(f: &Feature, name: &str) -> Option<f64> {
    match f.get(name)? {
        Value::Real(r) => Some(*r),
        Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

fn point(f: &Feature) -> Option<Coord> {
    match f.geometry.as_ref()? {
        Geometry::Point(p) => Some(p.0),
        _ => None,
    }
}

fn id_of(f: &Feature) -> Option<i64> {
    f.id.map(|i| i.0)
}

fn features(data: &Dataset, layer: Layer) -> &[Feature] {
    data.layers.get(&layer).map_or(&[], Vec::as_slice)
}

/// Squared distance in metres on a local plane (good enough to find a nearest point in a
/// village).
fn near2(a: Coord, b: Coord) -> f64 {
    let k = (a.y.to_radians()).cos();
    let dx = (a.x - b.x) * k;
    let dy = a.y - b.y;
    dx * dx + dy * dy
}

/// The collection points of `township` due on `date`, in id order.
pub fn due_points(
    data: &Dataset,
    township: DivisionCode,
    date: NaiveDate,
    options: &DayOptions,
) -> Result<Vec<DuePoint>, DayError> {
    let points: Vec<&Feature> = features(data, Layer::CollectionPoints)
        .iter()
        .filter(|f| township.contains(&f.division))
        .collect();
    // Households of each point: those nearer to it than to any other point of their village.
    let mut households = vec![0u32; points.len()];
    for h in features(data, Layer::Households) {
        if !township.contains(&h.division) {
            continue;
        }
        let Some(at) = point(h) else { continue };
        let nearest = points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.division == h.division)
            .filter_map(|(i, p)| point(p).map(|c| (i, near2(at, c))))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, _)) = nearest {
            households[i] += 1;
        }
    }
    let mut due = Vec::new();
    for (i, f) in points.iter().enumerate() {
        let id = id_of(f).ok_or(DayError::Unstored(Layer::CollectionPoints))?;
        let name = f
            .text("name")
            .map_or_else(|| format!("collection point {id}"), str::to_owned);
        let at = point(f).ok_or(DayError::NoPoint {
            layer: Layer::CollectionPoints,
            id,
        })?;
        let kind = f
            .text("kind")
            .and_then(|k| k.parse::<CollectionPointKind>().ok())
            .unwrap_or(CollectionPointKind::BinGroup);
        let every_days = f
            .get("every_days")
            .and_then(Value::as_i64)
            .map_or(1, |d| u32::try_from(d.clamp(1, 365)).unwrap_or(1));
        if !is_due(id, every_days, date) {
            continue;
        }
        let left = f64::from(households[i]) * options.kg_per_household_day * f64::from(every_days);
        let full = real(f, "volume_l").map_or(f64::INFINITY, |l| l * options.kg_per_litre);
        let service_s = match kind {
            CollectionPointKind::GarbagePool => options.pool_service_s,
            CollectionPointKind::BinGroup => options.bin_service_s,
        };
        let clock = |name: &str| f.text(name).and_then(gridgov_model::clock_seconds);
        let window = match (clock("open_from"), clock("open_until")) {
            (None, None) => None,
            (from, until) => Some((from.unwrap_or(0), until.unwrap_or(DAY_S))),
        };
        due.push(DuePoint {
            id,
            name,
            village: f.division,
            at,
            kind,
            every_days,
            households: households[i],
            expected_kg: left.min(full),
            service_s,
            window,
        });
    }
    due.sort_by_key(|p| p.id);
    Ok(due)
}

/// The transfer stations of `township` and its incinerators, in that order, each by id.
pub fn unload_places(data: &Dataset, township: DivisionCode) -> Result<Vec<UnloadPlace>, DayError> {
    let mut places = Vec::new();
    for layer in [Layer::TransferStations, Layer::Incinerators] {
        let mut these = Vec::new();
        for f in features(data, layer) {
            if !township.contains(&f.division) {
                continue;
            }
            let id = id_of(f).ok_or(DayError::Unstored(layer))?;
            these.push(UnloadPlace {
                id,
                layer,
                name: f
                    .text("name")
                    .map_or_else(|| format!("{} {id}", layer.name()), str::to_owned),
                division: f.division,
                at: point(f).ok_or(DayError::NoPoint { layer, id })?,
                capacity_kg: real(f, "capacity_t").map_or(f64::INFINITY, |t| t * 1_000.0),
            });
        }
        these.sort_by_key(|p| p.id);
        places.extend(these);
    }
    Ok(places)
}

/// The vehicles of `township` (its trucks and its villages' tricycles), each with its depot
/// among `places`. A vehicle without a depot station starts from the first station of its
/// area; a vehicle whose area has no station at all is refused with its plate named.
pub fn vehicles(
    data: &Dataset,
    township: DivisionCode,
    places: &[UnloadPlace],
    options: &DayOptions,
) -> Result<Vec<Vehicle>, DayError> {
    let station = |id: Option<i64>| {
        id.and_then(|d| {
            places
                .iter()
                .position(|p| p.layer == Layer::TransferStations && p.id == d)
        })
    };
    let mut out = Vec::new();
    for f in features(data, Layer::Vehicles) {
        if !township.contains(&f.division) {
            continue;
        }
        let id = id_of(f).ok_or(DayError::Unstored(Layer::Vehicles))?;
        let plate = f
            .text("plate")
            .map_or_else(|| format!("vehicle {id}"), str::to_owned);
        let kind = f
            .text("kind")
            .and_then(|k| k.parse::<VehicleKind>().ok())
            .unwrap_or(VehicleKind::Tricycle);
        let depot = station(f.get("depot_station_id").and_then(Value::as_i64))
            .or_else(|| {
                places.iter().position(|p| {
                    p.layer == Layer::TransferStations && f.division.contains(&p.division)
                })
            })
            .ok_or_else(|| DayError::NoDepot {
                plate: plate.clone(),
            })?;
        let end = station(f.get("end_station_id").and_then(Value::as_i64)).unwrap_or(depot);
        let shift_start_s = f
            .text("shift_start")
            .and_then(gridgov_model::clock_seconds)
            .unwrap_or(options.shift_start_s);
        let shift_s = real(f, "shift_hours")
            .filter(|h| *h > 0.0 && *h <= 24.0)
            .map_or(options.shift_s, |h| (h * 3_600.0).round() as u32);
        out.push(Vehicle {
            id,
            plate,
            kind,
            area: f.division,
            capacity_kg: real(f, "capacity_kg").unwrap_or(0.0),
            depot,
            end,
            shift_start_s,
            shift_s,
            serves_township: f.get("serves_township").and_then(Value::as_bool) == Some(true),
        });
    }
    out.sort_by_key(|v| v.id);
    Ok(out)
}
