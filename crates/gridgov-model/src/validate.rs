//! Validation of features against their layer's schema and the administrative tree.

use std::fmt;

use geo::{Area, BooleanOps, BoundingRect, Geometry, Intersects, MultiPolygon};

use crate::code::{DivisionCode, DivisionLevel, GridCode, GroupCode};
use crate::feature::{Feature, Value};
use crate::geometry::{self, GeometryError};
use crate::idcard::IdCardNumber;
use crate::layer::{Containment, FieldType, GeometryKind, Layer, Rule};
use crate::vocab::{DisputeStatus, PlanJob, PlanStatus};

/// A feature that breaks a rule: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// The field at fault: a field name, `geometry`, `division_code` or `id`.
    pub field: String,
    /// What is wrong, in words a data officer understands.
    pub reason: String,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl ValidationError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

fn geom_err(e: &GeometryError) -> ValidationError {
    ValidationError::new("geometry", e.to_string())
}

/// The division levels that may own a feature of this layer.
pub fn owner_levels(layer: Layer) -> &'static [DivisionLevel] {
    use DivisionLevel::{County, Township, Village};
    match layer {
        Layer::Counties => &[County],
        Layer::Townships | Layer::Incinerators | Layer::RoutePlans => &[Township],
        Layer::Villages
        | Layer::VillagerGroups
        | Layer::Grids
        | Layer::Households
        | Layer::Persons
        | Layer::TransferStations
        | Layer::CollectionPoints
        | Layer::Cleaners
        | Layer::RentalHouses
        | Layer::Tenancies
        | Layer::SupervisedPersons
        | Layer::PositionReports
        | Layer::Disputes
        | Layer::DisputeSteps => &[Village],
        Layer::GridPlans | Layer::Vehicles | Layer::Routes => &[Township, Village],
        Layer::Roads | Layer::Water | Layer::LandUse => &[County, Township, Village],
    }
}

/// Brings a feature's geometry into its layer's form and checks it, its owning division, and
/// every field against the layer's schema. References to other features and containment in the
/// owning division's polygon need the store and are checked by [`check_containment`] and the
/// store.
pub fn validate(layer: Layer, feature: &mut Feature) -> Result<(), ValidationError> {
    // Geometry.
    match (layer.geometry(), feature.geometry.take()) {
        (GeometryKind::None, None) => {}
        (GeometryKind::None, Some(_)) => {
            return Err(ValidationError::new(
                "geometry",
                format!("{layer} is an attribute table and takes no geometry"),
            ))
        }
        (_, None) => {
            return Err(ValidationError::new(
                "geometry",
                format!("a feature of {layer} needs a geometry"),
            ))
        }
        (kind, Some(g)) => {
            let g = geometry::conform(kind, g).map_err(|e| geom_err(&e))?;
            geometry::check(&g).map_err(|e| geom_err(&e))?;
            feature.geometry = Some(g);
        }
    }

    // Owning division.
    let level = feature.division.level();
    if !owner_levels(layer).contains(&level) {
        let allowed: Vec<String> = owner_levels(layer)
            .iter()
            .map(ToString::to_string)
            .collect();
        return Err(ValidationError::new(
            "division_code",
            format!(
                "{} is a {level} code, but {layer} belong to a {}",
                feature.division,
                allowed.join(" or ")
            ),
        ));
    }

    // Fields: known, typed, required, ruled.
    for (name, value) in &feature.properties {
        let def = layer.field(name).ok_or_else(|| {
            let known: Vec<&str> = layer.fields().iter().map(|f| f.name).collect();
            ValidationError::new(
                name.clone(),
                format!(
                    "{layer} has no field '{name}'; its fields are: {}",
                    known.join(", ")
                ),
            )
        })?;
        check_type(def.ty, value).map_err(|r| ValidationError::new(name.clone(), r))?;
        check_rule(def.rule, value).map_err(|r| ValidationError::new(name.clone(), r))?;
    }
    for def in layer.fields() {
        if def.required && !feature.properties.contains_key(def.name) {
            return Err(ValidationError::new(def.name, "is required"));
        }
    }

    check_codes(layer, feature)?;
    check_dates(layer, feature)?;
    check_clock_order(layer, feature)?;
    check_status(layer, feature)
}

