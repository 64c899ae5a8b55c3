//! `/api/v1/hotspots`: dispute hotspot maps (Gi\*, local Moran's I, emerging hot spots) as
//! GeoJSON H3 cell polygons, as a vector-tile layer `hotspots`, and summed per grid or
//! village beside the escalation figures.
//!
//! The statistics are `gridgov_hotspot::analysis`'s; this module reads the disputes, parses
//! the parameters and encodes the answers. The CLI (`gridgov hotspots`) uses the same
//! parameters ([`HotspotParams`]), events ([`dispute_event`]) and GeoJSON
//! ([`feature_collection`]).
//!
//! # Scope
//!
//! A map is made from the disputes the user may read and nothing else: the role must read
//! the disputes layer (else 403), and only the disputes [`Access::admits`] (its village or
//! township, or its grid's polygon) are counted. A village officer's map is the map of the
//! village's disputes: another village's disputes neither add to a cell's count nor change a
//! statistic, and cells beyond the ring around the user's own disputes do not appear.
//!
//! # Cache
//!
//! A map costs up to seconds (permutations over thousands of cells), and a map view asks for
//! a dozen tiles at once. Computed maps are kept in a small process-wide cache keyed by a
//! 128-bit hash of their inputs: the request and every counted dispute (place, time,
//! category, channel). So a write to a counted dispute changes the key (no stale map
//! outlives a change of the data), two viewers with the same disputes share a map, and one
//! viewer never gets another's. Concurrent requests for the same map wait for one
//! computation. The disputes themselves come from the live index (kept current by the
//! store's change feed), not from the store.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Path, Query as QueryParams, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Months, NaiveDate, TimeZone, Utc};
use geo::{BoundingRect, Coord, Geometry, Intersects, Rect};
use gridgov_hotspot::analysis::{
    analyse, cell_polygon, summarise_regions, AnalysisError, CellStats, HotspotRequest, Hotspots,
    Inference, Method, Slicing, DEFAULT_PERMUTATIONS, DEFAULT_SEED,
};
use gridgov_hotspot::bin::{DisputeEvent, EventFilter, RESOLUTIONS};
use gridgov_hotspot::classify::GiBin;
use gridgov_hotspot::emerging::{EmergingCategory, SpotState};
use gridgov_index::CountyIndex;
use gridgov_model::vocab::{DisputeCategory, DisputeChannel, DisputeStatus};
use gridgov_model::{Feature, Layer, Value};
use gridgov_tiles::{search_area, ComputedFeature, TileBuilder, TileId};
use serde::Deserialize;
use serde_json::{json, Map, Value as J};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::access::Access;
use crate::auth::Principal;
use crate::openapi::Problem;
use crate::tiles::{CACHE_CONTROL, MVT_CONTENT_TYPE};
use crate::{ApiError, AppState};

/// The most permutations a request may ask for.
pub const MAX_PERMUTATIONS: usize = 9_999;

/// The widest neighbourhood ring a request may ask for.
pub const MAX_RING: u32 = 3;

/// The most work one map may take, in cell evaluations (cells × (permutations + 1), plus
/// cells × slices): 2·10⁸, a few seconds on one core.
pub const MAX_WORK: u64 = 200_000_000;

/// The name of the vector-tile layer.
pub const TILE_LAYER: &str = "hotspots";

/// Maps kept in the cache, at most.
const CACHED_MAPS: usize = 16;

/// Cells kept in the cache over all maps, at most (a cell with its polygon is about 0.5 KiB).
const CACHED_CELLS: usize = 1_000_000;

/// The hotspot routes.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(geojson))
        .routes(routes!(tile))
        .routes(routes!(regions))
}

/// Query parameters of the hotspot routes. Every value is text here and checked by
/// [`HotspotParams::request`], so a bad one is a 400 naming it.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HotspotParams {
    /// H3 resolution, 6 to 10 (default 8: cells of 0.74 km², 460 m edges).
    pub res: Option<String>,
    /// First month (`YYYY-MM`) or day (`YYYY-MM-DD`) counted, by the date a dispute was
    /// opened.
    pub from: Option<String>,
    /// Last month (`YYYY-MM`) or day (`YYYY-MM-DD`) counted, inclusive.
    pub to: Option<String>,
    /// Dispute categories counted, comma-separated tokens (e.g. `land_contracting,labour`);
    /// default all.
    pub category: Option<String>,
    /// Mediation channels counted, comma-separated (`people,administrative,judicial,petition`);
    /// default all.
    pub channel: Option<String>,
    /// `gistar` (default), `moran` or `emerging`.
    pub method: Option<String>,
    /// With `method=emerging`: time slices of a `month` (default) or a `quarter`.
    pub slice: Option<String>,
    /// Permutations for pseudo p-values, 0 to 9999 (default 999; `moran` needs at least 1).
    pub permutations: Option<String>,
    /// Seed of the permutations (default 12345): the same seed gives the same map.
    pub seed: Option<String>,
    /// Neighbourhood ring, 1 to 3 (default 1: a cell and its six neighbours).
    pub k: Option<String>,
    /// Benjamini–Hochberg correction of the classes, `true` (default) or `false`.
    pub fdr: Option<String>,
    /// p-values of the classes: `exact` (default: the randomisation tails of the counts) or
    /// `normal` (of the z-score, as ArcGIS).
    pub inference: Option<String>,
}

