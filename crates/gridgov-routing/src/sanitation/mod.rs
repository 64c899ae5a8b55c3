//! A township's garbage collection on one day (城乡环卫一体化): which points are due, the
//! vehicles and the places they unload at, and the routes over the road network.

mod due;
mod plan;

pub use due::{due_points, is_due, unload_places, vehicles, DuePoint, UnloadPlace, Vehicle};
pub use plan::{plan_day, DayPlan, Reason, Search, Stop, StopKind, Unassigned, VehicleRoute};

use gridgov_model::Layer;

/// The assumptions of a day's plan that the data does not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct DayOptions {
    /// Garbage a household leaves per day, in kilograms (rural China: about 2 kg for a
    /// household of three).
    pub kg_per_household_day: f64,
    /// Weight of a litre of loose household garbage, in kilograms; a point holds at most its
    /// `volume_l` times this.
    pub kg_per_litre: f64,
    /// Seconds spent emptying a garbage pool.
    pub pool_service_s: u32,
    /// Seconds spent emptying a bin group.
    pub bin_service_s: u32,
    /// Seconds spent unloading at a station.
    pub unload_s: u32,
    /// When the shift starts, in seconds after midnight.
    pub shift_start_s: u32,
    /// How long a shift lasts, in seconds.
    pub shift_s: u32,
    /// How far from the nearest usable road a point may lie and still be served (the cleaner
    /// walks the rest), in metres; farther points are reported unreachable.
    pub max_snap_m: f64,
}

impl Default for DayOptions {
    fn default() -> Self {
        Self {
            kg_per_household_day: 2.0,
            kg_per_litre: 0.25,
            pool_service_s: 300,
            bin_service_s: 120,
            unload_s: 600,
            shift_start_s: 6 * 3_600,
            shift_s: 8 * 3_600,
            max_snap_m: 1_000.0,
        }
    }
}

/// Why a day's plan cannot be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DayError {
    /// A feature without an id: plans are made from stored features.
    #[error("a {} feature has no id: plans are made from stored features", .0.name())]
    Unstored(Layer),
    /// A feature without a point where one is needed.
    #[error("{} {id} has no point geometry", .layer.name())]
    NoPoint {
        /// The layer.
        layer: Layer,
        /// The feature id.
        id: i64,
    },
    /// The road network cannot be built or has no roads.
    #[error("road network: {0}")]
    Network(String),
    /// A station a vehicle starts from lies off the roads.
    #[error("{place} cannot be reached on the roads: {detail}")]
    Unroutable {
        /// The station's name.
        place: String,
        /// Why.
        detail: String,
    },
    /// The solver refused an area's problem.
    #[error("routing: {0}")]
    Solver(String),
    /// A vehicle with no transfer station to start from.
    #[error("vehicle {plate} has no depot station, and its area has no transfer station")]
    NoDepot {
        /// The vehicle's plate.
        plate: String,
    },
}
