//! The layers gridgov keeps and the schema of each: geometry type and typed fields.
//!
//! Every stored feature has, besides its fields, an `id` and the `division_code` of the
//! division that owns it (see [`crate::Feature`]).

use std::fmt;
use std::str::FromStr;

use crate::code::DivisionLevel;
use crate::vocab::{
    CollectionPointKind, DisputeAction, DisputeCategory, DisputeChannel, DisputeLevel,
    DisputeStatus, LandUseKind, PlanJob, PlanStatus, RoadClass, SupervisionCategory, TownshipKind,
    VehicleKind, VillageKind, WasteKind, WaterKind,
};

/// The geometry a layer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    /// A point.
    Point,
    /// A line string.
    LineString,
    /// A polygon.
    Polygon,
    /// A multi-polygon (polygons are accepted and stored as one-part multi-polygons).
    MultiPolygon,
    /// Lines or polygons (water: rivers and lakes).
    LineOrPolygon,
    /// No geometry: an attribute table.
    None,
}

impl GeometryKind {
    /// The GeoPackage / OGC type name of the geometry column.
    pub fn ogc_name(self) -> &'static str {
        match self {
            GeometryKind::Point => "POINT",
            GeometryKind::LineString => "LINESTRING",
            GeometryKind::Polygon => "POLYGON",
            GeometryKind::MultiPolygon => "MULTIPOLYGON",
            GeometryKind::LineOrPolygon | GeometryKind::None => "GEOMETRY",
        }
    }
}

/// The storage type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// UTF-8 text.
    Text,
    /// 64-bit integer.
    Integer,
    /// 64-bit float.
    Real,
    /// Calendar date.
    Date,
    /// Instant in UTC.
    DateTime,
    /// Boolean.
    Bool,
}

/// A rule a field's value must meet beyond its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// No further rule.
    Any,
    /// One of a vocabulary's tokens.
    OneOf(&'static str, &'static [&'static str]),
    /// A comma-separated list of a vocabulary's tokens.
    SetOf(&'static str, &'static [&'static str]),
    /// A 12-digit division code of the given level.
    Division(DivisionLevel),
    /// A villager group code.
    GroupCode,
    /// A grid code.
    GridCode,
    /// A resident ID-card number.
    IdCard,
    /// A number ≥ 0.
    NonNegative,
    /// A number > 0.
    Positive,
    /// A phone number: 7-15 digits, optional leading +, spaces or dashes.
    Phone,
    /// The id of a feature in the named layer.
    Reference(Layer),
    /// A time of day, `HH:MM` from `00:00` to `24:00` (see [`crate::clock_seconds`]).
    ClockTime,
}

/// One field of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// The column name, snake case.
    pub name: &'static str,
    /// Its storage type.
    pub ty: FieldType,
    /// Whether every feature must have a value.
    pub required: bool,
    /// The rule beyond the type.
    pub rule: Rule,
}

const fn f(name: &'static str, ty: FieldType, required: bool, rule: Rule) -> FieldDef {
    FieldDef {
        name,
        ty,
        required,
        rule,
    }
}

macro_rules! layers {
    ($($variant:ident = $name:literal, $zh:literal;)+) => {
        /// A layer (a table of features of one kind).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Layer {
            $(#[doc = $zh] $variant,)+
        }

        impl Layer {
            /// Every layer, parents before children, so that loading in this order never
            /// meets a reference to a feature not yet stored.
            pub const ALL: &'static [Layer] = &[$(Layer::$variant,)+];

            /// The table name, plural snake case.
            pub fn name(self) -> &'static str {
                match self { $(Layer::$variant => $name,)+ }
            }

            /// The Chinese name.
            pub fn zh(self) -> &'static str {
                match self { $(Layer::$variant => $zh,)+ }
            }
        }

        impl FromStr for Layer {
            type Err = UnknownLayer;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(Layer::$variant),)+
                    _ => Err(UnknownLayer(s.to_owned())),
                }
            }
        }
    };
}