/// A bad parameter: its name and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// The parameter's name (`res`, `from`, …).
    pub name: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "parameter '{}': {}", self.name, self.reason)
    }
}

impl std::error::Error for ParamError {}

impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

fn bad(name: &'static str, reason: impl Into<String>) -> ParamError {
    ParamError {
        name,
        reason: reason.into(),
    }
}

/// A whole number parameter in `range`.
fn number<T>(
    name: &'static str,
    text: Option<&str>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ParamError>
where
    T: FromStr + PartialOrd + fmt::Display + Copy,
{
    let Some(text) = text else {
        return Ok(default);
    };
    text.trim()
        .parse::<T>()
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            bad(
                name,
                format!(
                    "'{text}' is not a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// `YYYY-MM` or `YYYY-MM-DD`: the first day, and whether a whole month was named.
fn parse_day(name: &'static str, text: &str) -> Result<(NaiveDate, bool), ParamError> {
    let t = text.trim();
    let shaped = |len: usize| {
        t.len() == len
            && t.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    };
    let parsed = if shaped(7) {
        NaiveDate::parse_from_str(&format!("{t}-01"), "%Y-%m-%d")
            .ok()
            .map(|d| (d, true))
    } else if shaped(10) {
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .ok()
            .map(|d| (d, false))
    } else {
        None
    };
    parsed.ok_or_else(|| {
        bad(
            name,
            format!("'{text}' is not a month YYYY-MM or a day YYYY-MM-DD"),
        )
    })
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN))
}

/// `from`: the first instant counted.
pub fn parse_from(text: &str) -> Result<DateTime<Utc>, ParamError> {
    Ok(midnight(parse_day("from", text)?.0))
}

/// `to` (inclusive month or day): the first instant no longer counted.
pub fn parse_to(text: &str) -> Result<DateTime<Utc>, ParamError> {
    Ok(midnight(day_after(text)?))
}

/// `to` (inclusive month or day): the first day no longer counted.
pub(crate) fn day_after(text: &str) -> Result<NaiveDate, ParamError> {
    let (day, month) = parse_day("to", text)?;
    let next = if month {
        day.checked_add_months(Months::new(1))
    } else {
        day.succ_opt()
    };
    next.ok_or_else(|| bad("to", format!("'{text}' is too late a date")))
}

/// `from` (a month or a day): the first day counted.
pub(crate) fn first_day(text: &str) -> Result<NaiveDate, ParamError> {
    Ok(parse_day("from", text)?.0)
}

/// A comma list of vocabulary terms (tokens or Chinese terms) as tokens.
fn vocabulary_list<T>(
    name: &'static str,
    text: Option<&str>,
    token: fn(&T) -> &'static str,
) -> Result<Option<BTreeSet<String>>, ParamError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    let Some(text) = text else {
        return Ok(None);
    };
    let mut out = BTreeSet::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let v = item.parse::<T>().map_err(|e| bad(name, e.to_string()))?;
        out.insert(token(&v).to_owned());
    }
    if out.is_empty() {
        return Err(bad(
            name,
            "an empty list; leave the parameter out to count all",
        ));
    }
    Ok(Some(out))
}

