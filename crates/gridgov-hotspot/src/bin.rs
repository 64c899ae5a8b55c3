//! Binning dispute events into H3 cells, and the study area around them.
//!
//! [`bin_events`] counts the events that pass an [`EventFilter`] per H3 cell at
//! resolution 6 to 10 (about 36 km² down to 0.015 km² per cell). The time window of the
//! filter is half-open: `from` is inclusive, `until` exclusive, so consecutive windows
//! `[a, b)`, `[b, c)` count every event exactly once. Category and channel filters are
//! exact, case-sensitive matches against a set; an empty set or `None` lets everything
//! through.
//!
//! The statistics need the cells with zero events too: [`study_area`] gives every cell
//! within grid distance `k` of the observed ones, and [`values_on`] lays counts onto such a
//! list of cells (zero where nothing was counted).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use h3o::{CellIndex, LatLng, Resolution};
use thiserror::Error;

/// The finest and coarsest H3 resolutions accepted for hotspot maps.
pub const RESOLUTIONS: std::ops::RangeInclusive<u8> = 6..=10;

/// A problem binning events.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum BinError {
    /// The resolution is outside [`RESOLUTIONS`].
    #[error("H3 resolution {0} is outside 6..=10")]
    Resolution(u8),
    /// An event's coordinates are not a WGS84 longitude/latitude.
    #[error("event {index}: ({lon}, {lat}) is not a valid WGS84 longitude/latitude")]
    Coordinates {
        /// Position of the event in the input.
        index: usize,
        /// Its longitude.
        lon: f64,
        /// Its latitude.
        lat: f64,
    },
    /// The cells of a study area mix resolutions.
    #[error("cells mix H3 resolutions {0} and {1}")]
    MixedResolutions(u8, u8),
}

/// One dispute (or any event) to be counted.
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeEvent {
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// When it was reported.
    pub time: DateTime<Utc>,
    /// Its category (e.g. `"land"`, `"neighbour"`).
    pub category: String,
    /// The channel it came through (e.g. `"hotline"`, `"app"`).
    pub channel: String,
}

/// Which events to count. The default counts everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Earliest time counted, inclusive.
    pub from: Option<DateTime<Utc>>,
    /// First time no longer counted, exclusive.
    pub until: Option<DateTime<Utc>>,
    /// Categories counted; `None` or empty counts all.
    pub categories: Option<BTreeSet<String>>,
    /// Channels counted; `None` or empty counts all.
    pub channels: Option<BTreeSet<String>>,
}

impl EventFilter {
    /// Whether `event` passes the filter.
    pub fn accepts(&self, event: &DisputeEvent) -> bool {
        let in_set = |set: &Option<BTreeSet<String>>, v: &str| match set {
            Some(s) if !s.is_empty() => s.contains(v),
            _ => true,
        };
        self.from.is_none_or(|from| event.time >= from)
            && self.until.is_none_or(|until| event.time < until)
            && in_set(&self.categories, &event.category)
            && in_set(&self.channels, &event.channel)
    }
}

/// Checks that `resolution` is in [`RESOLUTIONS`] and converts it.
pub fn resolution(resolution: u8) -> Result<Resolution, BinError> {
    if !RESOLUTIONS.contains(&resolution) {
        return Err(BinError::Resolution(resolution));
    }
    Resolution::try_from(resolution).map_err(|_| BinError::Resolution(resolution))
}

/// Counts the events passing `filter` per H3 cell at `resolution` (6..=10), in cell order.
///
/// Every event's coordinates are checked, filtered out or not, so bad data is never
/// silently dropped.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use gridgov_hotspot::bin::{bin_events, DisputeEvent, EventFilter};
///
/// let e = DisputeEvent {
///     lon: 116.39, lat: 39.91,
///     time: Utc.with_ymd_and_hms(2024, 5, 1, 8, 0, 0).unwrap(),
///     category: "land".into(), channel: "hotline".into(),
/// };
/// let counts = bin_events(&[e.clone(), e], 8, &EventFilter::default()).unwrap();
/// assert_eq!(counts.values().copied().collect::<Vec<_>>(), vec![2]);
/// ```
pub fn bin_events(
    events: &[DisputeEvent],
    resolution: u8,
    filter: &EventFilter,
) -> Result<BTreeMap<CellIndex, u64>, BinError> {
    let res = self::resolution(resolution)?;
    let mut counts = BTreeMap::new();
    for (index, event) in events.iter().enumerate() {
        let bad = || BinError::Coordinates {
            index,
            lon: event.lon,
            lat: event.lat,
        };
        if !(-180.0..=180.0).contains(&event.lon) || !(-90.0..=90.0).contains(&event.lat) {
            return Err(bad());
        }
        let ll = LatLng::new(event.lat, event.lon).map_err(|_| bad())?;
        if filter.accepts(event) {
            *counts.entry(ll.to_cell(res)).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// Every cell within grid distance `k` of an observed cell, sorted and distinct: the study
/// area over which zero-count cells take part in the statistics.
pub fn study_area<I>(observed: I, k: u32) -> Result<Vec<CellIndex>, BinError>
where
    I: IntoIterator<Item = CellIndex>,
{
    let mut out = BTreeSet::new();
    let mut first_res: Option<Resolution> = None;
    for cell in observed {
        let r = cell.resolution();
        match first_res {
            None => first_res = Some(r),
            Some(f) if f != r => return Err(BinError::MixedResolutions(u8::from(f), u8::from(r))),
            Some(_) => {}
        }
        out.extend(cell.grid_disk::<Vec<_>>(k));
    }
    Ok(out.into_iter().collect())
}

/// The counts of `cells`, in their order, as `f64` (zero for cells without a count).
pub fn values_on(cells: &[CellIndex], counts: &BTreeMap<CellIndex, u64>) -> Vec<f64> {
    cells
        .iter()
        .map(|c| counts.get(c).map_or(0.0, |&v| v as f64))
        .collect()
}