layers! {
    Counties = "counties", "县";
    Townships = "townships", "乡镇";
    Villages = "villages", "行政村/社区";
    VillagerGroups = "villager_groups", "村民小组";
    GridPlans = "grid_plans", "网格划分方案";
    Grids = "grids", "网格";
    Households = "households", "户";
    Persons = "persons", "人员";
    TransferStations = "transfer_stations", "垃圾中转站";
    Incinerators = "incinerators", "垃圾焚烧站";
    CollectionPoints = "collection_points", "垃圾收集点";
    Vehicles = "vehicles", "环卫车辆";
    Cleaners = "cleaners", "保洁员";
    Roads = "roads", "道路";
    Water = "water", "水系";
    LandUse = "land_use", "土地利用";
    RentalHouses = "rental_houses", "出租房屋";
    Tenancies = "tenancies", "租住登记";
    SupervisedPersons = "supervised_persons", "特殊人群";
    PositionReports = "position_reports", "定位上报";
    Disputes = "disputes", "矛盾纠纷";
    DisputeSteps = "dispute_steps", "调处记录";
    RoutePlans = "route_plans", "清运计划";
    Routes = "routes", "清运路线";
}

/// A layer name that gridgov does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown layer '{0}'; layers are: {list}", list = layer_list())]
pub struct UnknownLayer(pub String);