impl HotspotParams {
    /// The analysis these parameters ask for, checked (bounded: at most
    /// [`MAX_PERMUTATIONS`], ring [`MAX_RING`], work [`MAX_WORK`]).
    pub fn request(&self) -> Result<HotspotRequest, ParamError> {
        let resolution = number(
            "res",
            self.res.as_deref(),
            8u8,
            *RESOLUTIONS.start()..=*RESOLUTIONS.end(),
        )?;
        let from = self.from.as_deref().map(parse_from).transpose()?;
        let until = self.to.as_deref().map(parse_to).transpose()?;
        if let (Some(f), Some(u)) = (from, until) {
            if u <= f {
                return Err(bad(
                    "to",
                    "the window ends before it starts ('to' is before 'from')",
                ));
            }
        }
        let slicing = match self.slice.as_deref().map(str::trim) {
            None | Some("month") => Slicing::Month,
            Some("quarter") => Slicing::Quarter,
            Some(other) => return Err(bad("slice", format!("'{other}' is not month or quarter"))),
        };
        let method = match self.method.as_deref().map(str::trim) {
            None | Some("gistar") => Method::GiStar,
            Some("moran") => Method::Moran,
            Some("emerging") => Method::Emerging(slicing),
            Some(other) => {
                return Err(bad(
                    "method",
                    format!("'{other}' is not gistar, moran or emerging"),
                ))
            }
        };
        if self.slice.is_some() && !matches!(method, Method::Emerging(_)) {
            return Err(bad("slice", "time slices belong to method=emerging"));
        }
        let permutations = number(
            "permutations",
            self.permutations.as_deref(),
            DEFAULT_PERMUTATIONS,
            0..=MAX_PERMUTATIONS,
        )?;
        if method == Method::Moran && permutations == 0 {
            return Err(bad(
                "permutations",
                "local Moran's I needs at least 1 for its significance",
            ));
        }
        let fdr = match self.fdr.as_deref().map(str::trim) {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => return Err(bad("fdr", format!("'{other}' is not true or false"))),
        };
        let inference = match self.inference.as_deref().map(str::trim) {
            None | Some("exact") => Inference::Exact,
            Some("normal") => Inference::Normal,
            Some(other) => {
                return Err(bad(
                    "inference",
                    format!("'{other}' is not exact or normal"),
                ))
            }
        };
        Ok(HotspotRequest {
            resolution,
            filter: EventFilter {
                from,
                until,
                categories: vocabulary_list::<DisputeCategory>(
                    "category",
                    self.category.as_deref(),
                    |c| c.token(),
                )?,
                channels: vocabulary_list::<DisputeChannel>(
                    "channel",
                    self.channel.as_deref(),
                    |c| c.token(),
                )?,
            },
            method,
            permutations,
            seed: number("seed", self.seed.as_deref(), DEFAULT_SEED, 0..=u64::MAX)?,
            k: number("k", self.k.as_deref(), 1, 1..=MAX_RING)?,
            fdr,
            inference,
            max_work: Some(MAX_WORK),
        })
    }
}

/// A dispute feature as an event: its point, the day it was opened (midnight UTC), its
/// category and channel. `None` for a feature without them.
pub fn dispute_event(f: &Feature) -> Option<DisputeEvent> {
    let Some(Geometry::Point(p)) = &f.geometry else {
        return None;
    };
    Some(DisputeEvent {
        lon: p.x(),
        lat: p.y(),
        time: midnight(f.get("opened_on")?.as_date()?),
        category: f.text("category")?.to_owned(),
        channel: f.text("channel")?.to_owned(),
    })
}

/// The parameter at fault when a request could not be analysed; `None` when none is (the
/// data, not the request: not expected, as the index holds validated disputes).
pub fn analysis_error(e: &AnalysisError) -> Option<ParamError> {
    let name = match e {
        AnalysisError::TooFewSlices(_) => {
            return Some(bad("from", format!("{e}: widen 'from' and 'to'")));
        }
        // A window of too many slices, before any cell was counted.
        AnalysisError::TooMuchWork { cells: 0, .. } => "from",
        AnalysisError::TooMuchWork { permutations, .. }
            if *permutations <= DEFAULT_PERMUTATIONS =>
        {
            "res"
        }
        AnalysisError::TooMuchWork { .. } | AnalysisError::MoranWithoutPermutations => {
            "permutations"
        }
        AnalysisError::Ring => "k",
        AnalysisError::Bin(_)
        | AnalysisError::Weights(_)
        | AnalysisError::Stats(_)
        | AnalysisError::RegionCount { .. } => return None,
    };
    Some(bad(name, e.to_string()))
}

/// [`analysis_error`] as an answer.
fn answer(e: &AnalysisError) -> ApiError {
    analysis_error(e).map_or_else(|| ApiError::Internal(e.to_string()), ApiError::from)
}

fn bin_token(b: GiBin) -> &'static str {
    match b {
        GiBin::Hot99 => "hot_99",
        GiBin::Hot95 => "hot_95",
        GiBin::Hot90 => "hot_90",
        GiBin::NotSignificant => "not_significant",
        GiBin::Cold90 => "cold_90",
        GiBin::Cold95 => "cold_95",
        GiBin::Cold99 => "cold_99",
    }
}

/// The stable token of an emerging category (`new_hot`, …, `no_pattern`).
pub fn emerging_token(c: EmergingCategory) -> &'static str {
    use EmergingCategory as E;
    match c {
        E::NoPattern => "no_pattern",
        E::NewHot => "new_hot",
        E::ConsecutiveHot => "consecutive_hot",
        E::IntensifyingHot => "intensifying_hot",
        E::PersistentHot => "persistent_hot",
        E::DiminishingHot => "diminishing_hot",
        E::SporadicHot => "sporadic_hot",
        E::OscillatingHot => "oscillating_hot",
        E::HistoricalHot => "historical_hot",
        E::NewCold => "new_cold",
        E::ConsecutiveCold => "consecutive_cold",
        E::IntensifyingCold => "intensifying_cold",
        E::PersistentCold => "persistent_cold",
        E::DiminishingCold => "diminishing_cold",
        E::SporadicCold => "sporadic_cold",
        E::OscillatingCold => "oscillating_cold",
        E::HistoricalCold => "historical_cold",
    }
}

