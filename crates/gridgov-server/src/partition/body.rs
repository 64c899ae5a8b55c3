//! The body of `POST /api/v1/partition-plans`, read parameter by parameter so that a bad value
//! is answered 422 naming it, with the partitioner's own parsers (`300-500`, `trunk,river`,
//! `households=1,rental_houses=0.5`); and who may draw which area.

use gridgov_model::{DivisionCode, DivisionLevel, Role, Scope as UserScope, ValidationError};
use gridgov_partition::request::{parse_barriers, parse_range, parse_seconds, parse_weights};
use gridgov_partition::{Options, Request, Scope as Area, Targets};
use serde_json::{json, Map, Value as Json};

/// The body's parameters, for the OpenAPI document (the handler reads them one by one).
#[derive(Debug, utoipa::ToSchema)]
pub struct PlanBody {
    /// The village to partition (12-digit code); give this or `township`.
    pub village: Option<String>,
    /// The township to partition (its villages; the small ones merged whole).
    pub township: Option<String>,
    /// A fixed number of grids (not with `households`).
    pub grids: Option<u32>,
    /// Households (workload) per grid the number of grids is chosen for, `LO-HI` (default
    /// `300-500`).
    pub households: Option<String>,
    /// How far a grid may lie from the mean, as a share of it (default 0.1).
    pub tolerance: Option<f64>,
    /// Seed of the search: the same data and seed give the same grids (default 1).
    pub seed: Option<u64>,
    /// Upper bound on the search time in seconds, 0.1 to 3600 (default 10).
    pub seconds: Option<f64>,
    /// Lines no grid may cross: road classes and water kinds, comma-separated (`trunk,river`).
    pub barriers: Option<String>,
    /// Workload weights, e.g. `households=1,rental_houses=0.5` (default `households=1`).
    pub weights: Option<String>,
    /// Rebalance the plan in force with as few households moved as possible, keeping its grid
    /// codes, instead of drawing afresh.
    pub rebalance: Option<bool>,
    /// The plan's name (default: the area's name and the day).
    pub name: Option<String>,
}

/// The parameters a body may hold.
const FIELDS: &[&str] = &[
    "village",
    "township",
    "grids",
    "households",
    "tolerance",
    "seed",
    "seconds",
    "barriers",
    "weights",
    "rebalance",
    "name",
];

/// A checked request for a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// What the partitioner is asked.
    pub request: Request,
    /// Rebalance the plan in force rather than draw afresh.
    pub rebalance: bool,
    /// The plan's name, if given.
    pub name: Option<String>,
    /// The parameters as stored with the plan (every default filled in).
    pub parameters: Json,
}

fn bad(field: &str, reason: impl Into<String>) -> ValidationError {
    ValidationError::new(field, reason)
}

fn text<'a>(body: &'a Map<String, Json>, field: &str) -> Result<Option<&'a str>, ValidationError> {
    match body.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(bad(field, "a text")),
    }
}

fn number(body: &Map<String, Json>, field: &str) -> Result<Option<f64>, ValidationError> {
    match body.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => n
            .as_f64()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| bad(field, "a finite number")),
        Some(_) => Err(bad(field, "a number")),
    }
}

fn whole(body: &Map<String, Json>, field: &str) -> Result<Option<u64>, ValidationError> {
    match body.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(field, "a whole number, 0 or more")),
        Some(_) => Err(bad(field, "a whole number")),
    }
}

fn area(body: &Map<String, Json>) -> Result<Area, ValidationError> {
    let code = |field: &str, text: &str, level: DivisionLevel| {
        let c: DivisionCode = text
            .trim()
            .parse()
            .map_err(|e| bad(field, format!("{e}")))?;
        if c.level() == level {
            Ok(c)
        } else {
            Err(bad(
                field,
                format!("{c} is a {} code, not a {level} code", c.level()),
            ))
        }
    };
    match (text(body, "village")?, text(body, "township")?) {
        (Some(v), None) => Ok(Area::Village(code("village", v, DivisionLevel::Village)?)),
        (None, Some(t)) => Ok(Area::Township(code(
            "township",
            t,
            DivisionLevel::Township,
        )?)),
        (Some(_), Some(_)) => Err(bad("township", "give a village or a township, not both")),
        (None, None) => Err(bad(
            "village",
            "give the village (or the township) to partition, as a 12-digit code",
        )),
    }
}