fn check_type(ty: FieldType, v: &Value) -> Result<(), String> {
    let ok = matches!(
        (ty, v),
        (FieldType::Text, Value::Text(_))
            | (FieldType::Integer, Value::Integer(_))
            | (FieldType::Real, Value::Real(_))
            | (FieldType::Date, Value::Date(_))
            | (FieldType::DateTime, Value::DateTime(_))
            | (FieldType::Bool, Value::Bool(_))
    );
    if ok {
        Ok(())
    } else {
        Err(format!("expected a {ty:?} value, got {v:?}"))
    }
}

fn check_rule(rule: Rule, v: &Value) -> Result<(), String> {
    let text = || v.as_str().unwrap_or_default();
    let number = || match v {
        Value::Integer(i) => *i as f64,
        Value::Real(r) => *r,
        _ => f64::NAN,
    };
    match rule {
        Rule::Any | Rule::Reference(_) => Ok(()),
        Rule::OneOf(vocab, tokens) => {
            if tokens.contains(&text()) {
                Ok(())
            } else {
                Err(format!(
                    "'{}' is not a valid {vocab}; expected one of: {}",
                    text(),
                    tokens.join(", ")
                ))
            }
        }
        Rule::SetOf(vocab, tokens) => {
            for t in text().split(',').map(str::trim) {
                if !tokens.contains(&t) {
                    return Err(format!(
                        "'{t}' is not a valid {vocab}; expected a comma-separated list of: {}",
                        tokens.join(", ")
                    ));
                }
            }
            Ok(())
        }
        Rule::Division(level) => {
            let code: DivisionCode = text()
                .parse()
                .map_err(|e: crate::code::CodeError| e.to_string())?;
            if code.level() == level {
                Ok(())
            } else {
                Err(format!(
                    "'{code}' is a {} code, expected a {level} code",
                    code.level()
                ))
            }
        }
        Rule::GroupCode => text()
            .parse::<GroupCode>()
            .map(drop)
            .map_err(|e| e.to_string()),
        Rule::GridCode => text()
            .parse::<GridCode>()
            .map(drop)
            .map_err(|e| e.to_string()),
        Rule::IdCard => text()
            .parse::<IdCardNumber>()
            .map(drop)
            .map_err(|e| e.to_string()),
        Rule::NonNegative if number() >= 0.0 => Ok(()),
        Rule::NonNegative => Err("must not be negative".into()),
        Rule::Positive if number() > 0.0 => Ok(()),
        Rule::Positive => Err("must be greater than zero".into()),
        Rule::ClockTime => clock_seconds(text()).map(drop).ok_or_else(|| {
            format!(
                "'{}' is not a time of day; expected HH:MM from 00:00 to 24:00",
                text()
            )
        }),
        Rule::Phone => {
            let digits = text().chars().filter(char::is_ascii_digit).count();
            let clean = text()
                .trim_start_matches('+')
                .chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
            if clean && (7..=15).contains(&digits) {
                Ok(())
            } else {
                Err(format!("'{}' is not a phone number", text()))
            }
        }
    }
}