fn method_token(m: Method) -> &'static str {
    match m {
        Method::GiStar => "gistar",
        Method::Moran => "moran",
        Method::Emerging(_) => "emerging",
    }
}

/// A real number, or nothing when it is not finite (JSON and tiles have no NaN).
fn real(v: f64) -> Option<Value> {
    v.is_finite().then_some(Value::Real(v))
}

/// A cell's properties, in order, for GeoJSON and tiles (`None`: not a number).
pub fn cell_properties(c: &CellStats) -> Vec<(&'static str, Option<Value>)> {
    let mut out = vec![
        ("cell", Some(Value::Text(c.cell.to_string()))),
        ("count", Some(Value::Integer(c.count as i64))),
        ("z", real(c.z)),
        ("p", real(c.p)),
        ("p_exact", real(c.p_exact)),
    ];
    if let Some(p) = c.p_sim {
        out.push(("p_sim", real(p)));
    }
    out.push(("gi_bin", Some(Value::Integer(i64::from(c.bin.code())))));
    out.push(("class", Some(Value::Text(bin_token(c.bin).into()))));
    if let Some(m) = &c.moran {
        out.extend([
            ("moran_i", real(m.i)),
            ("moran_p_sim", real(m.p_sim)),
            (
                "quadrant",
                Some(Value::Text(
                    gridgov_hotspot::analysis::quadrant_label(m.quadrant).into(),
                )),
            ),
            ("moran_significant", Some(Value::Bool(m.significant))),
            ("cluster", Some(Value::Text(m.label().into()))),
        ]);
    }
    if let Some(e) = &c.emerging {
        let states: String = e
            .states
            .iter()
            .map(|s| match s {
                SpotState::Hot => 'H',
                SpotState::Cold => 'C',
                SpotState::NotSignificant => '.',
            })
            .collect();
        let count = |s: SpotState| e.states.iter().filter(|&&x| x == s).count() as i64;
        out.extend([
            (
                "pattern",
                Some(Value::Text(emerging_token(e.category).into())),
            ),
            (
                "pattern_label",
                Some(Value::Text(e.category.label().into())),
            ),
            ("trend_z", real(e.trend.z)),
            ("trend_p", real(e.trend.p)),
            ("hot_slices", Some(Value::Integer(count(SpotState::Hot)))),
            ("cold_slices", Some(Value::Integer(count(SpotState::Cold)))),
            ("states", Some(Value::Text(states))),
        ]);
    }
    out
}

/// What a map was made from and how, for the answers' `analysis` member.
pub fn summary(map: &Hotspots) -> J {
    let r = &map.request;
    let list = |s: &Option<BTreeSet<String>>| s.as_ref().map(|s| json!(s));
    let count = |f: &dyn Fn(&CellStats) -> bool| map.cells.iter().filter(|c| f(c)).count();
    json!({
        "resolution": r.resolution,
        "method": method_token(r.method),
        "slice": match r.method {
            Method::Emerging(Slicing::Month) => Some("month"),
            Method::Emerging(Slicing::Quarter) => Some("quarter"),
            _ => None,
        },
        "from": r.filter.from.map(|t| t.to_rfc3339()),
        "until": r.filter.until.map(|t| t.to_rfc3339()),
        "categories": list(&r.filter.categories),
        "channels": list(&r.filter.channels),
        "permutations": r.permutations,
        "seed": r.seed,
        "k": r.k,
        "fdr": r.fdr,
        "inference": match r.inference { Inference::Exact => "exact", Inference::Normal => "normal" },
        "events": map.events,
        "cells": map.cells.len(),
        "hot_cells": count(&|c| c.bin.code() >= GiBin::Hot95.code()),
        "cold_cells": count(&|c| c.bin.code() <= GiBin::Cold95.code()),
        "slices": map.slices.iter().map(|s| json!({
            "from": s.from.to_rfc3339(),
            "until": s.until.to_rfc3339(),
        })).collect::<Vec<_>>(),
    })
}