/// The value, or `None` with the error noted.
fn keep<T>(errors: &mut Vec<ValidationError>, r: Result<T, ValidationError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// Reads a request body: every problem found, each naming its parameter.
pub fn read(body: &Json) -> Result<Draft, Vec<ValidationError>> {
    let Some(body) = body.as_object() else {
        return Err(vec![bad(
            "body",
            "a JSON object such as {\"village\": \"520526101201\"}",
        )]);
    };
    let mut errors: Vec<ValidationError> = body
        .keys()
        .filter(|k| !FIELDS.contains(&k.as_str()))
        .map(|k| {
            bad(
                k,
                format!(
                    "not a parameter of a plan; parameters: {}",
                    FIELDS.join(", ")
                ),
            )
        })
        .collect();
    let scope = keep(&mut errors, area(body));
    let grids = keep(
        &mut errors,
        whole(body, "grids").and_then(|g| match g {
            Some(0) => Err(bad("grids", "at least one grid")),
            Some(g) if g > 10_000 => Err(bad("grids", "at most 10000 grids")),
            other => Ok(other.map(|g| g as usize)),
        }),
    );
    let households = keep(
        &mut errors,
        text(body, "households").and_then(|h| {
            if h.is_some() && body.get("grids").is_some_and(|g| !g.is_null()) {
                return Err(bad("households", "give grids or households, not both"));
            }
            let h = h.unwrap_or("300-500");
            parse_range(h)
                .map(|r| (r, h))
                .map_err(|e| bad("households", e))
        }),
    );
    let tolerance = keep(
        &mut errors,
        number(body, "tolerance").and_then(|t| match t.unwrap_or(0.1) {
            t if t > 0.0 && t < 1.0 => Ok(t),
            t => Err(bad(
                "tolerance",
                format!("{t}: a share between 0 and 1, e.g. 0.1"),
            )),
        }),
    );
    let seed = keep(&mut errors, whole(body, "seed").map(|s| s.unwrap_or(1)));
    let seconds = keep(
        &mut errors,
        number(body, "seconds").and_then(|s| {
            let s = s.unwrap_or(10.0);
            parse_seconds(s)
                .map(|d| (d, s))
                .map_err(|e| bad("seconds", e))
        }),
    );
    let barriers = keep(
        &mut errors,
        text(body, "barriers").and_then(|b| {
            let b = b.unwrap_or("");
            parse_barriers(b)
                .map(|v| (v, b))
                .map_err(|e| bad("barriers", e))
        }),
    );
    let weights = keep(
        &mut errors,
        text(body, "weights").and_then(|w| {
            let w = w.unwrap_or("households=1");
            parse_weights(w)
                .map(|v| (v, w))
                .map_err(|e| bad("weights", e))
        }),
    );
    let rebalance = keep(
        &mut errors,
        match body.get("rebalance") {
            None | Some(Json::Null) => Ok(false),
            Some(Json::Bool(b)) => Ok(*b),
            Some(_) => Err(bad("rebalance", "true or false")),
        },
    );
    let name = keep(
        &mut errors,
        text(body, "name").and_then(|n| match n.map(str::trim) {
            Some("") => Err(bad("name", "a name, not an empty text")),
            Some(n) if n.chars().count() > 200 => Err(bad("name", "at most 200 characters")),
            other => Ok(other.map(str::to_owned)),
        }),
    );
    let (
        Some(scope),
        Some(grids),
        Some((range, range_text)),
        Some(tolerance),
        Some(seed),
        Some((time_limit, seconds)),
        Some((barriers, barrier_text)),
        Some((workload, weight_text)),
        Some(rebalance),
        Some(name),
    ) = (
        scope, grids, households, tolerance, seed, seconds, barriers, weights, rebalance, name,
    )
    else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut parameters = json!({
        "grids": grids,
        "households": range_text,
        "tolerance": tolerance,
        "seed": seed,
        "seconds": seconds,
        "barriers": barrier_text,
        "weights": weight_text,
        "rebalance": rebalance,
    });
    let (key, code) = match scope {
        Area::Village(c) => ("village", c),
        Area::Township(c) => ("township", c),
    };
    if let Some(p) = parameters.as_object_mut() {
        p.insert(key.into(), code.as_str().into());
    }
    Ok(Draft {
        request: Request {
            scope,
            targets: Targets {
                grids,
                range,
                tolerance,
            },
            options: Options { seed, time_limit },
            workload,
            barriers,
        },
        rebalance,
        name,
        parameters,
    })
}

/// Reads the parameters stored with a plan ([`Draft::parameters`]) back into its request. They
/// hold every default, so a plan drawn by a number of grids also holds the default household
/// range, which a request body may not give beside it.
pub fn read_stored(parameters: &Json) -> Result<Draft, Vec<ValidationError>> {
    let mut body = parameters.clone();
    if let Some(p) = body.as_object_mut() {
        if p.get("grids").is_some_and(|g| !g.is_null()) {
            p.remove("households");
        }
    }
    read(&body)
}

/// Refuses a workload weight on a layer the role does not see (supervised persons): the
/// grids' workloads would tell what the role may not read.
pub fn may_weigh(role: Role, draft: &Draft) -> Result<(), ValidationError> {
    if draft.request.workload.supervised > 0.0
        && !role.reads(gridgov_model::Layer::SupervisedPersons)
    {
        return Err(bad(
            "weights",
            format!(
                "a {role} ({}) does not see supervised persons, so cannot weigh them",
                role.zh()
            ),
        ));
    }
    Ok(())
}

/// Whether a user may draw and approve plans of `area`: a county administrator anywhere in
/// the county, a township officer in the township (its own plan or a village's), a village
/// officer only plans of the village; nobody else. The error says why not.
pub fn may_draw(role: Role, scope: &UserScope, area: Area) -> Result<(), String> {
    let mine = scope.division();
    let code = area.code();
    let allowed = match role {
        Role::CountyAdmin | Role::TownshipOfficer => {
            matches!(scope, UserScope::Division(_)) && mine.contains(&code)
        }
        Role::VillageOfficer => matches!(area, Area::Village(v) if v == mine),
        Role::GridWorker | Role::CommandScreen | Role::JudicialOfficer => {
            return Err(format!(
                "a {role} ({}) does not draw or approve grid plans",
                role.zh()
            ))
        }
    };
    if allowed {
        Ok(())
    } else if role == Role::VillageOfficer {
        Err(format!(
            "a village officer draws and approves only plans of the village itself ({mine}), not of {code}"
        ))
    } else {
        Err(format!("{code} lies outside your scope ({scope})"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &Json) -> Vec<String> {
        read(body)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn a_body_reads_into_a_request_with_defaults() {
        let d =
            read(&json!({"village": "520526101201", "weights": "households=1,rental_houses=0.5"}))
                .unwrap();
        assert_eq!(
            d.request.scope,
            Area::Village("520526101201".parse().unwrap())
        );
        assert_eq!(d.request.targets.range, (300.0, 500.0));
        assert!((d.request.workload.rental_houses - 0.5).abs() < 1e-12);
        assert_eq!(d.parameters["village"], "520526101201");
        assert_eq!(d.parameters["households"], "300-500");
        assert!(!d.rebalance);
        let t = read(&json!({"township": "520526101000", "grids": 7, "rebalance": true})).unwrap();
        assert_eq!(t.request.targets.grids, Some(7));
        assert!(t.rebalance);
    }

    #[test]
    fn stored_parameters_read_back_into_the_same_request() {
        for body in [
            json!({"village": "520526101201", "grids": 3, "seed": 7}),
            json!({"township": "520526101000", "households": "400-600", "tolerance": 0.2,
                "barriers": "trunk,river", "weights": "households=1,rental_houses=0.5"}),
        ] {
            let d = read(&body).unwrap();
            let again = read_stored(&d.parameters).unwrap();
            assert_eq!(again.request, d.request, "{body}");
            assert_eq!(again.parameters, d.parameters, "{body}");
        }
    }

    #[test]
    fn every_bad_parameter_is_named() {
        assert_eq!(fields(&json!({})), ["village"]);
        assert_eq!(fields(&json!({"village": "520526101000"})), ["village"]);
        assert_eq!(fields(&json!({"township": "520526101201"})), ["township"]);
        assert_eq!(
            fields(
                &json!({"village": "520526101201", "households": "500-300", "tolerance": 2,
                "seconds": 0, "barriers": "motorway", "weights": "pets=1", "grids": 0,
                "rebalance": "yes", "colour": "red"})
            ),
            [
                "colour",
                "grids",
                "households",
                "tolerance",
                "seconds",
                "barriers",
                "weights",
                "rebalance"
            ]
        );
        assert_eq!(fields(&json!([1])), ["body"]);
    }

    #[test]
    fn who_may_draw_which_area() {
        let v: DivisionCode = "520526101201".parse().unwrap();
        let other: DivisionCode = "520526102201".parse().unwrap();
        let t: DivisionCode = "520526101000".parse().unwrap();
        let county = UserScope::Division("520526000000".parse().unwrap());
        let township = UserScope::Division(t);
        let village = UserScope::Division(v);
        assert!(may_draw(Role::CountyAdmin, &county, Area::Township(t)).is_ok());
        assert!(may_draw(Role::TownshipOfficer, &township, Area::Village(v)).is_ok());
        assert!(may_draw(Role::TownshipOfficer, &township, Area::Township(t)).is_ok());
        assert!(may_draw(Role::TownshipOfficer, &township, Area::Village(other)).is_err());
        assert!(may_draw(Role::VillageOfficer, &village, Area::Village(v)).is_ok());
        assert!(may_draw(Role::VillageOfficer, &village, Area::Township(t)).is_err());
        assert!(may_draw(Role::VillageOfficer, &village, Area::Village(other)).is_err());
        assert!(may_draw(Role::CommandScreen, &county, Area::Village(v)).is_err());
        let weighed =
            read(&json!({"village": v.as_str(), "weights": "households=1,supervised=2"})).unwrap();
        assert!(may_weigh(Role::CountyAdmin, &weighed).is_ok());
        assert_eq!(
            may_weigh(Role::TownshipOfficer, &weighed)
                .unwrap_err()
                .field,
            "weights"
        );
    }
}