/// The division code a feature's own `code` says it belongs to, for layers that have codes.
fn check_codes(layer: Layer, f: &Feature) -> Result<(), ValidationError> {
    let owner = match layer {
        Layer::Counties | Layer::Townships | Layer::Villages => f
            .text("code")
            .and_then(|c| c.parse::<DivisionCode>().ok())
            .map(|c| (c, "the division's own code")),
        Layer::VillagerGroups => f
            .text("code")
            .and_then(|c| c.parse::<GroupCode>().ok())
            .map(|c| (c.village(), "the village in its code")),
        Layer::Grids => f
            .text("code")
            .and_then(|c| c.parse::<GridCode>().ok())
            .map(|c| (c.village(), "the village in its code")),
        _ => None,
    };
    if let Some((expected, what)) = owner {
        if expected != f.division {
            return Err(ValidationError::new(
                "division_code",
                format!("is {}, but must be {expected}, {what}", f.division),
            ));
        }
    }
    for (field, village) in [
        (
            "grid_code",
            f.text("grid_code")
                .and_then(|c| c.parse::<GridCode>().ok())
                .map(|c| c.village()),
        ),
        (
            "group_code",
            f.text("group_code")
                .and_then(|c| c.parse::<GroupCode>().ok())
                .map(|c| c.village()),
        ),
    ] {
        if let Some(v) = village {
            if v != f.division {
                return Err(ValidationError::new(
                    field,
                    format!(
                        "lies in village {v}, but the feature belongs to {}",
                        f.division
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Seconds after midnight of a time of day written `HH:MM` (`00:00` to `24:00`), or `None`
/// for anything else.
///
/// ```
/// assert_eq!(gridgov_model::clock_seconds("06:30"), Some(23_400));
/// assert_eq!(gridgov_model::clock_seconds("24:00"), Some(86_400));
/// assert_eq!(gridgov_model::clock_seconds("24:01"), None);
/// assert_eq!(gridgov_model::clock_seconds("6:30"), None);
/// ```
pub fn clock_seconds(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 3_600 + m * 60)
}

/// Pairs of time-of-day fields where the second must come after the first.
fn check_clock_order(layer: Layer, f: &Feature) -> Result<(), ValidationError> {
    let pairs: &[(&str, &str)] = match layer {
        Layer::CollectionPoints => &[("open_from", "open_until")],
        _ => &[],
    };
    for (a, b) in pairs {
        let at = |name: &str| f.text(name).and_then(clock_seconds);
        if let (Some(ta), Some(tb)) = (at(a), at(b)) {
            if tb <= ta {
                return Err(ValidationError::new(
                    *b,
                    format!(
                        "{} is not after {a} {}",
                        f.text(b).unwrap_or_default(),
                        f.text(a).unwrap_or_default()
                    ),
                ));
            }
        }
    }
    if layer == Layer::Vehicles {
        if let Some(h) = f.get("shift_hours").and_then(Value::as_f64) {
            if h > 24.0 {
                return Err(ValidationError::new(
                    "shift_hours",
                    format!("a shift of {h} hours is longer than a day"),
                ));
            }
        }
    }
    Ok(())
}

fn check_dates(layer: Layer, f: &Feature) -> Result<(), ValidationError> {
    for (a, b) in layer.date_order() {
        if let (Some(da), Some(db)) = (
            f.get(a).and_then(Value::as_date),
            f.get(b).and_then(Value::as_date),
        ) {
            if db < da {
                return Err(ValidationError::new(*b, format!("{db} is before {a} {da}")));
            }
        }
    }
    Ok(())
}

fn check_status(layer: Layer, f: &Feature) -> Result<(), ValidationError> {
    match layer {
        Layer::Disputes => {
            let status: Option<DisputeStatus> = f.text("status").and_then(|s| s.parse().ok());
            let finished = status.is_some_and(DisputeStatus::is_finished);
            match (finished, f.get("closed_on").is_some()) {
                (true, false) => Err(ValidationError::new(
                    "closed_on",
                    "a settled or closed dispute needs its closing date",
                )),
                (false, true) => Err(ValidationError::new(
                    "closed_on",
                    "an open dispute has no closing date",
                )),
                _ => Ok(()),
            }
        }
        Layer::GridPlans => check_plan(f),
        _ => Ok(()),
    }
}

/// A grid plan's status against its dates and its computation: an approved or effective plan
/// has its effective date; a plan leaves the draft only with its grids drawn (no computation,
/// as for an imported plan, or one that is done); progress is a percentage; a failed
/// computation says why.
fn check_plan(f: &Feature) -> Result<(), ValidationError> {
    let status: Option<PlanStatus> = f.text("status").and_then(|s| s.parse().ok());
    let job: Option<PlanJob> = f.text("job").and_then(|s| s.parse().ok());
    if matches!(status, Some(PlanStatus::Approved | PlanStatus::Effective))
        && f.get("effective_from").is_none()
    {
        return Err(ValidationError::new(
            "effective_from",
            "an approved or effective plan needs its effective date",
        ));
    }
    if status.is_some_and(|s| s != PlanStatus::Draft) && job.is_some_and(|j| j != PlanJob::Done) {
        return Err(ValidationError::new(
            "status",
            "a plan whose grids are still being drawn, or failed to be, stays a draft",
        ));
    }
    if f.get("progress")
        .and_then(Value::as_i64)
        .is_some_and(|p| p > 100)
    {
        return Err(ValidationError::new(
            "progress",
            "a percentage, from 0 to 100",
        ));
    }
    if job == Some(PlanJob::Failed) && f.get("job_error").is_none() {
        return Err(ValidationError::new(
            "job_error",
            "a failed computation says why it failed",
        ));
    }
    Ok(())
}

/// Share of a polygon's area that may lie outside its division (digitising slivers).
pub const SLIVER_TOLERANCE: f64 = 0.01;

/// Whether a polygon lies in a division as [`check_containment`] asks of areas: it meets the
/// division and at most [`SLIVER_TOLERANCE`] of its area lies outside. Not a polygon: `false`.
pub fn area_within(g: &Geometry<f64>, division: &MultiPolygon<f64>) -> bool {
    let mp = match g {
        Geometry::Polygon(p) => MultiPolygon(vec![p.clone()]),
        Geometry::MultiPolygon(mp) => mp.clone(),
        _ => return false,
    };
    let area = mp.unsigned_area();
    division.intersects(&mp)
        && (area == 0.0 || mp.difference(division).unsigned_area() <= SLIVER_TOLERANCE * area)
}

/// Checks that a validated feature's geometry lies in (or, for roads and rivers, touches) the
/// polygon of its owning division. The error names the division and, when swapping longitude
/// and latitude would have put the feature inside, says the coordinates look swapped.
pub fn check_containment(
    layer: Layer,
    feature: &Feature,
    division: &MultiPolygon<f64>,
    division_name: &str,
) -> Result<(), ValidationError> {
    let Some(g) = &feature.geometry else {
        return Ok(());
    };
    let inside = match layer.containment() {
        Containment::None => true,
        Containment::Intersects => division.intersects(g),
        Containment::Within => match g {
            Geometry::Polygon(_) | Geometry::MultiPolygon(_) => area_within(g, division),
            other => {
                use geo::CoordsIter;
                other.coords_iter().all(|c| division.intersects(&c))
            }
        },
    };
    if inside {
        return Ok(());
    }
    let mut reason = format!(
        "lies outside its division {} {division_name}",
        feature.division
    );
    if looks_swapped(g, division) {
        reason.push_str("; the coordinates look swapped (latitude, longitude): GeoJSON and gridgov take longitude first");
    }
    Err(ValidationError::new("geometry", reason))
}

fn looks_swapped(g: &Geometry<f64>, division: &MultiPolygon<f64>) -> bool {
    use geo::MapCoords;
    let swapped = g.map_coords(|c| geo::Coord { x: c.y, y: c.x });
    match (swapped.bounding_rect(), division.bounding_rect()) {
        (Some(a), Some(b)) => a.intersects(&b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use geo::{point, polygon};

    fn village() -> DivisionCode {
        "520526101201".parse().unwrap()
    }

    #[test]
    fn a_valid_dispute_passes_and_dates_out_of_order_fail() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let mut f = Feature::new(village(), Some(point!(x: 104.3, y: 26.9).into()))
            .with("category", "land_contracting")
            .with("channel", "people")
            .with("level", "village")
            .with("status", "open")
            .with("opened_on", d(2026, 3, 1))
            .with("deadline", d(2026, 3, 31));
        assert_eq!(validate(Layer::Disputes, &mut f), Ok(()));
        f.properties.insert("deadline".into(), d(2026, 2, 1).into());
        let e = validate(Layer::Disputes, &mut f).unwrap_err();
        assert_eq!(e.field, "deadline");
        assert!(e.reason.contains("before opened_on"));
    }

    #[test]
    fn a_plan_leaves_the_draft_only_with_its_grids_and_dates() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let township: DivisionCode = "520526101000".parse().unwrap();
        let draft = Feature::new(township, None)
            .with("name", "方案")
            .with("status", "draft")
            .with("created_on", d(2026, 3, 1))
            .with("job", "running")
            .with("progress", 40_i64);
        assert_eq!(validate(Layer::GridPlans, &mut draft.clone()), Ok(()));
        let field = |f: &Feature| {
            validate(Layer::GridPlans, &mut f.clone())
                .unwrap_err()
                .field
        };
        assert_eq!(field(&draft.clone().with("progress", 101_i64)), "progress");
        assert_eq!(field(&draft.clone().with("job", "failed")), "job_error");
        let approved = draft
            .clone()
            .with("status", "approved")
            .with("effective_from", d(2026, 4, 1));
        assert_eq!(field(&approved), "status", "still running");
        let approved = approved.with("job", "done").with("progress", 100_i64);
        assert_eq!(validate(Layer::GridPlans, &mut approved.clone()), Ok(()));
        let mut undated = approved.clone();
        undated.properties.remove("effective_from");
        assert_eq!(field(&undated), "effective_from");
        assert_eq!(
            field(&approved.with("approved_on", d(2026, 2, 1))),
            "approved_on",
            "approved before it was made"
        );
    }

    #[test]
    fn unknown_fields_bad_vocabulary_and_bad_id_cards_are_named() {
        let mut f = Feature::new(village(), None)
            .with("name", "张三")
            .with("id_card", "110105194912310021");
        let e = validate(Layer::Persons, &mut f).unwrap_err();
        assert_eq!(e.field, "id_card");
        assert!(e.reason.contains("checksum"));
        let mut f = Feature::new(village(), Some(point!(x: 104.3, y: 26.9).into()))
            .with("name", "站")
            .with("capacity_t", 5.0)
            .with("colour", "red");
        assert_eq!(
            validate(Layer::TransferStations, &mut f).unwrap_err().field,
            "colour"
        );
    }

    #[test]
    fn a_village_code_must_extend_its_township() {
        let mut f = Feature::new(
            "520526102000".parse().unwrap(),
            Some(polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.)].into()),
        )
        .with("code", "520526101201")
        .with("name", "村");
        let e = validate(Layer::Villages, &mut f).unwrap_err();
        assert_eq!(e.field, "division_code");
    }

    #[test]
    fn swapped_coordinates_are_reported_as_such() {
        let division = MultiPolygon(vec![
            polygon![(x: 104.0, y: 26.5), (x: 104.6, y: 26.5), (x: 104.6, y: 27.2), (x: 104.0, y: 27.2)],
        ]);
        let f = Feature::new(village(), Some(point!(x: 26.9, y: 104.3).into()));
        let e = check_containment(Layer::Households, &f, &division, "村").unwrap_err();
        assert!(e.reason.contains("swapped"), "{e}");
        let f = Feature::new(village(), Some(point!(x: 104.3, y: 26.9).into()));
        assert!(check_containment(Layer::Households, &f, &division, "村").is_ok());
    }
}