/// The map as a GeoJSON `FeatureCollection`: one `Polygon` per cell of the study area (id: the
/// H3 index), the statistics as properties ([`cell_properties`]), and what it was made from
/// in the foreign member `analysis` ([`summary`]).
pub fn feature_collection(map: &Hotspots) -> J {
    let features: Vec<J> = map
        .cells
        .iter()
        .map(|c| {
            let ring: Vec<[f64; 2]> = cell_polygon(c.cell)
                .exterior()
                .coords()
                .map(|p| [p.x, p.y])
                .collect();
            let properties: Map<String, J> = cell_properties(c)
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.map_or(J::Null, |v| v.to_json())))
                .collect();
            json!({
                "type": "Feature",
                "id": c.cell.to_string(),
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": properties,
            })
        })
        .collect();
    json!({
        "type": "FeatureCollection",
        "features": features,
        "analysis": summary(map),
    })
}

/// A computed map, with each cell's polygon and box for tiles.
#[derive(Debug)]
struct Computed {
    map: Hotspots,
    polygons: Vec<(Rect<f64>, Geometry<f64>)>,
}

type Slot = Arc<tokio::sync::OnceCell<Arc<Computed>>>;

/// The process-wide cache of maps (see the module documentation), most recent first.
fn cache() -> &'static Mutex<VecDeque<(u128, Slot)>> {
    static CACHE: OnceLock<Mutex<VecDeque<(u128, Slot)>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The key of a map: the request and every counted event.
fn key(request: &HotspotRequest, events: &[DisputeEvent]) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(format!("{request:?}").as_bytes());
    for e in events {
        h.update(&e.lon.to_bits().to_le_bytes());
        h.update(&e.lat.to_bits().to_le_bytes());
        h.update(&e.time.timestamp_micros().to_le_bytes());
        h.update(e.category.as_bytes());
        h.update(&[0]);
        h.update(e.channel.as_bytes());
        h.update(&[0]);
    }
    h.digest128()
}

/// The map of `events` (already filtered), from the cache or computed once.
async fn computed(
    request: HotspotRequest,
    events: Vec<DisputeEvent>,
) -> Result<Arc<Computed>, ApiError> {
    let key = key(&request, &events);
    let slot = {
        let mut c = cache()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(i) = c.iter().position(|(k, _)| *k == key) {
            let hit = c.remove(i).map(|(_, s)| s).unwrap_or_default();
            c.push_front((key, hit.clone()));
            hit
        } else {
            let slot = Slot::default();
            c.push_front((key, slot.clone()));
            // Bounded by maps and by cells (an unfinished map counts as none yet).
            let cells = |c: &VecDeque<(u128, Slot)>| -> usize {
                c.iter()
                    .filter_map(|(_, s)| s.get().map(|m| m.map.cells.len()))
                    .sum()
            };
            while c.len() > CACHED_MAPS || (c.len() > 1 && cells(&c) > CACHED_CELLS) {
                c.pop_back();
            }
            slot
        }
    };
    slot.get_or_try_init(|| async move {
        tokio::task::spawn_blocking(move || {
            let map = analyse(&events, &request).map_err(|e| answer(&e))?;
            let polygons = map
                .cells
                .iter()
                .map(|c| {
                    let p = cell_polygon(c.cell);
                    let rect = p.bounding_rect().unwrap_or_else(|| {
                        let ll = h3o::LatLng::from(c.cell);
                        Rect::new(
                            Coord {
                                x: ll.lng(),
                                y: ll.lat(),
                            },
                            Coord {
                                x: ll.lng(),
                                y: ll.lat(),
                            },
                        )
                    });
                    (rect, Geometry::Polygon(p))
                })
                .collect();
            Ok::<_, ApiError>(Arc::new(Computed { map, polygons }))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("hotspot task: {e}")))?
    })
    .await
    .cloned()
}

/// Which regions `/api/v1/hotspots/regions` sums by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegionKind {
    Village,
    Grid,
}

/// One readable dispute: its event, and what the region summary needs.
struct Read {
    event: DisputeEvent,
    region: Option<String>,
    level: Option<String>,
    finished: bool,
}

/// The disputes the user may read that the request's filter keeps (from the live index).
fn read_disputes(
    index: &CountyIndex,
    access: &Access,
    filter: &EventFilter,
    by: Option<RegionKind>,
) -> Vec<Read> {
    let Some(layer) = index.layer(Layer::Disputes) else {
        return Vec::new();
    };
    layer
        .features()
        .filter(|f| access.admits(f))
        .filter_map(|f| {
            let event = dispute_event(f)?;
            if !filter.accepts(&event) {
                return None;
            }
            let region = match by {
                None => None,
                Some(RegionKind::Village) => Some(f.division.to_string()),
                Some(RegionKind::Grid) => f
                    .text("grid_code")
                    .map(str::to_owned)
                    .or_else(|| grid_of(index, f, &event)),
            };
            Some(Read {
                event,
                region,
                level: f.text("level").map(str::to_owned),
                finished: f
                    .text("status")
                    .and_then(|s| s.parse::<DisputeStatus>().ok())
                    .is_some_and(DisputeStatus::is_finished),
            })
        })
        .collect()
}