fn layer_list() -> String {
    Layer::ALL
        .iter()
        .map(|l| l.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

use FieldType::{Bool, Date, DateTime, Integer, Real, Text};

macro_rules! fields {
    ($list:expr) => {{
        const FIELDS: &[FieldDef] = &$list;
        FIELDS
    }};
}

impl Layer {
    /// The geometry this layer's features carry.
    pub fn geometry(self) -> GeometryKind {
        match self {
            Layer::Counties | Layer::Townships | Layer::Villages | Layer::VillagerGroups => {
                GeometryKind::MultiPolygon
            }
            Layer::Grids | Layer::LandUse | Layer::SupervisedPersons => GeometryKind::Polygon,
            Layer::Households
            | Layer::TransferStations
            | Layer::Incinerators
            | Layer::CollectionPoints
            | Layer::RentalHouses
            | Layer::PositionReports
            | Layer::Disputes => GeometryKind::Point,
            Layer::Roads | Layer::Routes => GeometryKind::LineString,
            Layer::Water => GeometryKind::LineOrPolygon,
            Layer::GridPlans
            | Layer::Persons
            | Layer::Vehicles
            | Layer::Cleaners
            | Layer::Tenancies
            | Layer::DisputeSteps
            | Layer::RoutePlans => GeometryKind::None,
        }
    }

    /// Whether this layer is an administrative division layer.
    pub fn division_level(self) -> Option<DivisionLevel> {
        match self {
            Layer::Counties => Some(DivisionLevel::County),
            Layer::Townships => Some(DivisionLevel::Township),
            Layer::Villages => Some(DivisionLevel::Village),
            Layer::VillagerGroups => Some(DivisionLevel::VillagerGroup),
            _ => None,
        }
    }

    /// How a feature's geometry must relate to its owning division's polygon.
    pub fn containment(self) -> Containment {
        match self {
            // Positions are wherever the person was; a route follows the roads wherever they
            // go: to a station or incinerator beyond its area, or out of the township and back.
            Layer::PositionReports | Layer::Routes => return Containment::None,
            // The fence may reach beyond the village.
            Layer::SupervisedPersons => return Containment::Intersects,
            _ => {}
        }
        match self.geometry() {
            GeometryKind::None => Containment::None,
            GeometryKind::LineString | GeometryKind::LineOrPolygon => Containment::Intersects,
            _ => Containment::Within,
        }
    }

    /// The fields of this layer, in column order.
    pub fn fields(self) -> &'static [FieldDef] {
        use Rule::{
            Any, ClockTime, Division, GridCode, GroupCode, IdCard, NonNegative, OneOf, Phone,
            Positive, Reference, SetOf,
        };
        const fn one_of(vocab: &'static str, t: &'static [&'static str]) -> Rule {
            OneOf(vocab, t)
        }
        match self {
            Layer::Counties => fields!([
                f("code", Text, true, Division(DivisionLevel::County)),
                f("name", Text, true, Any),
            ]),
            Layer::Townships => fields!([
                f("code", Text, true, Division(DivisionLevel::Township)),
                f("name", Text, true, Any),
                f(
                    "kind",
                    Text,
                    false,
                    one_of(TownshipKind::VOCABULARY, TownshipKind::TOKENS)
                ),
            ]),
            Layer::Villages => fields!([
                f("code", Text, true, Division(DivisionLevel::Village)),
                f("name", Text, true, Any),
                f(
                    "kind",
                    Text,
                    false,
                    one_of(VillageKind::VOCABULARY, VillageKind::TOKENS)
                ),
            ]),
            Layer::VillagerGroups => {
                fields!([f("code", Text, true, GroupCode), f("name", Text, true, Any),])
            }
            Layer::GridPlans => fields!([
                f("name", Text, true, Any),
                f(
                    "status",
                    Text,
                    true,
                    one_of(PlanStatus::VOCABULARY, PlanStatus::TOKENS)
                ),
                f("created_on", Date, true, Any),
                f("effective_from", Date, false, Any),
                f("note", Text, false, Any),
                // The computation that drew the plan (partition plans): the request as JSON,
                // its state, share done (0-100), why it failed, when the server computing it
                // last reported, and the totals and per-grid statistics as JSON.
                f("parameters", Text, false, Any),
                f(
                    "job",
                    Text,
                    false,
                    one_of(PlanJob::VOCABULARY, PlanJob::TOKENS)
                ),
                f("progress", Integer, false, NonNegative),
                f("job_error", Text, false, Any),
                f("heartbeat", DateTime, false, Any),
                f("summary", Text, false, Any),
                f("approved_on", Date, false, Any),
            ]),
            Layer::Grids => fields!([
                f("code", Text, true, GridCode),
                f("name", Text, true, Any),
                f("plan_id", Integer, true, Reference(Layer::GridPlans)),
                f("worker_name", Text, false, Any),
                f("worker_phone", Text, false, Phone),
                f("households", Integer, false, NonNegative),
            ]),
            Layer::Households => fields!([
                f("address", Text, true, Any),
                f("size", Integer, false, Positive),
                f("grid_code", Text, false, GridCode),
                f("group_code", Text, false, GroupCode),
            ]),
            Layer::Persons => fields!([
                f("name", Text, true, Any),
                f("id_card", Text, true, IdCard),
                f("phone", Text, false, Phone),
            ]),
            Layer::TransferStations | Layer::Incinerators => fields!([
                f("name", Text, true, Any),
                f("capacity_t", Real, true, Positive),
            ]),
            Layer::CollectionPoints => fields!([
                f("name", Text, false, Any),
                f(
                    "kind",
                    Text,
                    true,
                    one_of(CollectionPointKind::VOCABULARY, CollectionPointKind::TOKENS),
                ),
                f(
                    "waste_kinds",
                    Text,
                    true,
                    SetOf(WasteKind::VOCABULARY, WasteKind::TOKENS)
                ),
                f("volume_l", Real, false, Positive),
                f("every_days", Integer, false, Positive),
                // When the point may be emptied (a school's yard, a market after closing).
                f("open_from", Text, false, ClockTime),
                f("open_until", Text, false, ClockTime),
            ]),
            Layer::Vehicles => fields!([
                f("plate", Text, true, Any),
                f(
                    "kind",
                    Text,
                    true,
                    one_of(VehicleKind::VOCABULARY, VehicleKind::TOKENS)
                ),
                f("capacity_kg", Real, true, Positive),
                f(
                    "depot_station_id",
                    Integer,
                    false,
                    Reference(Layer::TransferStations)
                ),
                // Where the shift ends, when not back at the depot station.
                f(
                    "end_station_id",
                    Integer,
                    false,
                    Reference(Layer::TransferStations)
                ),
                f("shift_start", Text, false, ClockTime),
                f("shift_hours", Real, false, Positive),
                // Whether it may serve every village of its township, not only its own.
                f("serves_township", Bool, false, Any),
            ]),
            Layer::Cleaners => fields!([
                f("person_id", Integer, true, Reference(Layer::Persons)),
                f("area_code", Text, false, Any),
                f("vehicle_id", Integer, false, Reference(Layer::Vehicles)),
            ]),
            Layer::Roads => fields!([
                f("name", Text, false, Any),
                f(
                    "class",
                    Text,
                    true,
                    one_of(RoadClass::VOCABULARY, RoadClass::TOKENS)
                ),
                f("oneway", Bool, false, Any),
                f("osm_id", Integer, false, Any),
            ]),
            Layer::Water => fields!([
                f("name", Text, false, Any),
                f(
                    "kind",
                    Text,
                    true,
                    one_of(WaterKind::VOCABULARY, WaterKind::TOKENS)
                ),
            ]),
            Layer::LandUse => fields!([f(
                "kind",
                Text,
                true,
                one_of(LandUseKind::VOCABULARY, LandUseKind::TOKENS),
            )]),
            Layer::RentalHouses => fields!([
                f("address", Text, true, Any),
                f("landlord_id", Integer, true, Reference(Layer::Persons)),
                f("rooms", Integer, false, Positive),
                f("household_id", Integer, false, Reference(Layer::Households)),
            ]),
            Layer::Tenancies => fields!([
                f(
                    "rental_house_id",
                    Integer,
                    true,
                    Reference(Layer::RentalHouses)
                ),
                f("person_id", Integer, true, Reference(Layer::Persons)),
                f("check_in", Date, true, Any),
                f("check_out", Date, false, Any),
            ]),
            Layer::SupervisedPersons => fields!([
                f("person_id", Integer, true, Reference(Layer::Persons)),
                f(
                    "category",
                    Text,
                    true,
                    one_of(SupervisionCategory::VOCABULARY, SupervisionCategory::TOKENS),
                ),
                f("officer", Text, true, Any),
                f("officer_phone", Text, false, Phone),
                f("start_date", Date, true, Any),
                f("end_date", Date, false, Any),
            ]),
            Layer::PositionReports => fields!([
                f(
                    "supervised_person_id",
                    Integer,
                    true,
                    Reference(Layer::SupervisedPersons)
                ),
                f("reported_at", DateTime, true, Any),
            ]),
            Layer::Disputes => fields!([
                f(
                    "category",
                    Text,
                    true,
                    one_of(DisputeCategory::VOCABULARY, DisputeCategory::TOKENS),
                ),
                f(
                    "channel",
                    Text,
                    true,
                    one_of(DisputeChannel::VOCABULARY, DisputeChannel::TOKENS)
                ),
                f(
                    "level",
                    Text,
                    true,
                    one_of(DisputeLevel::VOCABULARY, DisputeLevel::TOKENS)
                ),
                f(
                    "status",
                    Text,
                    true,
                    one_of(DisputeStatus::VOCABULARY, DisputeStatus::TOKENS)
                ),
                f("opened_on", Date, true, Any),
                f("deadline", Date, false, Any),
                f("closed_on", Date, false, Any),
                f("description", Text, false, Any),
                f("grid_code", Text, false, GridCode),
                f("parties", Text, false, Any),
                f("leader", Text, false, Any),
                f("plan", Text, false, Any),
            ]),
            Layer::DisputeSteps => fields!([
                f("dispute_id", Integer, true, Reference(Layer::Disputes)),
                f("at", DateTime, true, Any),
                f("actor", Text, true, Any),
                f(
                    "action",
                    Text,
                    true,
                    one_of(DisputeAction::VOCABULARY, DisputeAction::TOKENS)
                ),
                f(
                    "status",
                    Text,
                    true,
                    one_of(DisputeStatus::VOCABULARY, DisputeStatus::TOKENS)
                ),
                f(
                    "level",
                    Text,
                    true,
                    one_of(DisputeLevel::VOCABULARY, DisputeLevel::TOKENS)
                ),
                f("note", Text, false, Any),
            ]),
            Layer::RoutePlans => fields!([
                f("name", Text, true, Any),
                // The day the routes are for.
                f("service_date", Date, true, Any),
                f("created_on", Date, true, Any),
                // The computation, as for partition plans: the request as JSON, its state,
                // share done (0-100), why it failed, when its server last reported, and the
                // totals, per-vehicle figures and unassigned points (with reasons) as JSON.
                f("parameters", Text, false, Any),
                f(
                    "job",
                    Text,
                    false,
                    one_of(PlanJob::VOCABULARY, PlanJob::TOKENS)
                ),
                f("progress", Integer, false, NonNegative),
                f("job_error", Text, false, Any),
                f("heartbeat", DateTime, false, Any),
                f("summary", Text, false, Any),
            ]),
            Layer::Routes => fields!([
                f("plan_id", Integer, true, Reference(Layer::RoutePlans)),
                f("vehicle_id", Integer, true, Reference(Layer::Vehicles)),
                f("plate", Text, false, Any),
                f(
                    "vehicle_kind",
                    Text,
                    true,
                    one_of(VehicleKind::VOCABULARY, VehicleKind::TOKENS)
                ),
                // Collection points visited, and trips (a trip ends with an unload).
                f("stops", Integer, true, NonNegative),
                f("trips", Integer, true, NonNegative),
                f("collected_kg", Real, true, NonNegative),
                f("distance_m", Real, true, NonNegative),
                f("duration_s", Integer, true, NonNegative),
                // The ordered stops as JSON: each point and unload with its arrival time,
                // the load after it, and the feature it is.
                f("schedule", Text, true, Any),
            ]),
        }
    }

    /// The field of this name, if the layer has one.
    pub fn field(self, name: &str) -> Option<&'static FieldDef> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// Pairs of date fields that must be in order (first ≤ second).
    pub fn date_order(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Layer::GridPlans => &[
                ("created_on", "effective_from"),
                ("created_on", "approved_on"),
            ],
            Layer::Tenancies => &[("check_in", "check_out")],
            Layer::SupervisedPersons => &[("start_date", "end_date")],
            Layer::Disputes => &[("opened_on", "deadline"), ("opened_on", "closed_on")],
            _ => &[],
        }
    }
}

/// How a feature's geometry must relate to its owning division.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Containment {
    /// Lies inside (a point on the boundary counts; polygons may stick out by a sliver).
    Within,
    /// Touches the division somewhere (roads and rivers cross division boundaries).
    Intersects,
    /// No geometry.
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_unknown_names_list_the_layers() {
        for l in Layer::ALL {
            assert_eq!(l.name().parse::<Layer>(), Ok(*l));
        }
        let e = "grid".parse::<Layer>().unwrap_err().to_string();
        assert!(e.contains("unknown layer 'grid'") && e.contains("grids"));
    }

    #[test]
    fn references_point_to_earlier_layers() {
        for (i, l) in Layer::ALL.iter().enumerate() {
            for fd in l.fields() {
                if let Rule::Reference(target) = fd.rule {
                    let j = Layer::ALL.iter().position(|x| *x == target).unwrap();
                    assert!(j < i, "{l}.{} refers to a later layer", fd.name);
                }
            }
        }
    }
}
