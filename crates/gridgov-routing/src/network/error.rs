//! What can go wrong building a road network or snapping onto it.

use gridgov_model::vocab::RoadClass;

/// A road network that cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NetworkError {
    /// A road line that is not usable as given.
    #[error("road {id}: {reason}")]
    BadRoad {
        /// The road's id.
        id: i64,
        /// What is wrong with it.
        reason: String,
    },
    /// A speed that is not a positive number of km/h.
    #[error("the speed on {class} roads must be a positive number of km/h, not {speed_kmh}")]
    BadSpeed {
        /// The road class.
        class: RoadClass,
        /// The speed given.
        speed_kmh: f64,
    },
    /// No road the profile may use.
    #[error("there is no road the {profile} profile may use")]
    Empty {
        /// The profile's name.
        profile: String,
    },
}

/// A point that cannot be put on the road network.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SnapError {
    /// The nearest usable road is farther than the allowed snap distance.
    #[error("unreachable: {distance_m:.0} m from the nearest road")]
    TooFar {
        /// Distance to the nearest usable road, in metres.
        distance_m: f64,
    },
    /// Not a longitude/latitude pair.
    #[error("({x}, {y}) is not a longitude/latitude")]
    BadPoint {
        /// The x (longitude) given.
        x: f64,
        /// The y (latitude) given.
        y: f64,
    },
}