/// The grid of the plan in force holding a dispute's point: of the dispute's own village
/// first (a point on the border of two villages' grids is the owner's), else any.
fn grid_of(index: &CountyIndex, f: &Feature, event: &DisputeEvent) -> Option<String> {
    let point = Coord {
        x: event.lon,
        y: event.lat,
    };
    index
        .layer(Layer::Grids)?
        .containing_where(point, |g| {
            g.division == f.division && index.is_effective_grid(g)
        })
        .or_else(|| index.grid_at(point))
        .and_then(|g| g.text("code"))
        .map(str::to_owned)
}

/// The user's rights, refusing a role that does not read disputes, and the parsed request.
fn prepare(
    state: &AppState,
    who: &Principal,
    params: &HotspotParams,
) -> Result<(Access, HotspotRequest), ApiError> {
    let access = Access::of(who, state)?;
    access.read(Layer::Disputes)?;
    Ok((access, params.request()?))
}

/// The map for this user and request, and the disputes it was made from.
async fn map_for(
    state: &AppState,
    access: &Access,
    request: HotspotRequest,
    by: Option<RegionKind>,
) -> Result<(Arc<Computed>, Vec<Read>), ApiError> {
    let read = {
        let index = state.index.read();
        read_disputes(&index, access, &request.filter, by)
    };
    let events = read.iter().map(|r| r.event.clone()).collect();
    Ok((computed(request, events).await?, read))
}

