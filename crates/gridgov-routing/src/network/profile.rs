//! Vehicle profiles: the speed on each road class, or no access.

use geo::Coord;
use gridgov_model::vocab::{RoadClass, VehicleKind};

use super::error::NetworkError;
use super::weight::{haversine_m, Weight};

/// What a vehicle may drive on and how fast: a speed in km/h per [`RoadClass`], or none for a
/// class it may not use. A class without a speed gets no edges in the graph at all, so no route
/// and no snapped point ever uses it.
///
/// The two built-in profiles are planning figures for a rural Chinese county, not measured
/// speeds; adjust them with [`Profile::with_speed`]:
///
/// | class | tricycle (保洁三轮车) | truck (垃圾转运车) |
/// | --- | --- | --- |
/// | trunk (国道/省道) | 18 | 50 |
/// | primary (县道) | 18 | 40 |
/// | secondary (乡道) | 18 | 30 |
/// | village (村道) | 15 | 20 |
/// | lane (巷道) | 10 | 10 |
/// | track (机耕道) | 8 | — |
/// | path (步行道) | — | — |
///
/// - The tricycle is an electric sanitation tricycle: about 1.2 m wide and governed to roughly
///   20 km/h, it goes wherever a cart fits, including lanes and field tracks, but not footpaths
///   (steps, footways and narrow paths, which in the OpenStreetMap import also hold `steps`).
///   It is no faster on a trunk road than on a township road: mixed traffic, not the road,
///   limits it. Note that the OpenStreetMap import files motorways under `trunk`; a tricycle
///   profile will use them unless the caller forbids trunk roads.
/// - The truck is a 5–8 t compactor or hook-lift truck. Its speeds sit below the design speeds
///   of JTG B01-2014 for the usual technical grade of each class (二级 60–80 km/h for trunk
///   roads, 三级 30–40 for county roads, 四级 20–30 for township and village roads): a loaded
///   refuse truck on a winding mountain road runs slower than the design speed. It may enter
///   lanes (and OpenStreetMap `service` roads, which the import files as lanes) at walking-pace
///   10 km/h, as the last metres to a transfer station usually are such a lane; it may not use
///   tracks or paths.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    name: String,
    speeds: [Option<f64>; 7],
}

/// The position of a class in [`RoadClass::ALL`].
pub(crate) fn class_index(class: RoadClass) -> usize {
    match class {
        RoadClass::Trunk => 0,
        RoadClass::Primary => 1,
        RoadClass::Secondary => 2,
        RoadClass::Village => 3,
        RoadClass::Lane => 4,
        RoadClass::Track => 5,
        RoadClass::Path => 6,
    }
}

impl Profile {
    /// The electric sanitation tricycle (保洁三轮车); see the table above.
    pub fn tricycle() -> Profile {
        Profile {
            name: VehicleKind::Tricycle.token().to_owned(),
            speeds: [
                Some(18.0),
                Some(18.0),
                Some(18.0),
                Some(15.0),
                Some(10.0),
                Some(8.0),
                None,
            ],
        }
    }

    /// The refuse truck (垃圾转运车); see the table above.
    pub fn truck() -> Profile {
        Profile {
            name: VehicleKind::Truck.token().to_owned(),
            speeds: [
                Some(50.0),
                Some(40.0),
                Some(30.0),
                Some(20.0),
                Some(10.0),
                None,
                None,
            ],
        }
    }

    /// The built-in profile of a vehicle kind.
    pub fn for_vehicle(kind: VehicleKind) -> Profile {
        match kind {
            VehicleKind::Tricycle => Profile::tricycle(),
            VehicleKind::Truck => Profile::truck(),
        }
    }

    /// A profile with no access anywhere, to be given speeds with [`Profile::with_speed`].
    pub fn named(name: impl Into<String>) -> Profile {
        Profile {
            name: name.into(),
            speeds: [None; 7],
        }
    }

    /// This profile with the speed for `class` set (km/h), or the class forbidden (`None`).
    pub fn with_speed(
        mut self,
        class: RoadClass,
        kmh: Option<f64>,
    ) -> Result<Profile, NetworkError> {
        if let Some(v) = kmh {
            if !(v.is_finite() && v > 0.0) {
                return Err(NetworkError::BadSpeed {
                    class,
                    speed_kmh: v,
                });
            }
        }
        self.speeds[class_index(class)] = kmh;
        Ok(self)
    }

    /// The profile's name (`tricycle`, `truck`, or the name given).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The speed on a road class in km/h, `None` when the vehicle may not use it.
    pub fn speed_kmh(&self, class: RoadClass) -> Option<f64> {
        self.speeds[class_index(class)]
    }

    /// The weight of the straight road segment from `a` to `b` (longitude/latitude) of the given
    /// class, or `None` when the profile may not use the class.
    ///
    /// The length is the haversine distance rounded to the nearest centimetre; the time is that
    /// rounded length at the class's speed, rounded to the nearest millisecond. Every search
    /// (and any reference checking it) adds these integers, so sums are exact.
    pub fn segment_weight(&self, class: RoadClass, a: Coord<f64>, b: Coord<f64>) -> Option<Weight> {
        let kmh = self.speed_kmh(class)?;
        let cm = (haversine_m(a, b) * 100.0).round();
        // t[ms] = d[m] / (v[km/h] / 3.6) * 1000 = d[cm] * 36 / v[km/h].
        let ms = (cm * 36.0 / kmh).round();
        Some(Weight {
            distance_cm: cm as u64,
            time_ms: ms as u64,
        })
    }
}