/// `GET /api/v1/hotspots`: the hotspot map as GeoJSON.
#[utoipa::path(get, path = "/api/v1/hotspots", tag = "hotspots",
    params(HotspotParams),
    responses(
        (status = 200, description = "A FeatureCollection of H3 cell polygons (the study area: the cells of the user's disputes and the ring around them), each with `cell`, `count`, `z` (Gi*), `p` (normal, two-sided), `p_exact` (exact, two-sided), `p_sim` (gistar), `gi_bin` (-3..3) and `class` (`hot_99` … `cold_99`); with `moran`: `moran_i`, `moran_p_sim`, `quadrant`, `moran_significant`, `cluster` (`HH`, `LL`, `HL`, `LH` or `ns`); with `emerging`: `pattern`, `pattern_label`, `trend_z`, `trend_p`, `hot_slices`, `cold_slices`, `states`. The member `analysis` says what the map was made from", content_type = "application/geo+json", body = Object),
        (status = 400, description = "A bad parameter (named), or a map too large to compute", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The role does not read disputes", content_type = "application/problem+json", body = Problem)))]
async fn geojson(
    State(state): State<AppState>,
    who: Principal,
    QueryParams(params): QueryParams<HotspotParams>,
) -> Result<Response, ApiError> {
    let (access, request) = prepare(&state, &who, &params)?;
    let (computed, _) = map_for(&state, &access, request, None).await?;
    let body = feature_collection(&computed.map).to_string();
    Ok(([(header::CONTENT_TYPE, "application/geo+json")], body).into_response())
}

/// `GET /api/v1/hotspots/tiles/{z}/{x}/{y}.mvt`: the map as a vector-tile layer.
#[utoipa::path(get, path = "/api/v1/hotspots/tiles/{z}/{x}/{y}", tag = "hotspots",
    params(
        ("z" = u8, Path, description = "Zoom, 0 to 22"),
        ("x" = u32, Path, description = "Column, 0 to 2^z - 1"),
        ("y" = String, Path, description = "Row (XYZ scheme) followed by `.mvt`"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag`: 304 while the tile is unchanged"),
        HotspotParams),
    responses(
        (status = 200, description = "A Mapbox Vector Tile with the layer `hotspots`: the cells of `/api/v1/hotspots` that reach into the tile, with the same properties (numbers that are not finite left out); empty body: none. `ETag`, `Cache-Control: no-cache`", content_type = "application/vnd.mapbox-vector-tile", body = Vec<u8>),
        (status = 304, description = "Unchanged since the `If-None-Match` tag"),
        (status = 400, description = "A bad parameter (named) or tile address", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The role does not read disputes", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Not `.mvt`", content_type = "application/problem+json", body = Problem)))]
async fn tile(
    State(state): State<AppState>,
    who: Principal,
    Path((z, x, y)): Path<(String, String, String)>,
    QueryParams(params): QueryParams<HotspotParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(y) = y.strip_suffix(".mvt") else {
        return Err(ApiError::NotFound(format!(
            "tile '{z}/{x}/{y}': hotspot tiles end in .mvt"
        )));
    };
    let id: TileId = format!("{z}/{x}/{y}")
        .parse()
        .map_err(|e: gridgov_tiles::TileError| ApiError::BadRequest(e.to_string()))?;
    let (access, request) = prepare(&state, &who, &params)?;
    let (computed, _) = map_for(&state, &access, request, None).await?;
    let bytes = tokio::task::spawn_blocking(move || encode_tile(&computed, id))
        .await
        .map_err(|e| ApiError::Internal(format!("tile task: {e}")))??;
    let etag = HeaderValue::from_str(&format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&bytes)))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let common = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        ),
    ];
    let matches = headers.get_all(header::IF_NONE_MATCH).iter().any(|v| {
        v.as_bytes().split(|b| *b == b',').any(|t| {
            let t = t.trim_ascii();
            let t = t.strip_prefix(b"W/").unwrap_or(t);
            t == b"*" || t == etag.as_bytes()
        })
    });
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok((
        common,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(MVT_CONTENT_TYPE),
        )],
        bytes,
    )
        .into_response())
}

fn encode_tile(computed: &Computed, id: TileId) -> Result<Vec<u8>, ApiError> {
    let area = search_area(id);
    let features = computed
        .map
        .cells
        .iter()
        .zip(&computed.polygons)
        .filter(|(_, (rect, _))| rect.intersects(&area))
        .map(|(c, (_, geometry))| ComputedFeature {
            id: Some(u64::from(c.cell)),
            geometry,
            attributes: cell_properties(c)
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect(),
        });
    let mut builder = TileBuilder::new(id);
    builder
        .add_computed_layer(TILE_LAYER, features)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(builder.finish())
}

/// Query parameters of `/api/v1/hotspots/regions` beyond the map's.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionParams {
    /// `village` (default: the disputes' owning division) or `grid` (the dispute's
    /// `grid_code`, else the grid of the plan in force that holds its point, one of its own
    /// village's first).
    pub by: Option<String>,
}

/// `GET /api/v1/hotspots/regions?by=village|grid`: the map summed per region, beside the
/// escalation figures of the same disputes.
#[utoipa::path(get, path = "/api/v1/hotspots/regions", tag = "hotspots",
    params(RegionParams, HotspotParams),
    responses(
        (status = 200, description = "`{by, analysis, regions: [{code, name, cases, cells, hot_cells, cold_cells, cases_in_hot_cells, share_in_hot_cells, mean_z, max_z, high_high_cells, emerging: {pattern: cells}, escalation: {village, township, county, escalated, escalated_share, open}}], unassigned}`: per region of the user's disputes, hot and cold cells at 95 % or more among the cells holding its disputes, and how its disputes were escalated", body = Object),
        (status = 400, description = "A bad parameter (named)", content_type = "application/problem+json", body = Problem),
        (status = 403, description = "The role does not read disputes", content_type = "application/problem+json", body = Problem)))]
async fn regions(
    State(state): State<AppState>,
    who: Principal,
    QueryParams(by): QueryParams<RegionParams>,
    QueryParams(params): QueryParams<HotspotParams>,
) -> Result<Response, ApiError> {
    let kind = match by.by.as_deref().map(str::trim) {
        None | Some("village") => RegionKind::Village,
        Some("grid") => RegionKind::Grid,
        Some(other) => {
            return Err(bad("by", format!("'{other}' is not village or grid")).into());
        }
    };
    let (access, request) = prepare(&state, &who, &params)?;
    let (computed, read) = map_for(&state, &access, request, Some(kind)).await?;
    let events: Vec<DisputeEvent> = read.iter().map(|r| r.event.clone()).collect();
    let codes: Vec<Option<String>> = read.iter().map(|r| r.region.clone()).collect();
    let summaries = summarise_regions(&events, &codes, &computed.map)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    // Escalation of the same disputes, per region.
    let mut escalation: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    for r in &read {
        let Some(code) = r.region.as_deref() else {
            continue;
        };
        let e = escalation.entry(code).or_default();
        match r.level.as_deref() {
            Some("village") => e[0] += 1,
            Some("township") => e[1] += 1,
            Some("county") => e[2] += 1,
            _ => {}
        }
        if !r.finished {
            e[3] += 1;
        }
    }
    let names = region_names(&state, kind);
    let list: Vec<J> = summaries
        .iter()
        .map(|s| {
            let [village, township, county, open] = escalation
                .get(s.region.as_str())
                .copied()
                .unwrap_or_default();
            let escalated = township + county;
            let share = |a: u64, b: u64| {
                if b == 0 {
                    J::Null
                } else {
                    json!(a as f64 / b as f64)
                }
            };
            let finite = |v: f64| if v.is_finite() { json!(v) } else { J::Null };
            json!({
                "code": s.region,
                "name": names.get(&s.region),
                "cases": s.cases,
                "cells": s.cells,
                "hot_cells": s.hot_cells,
                "cold_cells": s.cold_cells,
                "cases_in_hot_cells": s.cases_in_hot_cells,
                "share_in_hot_cells": share(s.cases_in_hot_cells, s.cases),
                "mean_z": finite(s.mean_z),
                "max_z": finite(s.max_z),
                "high_high_cells": s.high_high_cells,
                "emerging": s.emerging.iter()
                    .map(|(c, n)| (emerging_token(*c).to_owned(), json!(n)))
                    .collect::<Map<String, J>>(),
                "escalation": {
                    "village": village,
                    "township": township,
                    "county": county,
                    "escalated": escalated,
                    "escalated_share": share(escalated, village + escalated),
                    "open": open,
                },
            })
        })
        .collect();
    let unassigned = read.iter().filter(|r| r.region.is_none()).count();
    let body = json!({
        "by": match kind { RegionKind::Village => "village", RegionKind::Grid => "grid" },
        "analysis": summary(&computed.map),
        "regions": list,
        "unassigned": unassigned,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}

/// Region code → name: villages (and townships, for disputes a township owns) or the
/// grids of the plan in force.
fn region_names(state: &AppState, kind: RegionKind) -> BTreeMap<String, String> {
    let index = state.index.read();
    let named = |layer: Layer, effective: bool| -> Vec<(String, String)> {
        index.layer(layer).map_or_else(Vec::new, |l| {
            l.features()
                .filter(|f| !effective || index.is_effective_grid(f))
                .filter_map(|f| Some((f.text("code")?.to_owned(), f.text("name")?.to_owned())))
                .collect()
        })
    };
    match kind {
        RegionKind::Village => named(Layer::Townships, false)
            .into_iter()
            .chain(named(Layer::Villages, false))
            .collect(),
        RegionKind::Grid => named(Layer::Grids, true).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HotspotParams {
        let query: String = pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        // As axum's `Query` reads them.
        let uri: axum::http::Uri = format!("/?{query}").parse().unwrap();
        axum::extract::Query::<HotspotParams>::try_from_uri(&uri)
            .unwrap()
            .0
    }

    #[test]
    fn defaults_and_windows() {
        let r = params(&[]).request().unwrap();
        assert_eq!(r.resolution, 8);
        assert_eq!(r.method, Method::GiStar);
        assert_eq!((r.permutations, r.seed, r.k, r.fdr), (999, 12_345, 1, true));
        let r = params(&[("from", "2025-01"), ("to", "2026-12")])
            .request()
            .unwrap();
        assert_eq!(
            r.filter.from,
            Some(midnight(NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()))
        );
        assert_eq!(
            r.filter.until,
            Some(midnight(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()))
        );
        let r = params(&[("from", "2025-01-15"), ("to", "2025-01-15")])
            .request()
            .unwrap();
        assert_eq!(
            r.filter.until,
            Some(midnight(NaiveDate::from_ymd_opt(2025, 1, 16).unwrap()))
        );
        // The Chinese term of a category is accepted and stored as its token.
        let r = HotspotParams {
            category: Some("劳动争议, wage_arrears".into()),
            method: Some("emerging".into()),
            slice: Some("quarter".into()),
            ..HotspotParams::default()
        }
        .request()
        .unwrap();
        assert_eq!(r.method, Method::Emerging(Slicing::Quarter));
        assert_eq!(
            r.filter.categories.unwrap().into_iter().collect::<Vec<_>>(),
            ["labour", "wage_arrears"]
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        for (pairs, name) in [
            (vec![("res", "11")], "res"),
            (vec![("res", "x")], "res"),
            (vec![("from", "2025")], "from"),
            (vec![("from", "2025-13")], "from"),
            (vec![("to", "2025-02-30")], "to"),
            (vec![("from", "2025-03"), ("to", "2025-02")], "to"),
            (vec![("category", "nonsense")], "category"),
            (vec![("category", ",")], "category"),
            (vec![("channel", "email")], "channel"),
            (vec![("method", "kriging")], "method"),
            (vec![("slice", "week"), ("method", "emerging")], "slice"),
            (vec![("slice", "month")], "slice"),
            (vec![("permutations", "10000")], "permutations"),
            (vec![("permutations", "-1")], "permutations"),
            (
                vec![("method", "moran"), ("permutations", "0")],
                "permutations",
            ),
            (vec![("seed", "1.5")], "seed"),
            (vec![("k", "0")], "k"),
            (vec![("k", "4")], "k"),
            (vec![("fdr", "yes")], "fdr"),
            (vec![("inference", "bayes")], "inference"),
        ] {
            let e = params(&pairs).request().unwrap_err();
            assert_eq!(e.name, name, "{pairs:?}: {e}");
            assert!(e.to_string().starts_with(&format!("parameter '{name}': ")));
        }
    }
}
