//! One entry point from dispute events to a hotspot map: [`analyse`], and the same map
//! summed per region (grid, village) by [`summarise_regions`].
//!
//! # What is computed
//!
//! The events passing the request's [`EventFilter`] are counted per H3 cell at the request's
//! resolution ([`crate::bin::bin_events`]). Then, over the study area (below), with binary
//! H3 k-ring weights (`k = 1`: the six neighbours):
//!
//! - **Gi\*** always: the local Getis-Ord Gi\* z-score with its two-sided normal p-value,
//!   the exact two-sided p-value of the neighbourhood's count ([`crate::count_tail`]), and
//!   the ArcGIS `Gi_Bin` class −3..=3 at 90/95/99 % ([`crate::classify::gi_bins`]), each
//!   level with its own Benjamini–Hochberg threshold when `fdr` is on. Weights are binary
//!   (ArcGIS's fixed neighbourhoods; esda's row-standardised Gi\* divides the z-scores by
//!   about `sqrt(k_i + 1)`, see [`crate::getis_ord`]). With [`Method::GiStar`] the seeded
//!   permutation pseudo p-value comes too.
//!
//!   Which p-value classifies ([`Inference`]): by default the exact one. ArcGIS classifies
//!   by the normal p-value, but dispute counts per cell are small and skewed, and the
//!   normal tail is then far too thin: on the demo county at resolution 8, 2,441 disputes
//!   scattered uniformly gave FDR-corrected "hot spots at 95 %" in 7 of 20 seeds, where BH
//!   allows about 1 (`tests/demo_county.rs`). [`Inference::Normal`] is kept for comparing
//!   with ArcGIS. Pseudo p-values are reported, not classified: with thousands of cells BH
//!   asks for p-values far below what 999 permutations can show (`1/1000`).
//! - [`Method::Moran`]: local Moran's I (row-standardised, as esda and `GeoDa`), its
//!   quadrant, its pseudo p-value, and whether it is significant: `p_sim < 0.05`, or with
//!   `fdr` at or below the BH threshold of the pseudo p-values at 0.05.
//! - [`Method::Emerging`]: the events split into calendar months or quarters (UTC) over the
//!   filter's window (or, without one, from the first event's slice to the last event), Gi\*
//!   per slice on the same cells and weights, a Mann-Kendall trend of each cell's z-scores
//!   and ArcGIS's emerging categories ([`crate::emerging`], alpha 0.05, BH per slice when
//!   `fdr` is on).
//!
//! # Study area
//!
//! The cells holding at least one counted event, plus every cell within grid distance `k`
//! of them, zero-filled ([`crate::bin::study_area`] with the weights' own `k`). So every
//! observed cell has its whole neighbourhood in the analysis (no edge effect where events
//! are), and the zeros around events take part as "low" values, while empty country far
//! from any event (mountains, water, other counties) does not dilute the mean. This sits
//! between ArcGIS's default for aggregated incidents (only cells with incidents) and a
//! fixed boundary (every cell of the county, most of them empty in a rural county, which
//! would make any busy hamlet look hot). The area follows the events the filter keeps: a
//! narrower window or category gives a smaller area. For the emerging analysis the study
//! area is that of the whole window, the same cells in every slice.
//!
//! # Determinism
//!
//! The result depends only on the events (in any order), the request and the seed.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use geo::{Coord, LineString, Polygon};
use h3o::{CellIndex, LatLng};
use thiserror::Error;

use crate::bin::{
    bin_events, resolution, study_area, values_on, BinError, DisputeEvent, EventFilter,
};
use crate::classify::{gi_bins, GiBin};
use crate::emerging::{classify_emerging, EmergingCategory, SpotState};
use crate::error::StatsError;
use crate::fdr::{fdr_significant, fdr_threshold};
use crate::getis_ord::{local_g, LocalGOptions};
use crate::mann_kendall::{mann_kendall, MannKendall};
use crate::moran::{moran_local, LocalMoranOptions, Quadrant};
use crate::weights::{SpatialWeights, Transform, WeightsError};

/// The default number of permutations (esda's and ArcGIS's 999).
pub const DEFAULT_PERMUTATIONS: usize = 999;

/// The default seed of the permutations.
pub const DEFAULT_SEED: u64 = 12_345;

/// The significance level of local Moran clusters and emerging spots per slice.
pub const ALPHA: f64 = 0.05;

/// How the emerging hot spot analysis cuts time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slicing {
    /// Calendar months (UTC).
    Month,
    /// Calendar quarters (UTC): January, April, July, October.
    Quarter,
}

impl Slicing {
    fn months(self) -> u32 {
        match self {
            Self::Month => 1,
            Self::Quarter => 3,
        }
    }

    /// The first day of the slice holding `day`.
    fn start_of(self, day: NaiveDate) -> NaiveDate {
        let m0 = day.month0() / self.months() * self.months();
        NaiveDate::from_ymd_opt(day.year(), m0 + 1, 1).unwrap_or(day)
    }
}

/// Which statistic the map shows (Gi\* is computed for every method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Getis-Ord Gi\* hot and cold spots.
    GiStar,
    /// Local Moran's I clusters and outliers.
    Moran,
    /// Emerging hot spots over time slices.
    Emerging(Slicing),
}

/// Which p-values decide the hot and cold classes of Gi\*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Inference {
    /// The exact randomisation tails of each neighbourhood's count ([`crate::count_tail`]):
    /// valid for sparse counts, where the normal approximation is not.
    #[default]
    Exact,
    /// The normal p-value of the z-score, as ArcGIS's Hot Spot Analysis (for comparisons;
    /// anti-conservative when cells hold few events).
    Normal,
}

/// What to analyse and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotspotRequest {
    /// H3 resolution, 6..=10.
    pub resolution: u8,
    /// Which events count (time window `[from, until)`, categories, channels).
    pub filter: EventFilter,
    /// The statistic.
    pub method: Method,
    /// Permutations for pseudo p-values (Gi\* with [`Method::GiStar`], local Moran's I with
    /// [`Method::Moran`], which needs at least one); 0 skips them.
    pub permutations: usize,
    /// Seed of the permutations.
    pub seed: u64,
    /// Neighbourhood: cells within grid distance `1..=k` (at least 1).
    pub k: u32,
    /// Benjamini–Hochberg correction of the classes.
    pub fdr: bool,
    /// Which p-values classify Gi\* (and the emerging analysis's slices).
    pub inference: Inference,
    /// The most work allowed, in cell evaluations: cells × (permutations + 1), plus cells ×
    /// slices for the emerging analysis. `None`: no bound.
    pub max_work: Option<u64>,
}

impl Default for HotspotRequest {
    /// Resolution 8, every event, Gi\*, 999 permutations, seed 12345, `k = 1`, FDR on,
    /// exact p-values, no bound on the work.
    fn default() -> Self {
        Self {
            resolution: 8,
            filter: EventFilter::default(),
            method: Method::GiStar,
            permutations: DEFAULT_PERMUTATIONS,
            seed: DEFAULT_SEED,
            k: 1,
            fdr: true,
            inference: Inference::Exact,
            max_work: None,
        }
    }
}

/// Why a request could not be analysed.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AnalysisError {
    /// Bad resolution or coordinates.
    #[error(transparent)]
    Bin(#[from] BinError),
    /// The weights could not be built.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// A statistic refused its input.
    #[error(transparent)]
    Stats(#[from] StatsError),
    /// `k` is 0 (no neighbours).
    #[error("the neighbourhood ring k must be at least 1")]
    Ring,
    /// Local Moran's I was asked for without permutations (its significance needs them).
    #[error("local Moran's I needs at least one permutation for its significance")]
    MoranWithoutPermutations,
    /// The time window holds fewer than two slices.
    #[error("the emerging hot spot analysis needs at least two time slices; the window holds {0}")]
    TooFewSlices(usize),
    /// The request would take more work than allowed.
    #[error("{cells} cells × ({permutations} permutations + 1){} is more work than the {max} allowed; use a coarser resolution, a shorter window or fewer permutations", if *.slices > 0 { format!(" + {} slices", .slices) } else { String::new() })]
    TooMuchWork {
        /// Cells in the study area.
        cells: usize,
        /// Permutations asked for.
        permutations: usize,
        /// Time slices (0 unless emerging).
        slices: usize,
        /// The bound.
        max: u64,
    },
    /// The region list does not match the events.
    #[error("{regions} region codes for {events} events")]
    RegionCount {
        /// Region codes given.
        regions: usize,
        /// Events given.
        events: usize,
    },
}

/// A cell's local Moran's I.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MoranCell {
    /// The statistic `I_i`.
    pub i: f64,
    /// Its scatterplot quadrant.
    pub quadrant: Quadrant,
    /// Its pseudo p-value.
    pub p_sim: f64,
    /// Whether it is a significant cluster or outlier (see the module documentation).
    pub significant: bool,
}

impl MoranCell {
    /// `"HH"`, `"LL"`, `"HL"` or `"LH"` when significant, else `"ns"`.
    pub fn label(&self) -> &'static str {
        if !self.significant {
            return "ns";
        }
        quadrant_label(self.quadrant)
    }
}

/// A quadrant as the usual two letters, value first: `"HH"`, `"LH"`, `"LL"`, `"HL"`.
pub fn quadrant_label(q: Quadrant) -> &'static str {
    match q {
        Quadrant::HighHigh => "HH",
        Quadrant::LowHigh => "LH",
        Quadrant::LowLow => "LL",
        Quadrant::HighLow => "HL",
    }
}

/// A cell's emerging hot spot result.
#[derive(Debug, Clone, PartialEq)]
pub struct EmergingCell {
    /// Its category.
    pub category: EmergingCategory,
    /// Mann-Kendall trend of its Gi\* z-scores over the slices.
    pub trend: MannKendall,
    /// Its state in each slice, oldest first.
    pub states: Vec<SpotState>,
}

/// One cell of the map.
#[derive(Debug, Clone, PartialEq)]
pub struct CellStats {
    /// The cell.
    pub cell: CellIndex,
    /// Events counted in it (over the whole window).
    pub count: u64,
    /// Gi\* z-score (`NaN` for a cell without neighbours in the study area).
    pub z: f64,
    /// Two-sided normal p-value of `z`.
    pub p: f64,
    /// Two-sided exact p-value of the neighbourhood's count ([`crate::count_tail`]).
    pub p_exact: f64,
    /// Gi\* pseudo p-value (with [`Method::GiStar`] and permutations).
    pub p_sim: Option<f64>,
    /// Hot/cold class at 90/95/99 % (ArcGIS `Gi_Bin`) from the p-values the request's
    /// [`Inference`] names, FDR-corrected if asked.
    pub bin: GiBin,
    /// Local Moran's I (with [`Method::Moran`]).
    pub moran: Option<MoranCell>,
    /// Emerging hot spot result (with [`Method::Emerging`]).
    pub emerging: Option<EmergingCell>,
}

/// A time slice `[from, until)` of the emerging analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeSlice {
    /// Start, inclusive.
    pub from: DateTime<Utc>,
    /// End, exclusive.
    pub until: DateTime<Utc>,
}

/// A hotspot map.
#[derive(Debug, Clone, PartialEq)]
pub struct Hotspots {
    /// The request it answers.
    pub request: HotspotRequest,
    /// Events counted (passing the filter).
    pub events: u64,
    /// The study area's cells, in cell order.
    pub cells: Vec<CellStats>,
    /// The time slices (emerging analysis only).
    pub slices: Vec<TimeSlice>,
}

impl Hotspots {
    /// The cells of a class at or beyond `bin` in its direction (e.g. `GiBin::Hot95`: the
    /// hot spots at 95 % or 99 %).
    pub fn at_least(&self, bin: GiBin) -> impl Iterator<Item = &CellStats> {
        let code = bin.code();
        self.cells.iter().filter(move |c| {
            let b = c.bin.code();
            (code > 0 && b >= code) || (code < 0 && b <= code) || (code == 0 && b == 0)
        })
    }
}

/// Analyses `events` as `request` asks (see the module documentation).
///
/// No event passing the filter gives an empty map, not an error.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use gridgov_hotspot::analysis::{analyse, HotspotRequest};
/// use gridgov_hotspot::bin::DisputeEvent;
///
/// let at = |lon: f64, lat: f64| DisputeEvent {
///     lon, lat, time: Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap(),
///     category: "land".into(), channel: "people".into(),
/// };
/// // A busy spot of 45 events about 1 km across, and 40 events on a line 2 km apart.
/// let events: Vec<_> = (0..45)
///     .map(|i| at(104.0 + f64::from(i % 3) * 0.004, 26.9 + f64::from(i / 3 % 3) * 0.004))
///     .chain((0..40).map(|i| at(104.0 + f64::from(i) * 0.02, 26.5)))
///     .collect();
/// let map = analyse(&events, &HotspotRequest::default())?;
/// let busiest = map.cells.iter().max_by_key(|c| c.count).unwrap();
/// assert!(busiest.z > 0.0 && busiest.bin.is_hot());
/// # Ok::<(), gridgov_hotspot::analysis::AnalysisError>(())
/// ```
pub fn analyse(
    events: &[DisputeEvent],
    request: &HotspotRequest,
) -> Result<Hotspots, AnalysisError> {
    if request.k == 0 {
        return Err(AnalysisError::Ring);
    }
    if request.method == Method::Moran && request.permutations == 0 {
        return Err(AnalysisError::MoranWithoutPermutations);
    }
    let counts = bin_events(events, request.resolution, &request.filter)?;
    let total: u64 = counts.values().sum();
    let empty = Hotspots {
        request: request.clone(),
        events: total,
        cells: Vec::new(),
        slices: Vec::new(),
    };
    if counts.is_empty() {
        return Ok(empty);
    }
    let slices = match request.method {
        Method::Emerging(slicing) => time_slices(events, &request.filter, slicing, request)?,
        _ => Vec::new(),
    };
    if let Method::Emerging(_) = request.method {
        if slices.len() < 2 {
            return Err(AnalysisError::TooFewSlices(slices.len()));
        }
    }
    let cells = study_area(counts.keys().copied(), request.k)?;
    check_work(cells.len(), slices.len(), request)?;
    let y = values_on(&cells, &counts);
    let w = SpatialWeights::from_h3_k_ring(&cells, request.k)?;
    let gi = local_g(
        &y,
        &w,
        &LocalGOptions {
            transform: Transform::Binary,
            star: true,
            permutations: if request.method == Method::GiStar {
                request.permutations
            } else {
                0
            },
            seed: request.seed,
        },
    )?;
    let p = gi.p_two_sided();
    let exact = exact_p(&y, &w);
    let bins = classes(&gi.z, &p, &exact, request);
    let moran = if request.method == Method::Moran {
        Some(moran_cells(&y, &w, request)?)
    } else {
        None
    };
    let emerging = if let Method::Emerging(_) = request.method {
        Some(emerging_cells(events, request, &cells, &slices, &w)?)
    } else {
        None
    };
    let mut moran = moran.map(Vec::into_iter);
    let mut emerging = emerging.map(Vec::into_iter);
    let out = cells
        .iter()
        .enumerate()
        .map(|(i, &cell)| CellStats {
            cell,
            count: counts.get(&cell).copied().unwrap_or(0),
            z: gi.z[i],
            p: p[i],
            p_exact: exact.p[i],
            p_sim: gi.p_sim.as_ref().map(|ps| ps[i]),
            bin: bins[i],
            moran: moran.as_mut().and_then(Iterator::next),
            emerging: emerging.as_mut().and_then(Iterator::next),
        })
        .collect();
    Ok(Hotspots {
        cells: out,
        slices,
        ..empty
    })
}

/// Exact two-sided p-values of every cell's neighbourhood count, and which tail each lies
/// in (`+1.0` upper, `-1.0` lower; `NaN` for cells without neighbours).
struct ExactP {
    p: Vec<f64>,
    direction: Vec<f64>,
}

fn exact_p(y: &[f64], w: &SpatialWeights) -> ExactP {
    let n = y.len();
    let mut out = ExactP {
        p: vec![f64::NAN; n],
        direction: vec![f64::NAN; n],
    };
    // Counts are whole numbers; anything else has no exact tail here.
    let Some(mut tails) = crate::count_tail::SumTails::new(y) else {
        return out;
    };
    tails.prepare((0..n).map(|i| w.cardinality(i) + 1));
    for i in 0..n {
        if w.cardinality(i) == 0 {
            continue;
        }
        let sum = y[i] + w.neighbours(i).iter().map(|&j| y[j as usize]).sum::<f64>();
        let m = w.cardinality(i) + 1;
        if let Some((up, down)) = tails.tails(m, sum as usize) {
            out.p[i] = (2.0 * up.min(down)).min(1.0);
            out.direction[i] = if up < down { 1.0 } else { -1.0 };
        }
    }
    out
}

/// The `Gi_Bin` classes from the p-values the request's inference names.
fn classes(z: &[f64], p_normal: &[f64], exact: &ExactP, request: &HotspotRequest) -> Vec<GiBin> {
    match request.inference {
        Inference::Normal => gi_bins(z, p_normal, request.fdr),
        Inference::Exact => gi_bins(&exact.direction, &exact.p, request.fdr),
    }
}

fn check_work(cells: usize, slices: usize, request: &HotspotRequest) -> Result<(), AnalysisError> {
    let Some(max) = request.max_work else {
        return Ok(());
    };
    let per_cell = (request.permutations as u64)
        .saturating_add(1)
        .saturating_add(slices as u64);
    if (cells as u64).saturating_mul(per_cell) > max {
        return Err(AnalysisError::TooMuchWork {
            cells,
            permutations: request.permutations,
            slices,
            max,
        });
    }
    Ok(())
}

fn moran_cells(
    y: &[f64],
    w: &SpatialWeights,
    request: &HotspotRequest,
) -> Result<Vec<MoranCell>, AnalysisError> {
    let lisa = moran_local(
        y,
        w,
        &LocalMoranOptions {
            transform: Transform::Row,
            permutations: request.permutations,
            seed: request.seed,
        },
    )?;
    let p_sim = lisa.p_sim.unwrap_or_else(|| vec![f64::NAN; y.len()]);
    let threshold = if request.fdr {
        fdr_threshold(&p_sim, ALPHA)
    } else {
        None
    };
    Ok(lisa
        .i
        .iter()
        .zip(&lisa.quadrants)
        .zip(&p_sim)
        .map(|((&i, &quadrant), &p)| MoranCell {
            i,
            quadrant,
            p_sim: p,
            significant: if request.fdr {
                threshold.is_some_and(|t| p <= t)
            } else {
                p < ALPHA
            },
        })
        .collect())
}

/// Midnight UTC starting `day`.
fn midnight(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN))
}

/// The slices of the window: the filter's bounds, or the events' first and last times.
fn time_slices(
    events: &[DisputeEvent],
    filter: &EventFilter,
    slicing: Slicing,
    request: &HotspotRequest,
) -> Result<Vec<TimeSlice>, AnalysisError> {
    let passing = || events.iter().filter(|e| filter.accepts(e)).map(|e| e.time);
    let (Some(first), Some(last)) = (passing().min(), passing().max()) else {
        return Ok(Vec::new());
    };
    let from = filter.from.unwrap_or(first);
    // Without an end, the window ends just after the last event.
    let until = filter
        .until
        .unwrap_or_else(|| last + chrono::Duration::nanoseconds(1));
    if until <= from {
        return Ok(Vec::new());
    }
    let start = slicing.start_of(from.date_naive());
    let end = until.date_naive();
    // Count before allocating: a window of centuries is refused, not built.
    let months = (i64::from(end.year()) - i64::from(start.year())) * 12 + i64::from(end.month0())
        - i64::from(start.month0());
    let n = usize::try_from(months / i64::from(slicing.months()) + 1).unwrap_or(usize::MAX);
    if let Some(max) = request.max_work {
        if n as u64 > max {
            return Err(AnalysisError::TooMuchWork {
                cells: 0,
                permutations: request.permutations,
                slices: n,
                max,
            });
        }
    }
    let mut out = Vec::with_capacity(n);
    let mut a = start;
    while midnight(a) < until {
        let Some(b) = a.checked_add_months(Months::new(slicing.months())) else {
            break;
        };
        out.push(TimeSlice {
            from: midnight(a).max(from),
            until: midnight(b).min(until),
        });
        a = b;
    }
    Ok(out)
}

fn emerging_cells(
    events: &[DisputeEvent],
    request: &HotspotRequest,
    cells: &[CellIndex],
    slices: &[TimeSlice],
    w: &SpatialWeights,
) -> Result<Vec<EmergingCell>, AnalysisError> {
    let res = resolution(request.resolution)?;
    let position: HashMap<CellIndex, usize> =
        cells.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let mut values = vec![vec![0.0; cells.len()]; slices.len()];
    for e in events.iter().filter(|e| request.filter.accepts(e)) {
        // Coordinates were checked by the binning.
        let Ok(ll) = LatLng::new(e.lat, e.lon) else {
            continue;
        };
        let Some(&i) = position.get(&ll.to_cell(res)) else {
            continue;
        };
        let t = slices.partition_point(|s| s.until <= e.time);
        if slices.get(t).is_some_and(|s| s.from <= e.time) {
            values[t][i] += 1.0;
        }
    }
    // As `crate::emerging::emerging_hotspots`, with the request's p-values in each slice.
    let n = cells.len();
    let mut z_series: Vec<Vec<f64>> = vec![Vec::with_capacity(slices.len()); n];
    let mut states: Vec<Vec<SpotState>> = vec![Vec::with_capacity(slices.len()); n];
    let options = LocalGOptions {
        transform: Transform::Binary,
        star: true,
        permutations: 0,
        seed: request.seed,
    };
    for y in &values {
        let gi = local_g(y, w, &options)?;
        let p_normal = gi.p_two_sided();
        let exact = exact_p(y, w);
        let (p, direction) = match request.inference {
            Inference::Normal => (&p_normal, &gi.z),
            Inference::Exact => (&exact.p, &exact.direction),
        };
        let significant = if request.fdr {
            fdr_significant(p, ALPHA)
        } else {
            p.iter().map(|&v| v < ALPHA).collect()
        };
        for i in 0..n {
            z_series[i].push(gi.z[i]);
            states[i].push(match (significant[i], direction[i]) {
                (true, d) if d > 0.0 => SpotState::Hot,
                (true, d) if d < 0.0 => SpotState::Cold,
                _ => SpotState::NotSignificant,
            });
        }
    }
    Ok(z_series
        .into_iter()
        .zip(states)
        .map(|(z, states)| {
            let trend = mann_kendall(&z);
            EmergingCell {
                category: classify_emerging(&states, &trend, ALPHA),
                trend,
                states,
            }
        })
        .collect())
}

/// A cell's outline as a closed WGS84 polygon (longitude, latitude), for maps and files.
pub fn cell_polygon(cell: CellIndex) -> Polygon<f64> {
    let mut ring: Vec<Coord<f64>> = cell
        .boundary()
        .iter()
        .map(|ll| Coord {
            x: ll.lng(),
            y: ll.lat(),
        })
        .collect();
    if let Some(&first) = ring.first() {
        ring.push(first);
    }
    Polygon::new(LineString(ring), Vec::new())
}

/// One region's share of a hotspot map.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionSummary<R> {
    /// The region (a grid code, a village code…).
    pub region: R,
    /// Its events counted (passing the filter).
    pub cases: u64,
    /// The cells holding at least one of them.
    pub cells: usize,
    /// Of those, hot spots at 95 % or more (`Gi_Bin >= 2`).
    pub hot_cells: usize,
    /// Of those, cold spots at 95 % or more (`Gi_Bin <= -2`).
    pub cold_cells: usize,
    /// Its events lying in those hot cells.
    pub cases_in_hot_cells: u64,
    /// Mean Gi\* z-score of its events' cells, each cell weighted by the region's events in
    /// it (`NaN` without events).
    pub mean_z: f64,
    /// Highest Gi\* z-score among its cells (`NaN` without events).
    pub max_z: f64,
    /// Local Moran: its cells in significant high-high clusters (with [`Method::Moran`]).
    pub high_high_cells: usize,
    /// Emerging categories of its cells, with how many cells each (with
    /// [`Method::Emerging`]).
    pub emerging: BTreeMap<EmergingCategory, usize>,
}

/// Sums `hotspots` per region: `regions[i]` is the region of `events[i]` (`None`: in no
/// region), `events` the very events the map was made from. Regions come in their order;
/// a region whose events the filter all drops is left out.
pub fn summarise_regions<R: Ord + Clone>(
    events: &[DisputeEvent],
    regions: &[Option<R>],
    hotspots: &Hotspots,
) -> Result<Vec<RegionSummary<R>>, AnalysisError> {
    if regions.len() != events.len() {
        return Err(AnalysisError::RegionCount {
            regions: regions.len(),
            events: events.len(),
        });
    }
    let request = &hotspots.request;
    let res = resolution(request.resolution)?;
    let position: HashMap<CellIndex, usize> = hotspots
        .cells
        .iter()
        .enumerate()
        .map(|(i, c)| (c.cell, i))
        .collect();
    // Region → (cell index → its events there).
    let mut by_region: BTreeMap<R, BTreeMap<usize, u64>> = BTreeMap::new();
    for (e, r) in events.iter().zip(regions) {
        let Some(r) = r else { continue };
        if !request.filter.accepts(e) {
            continue;
        }
        let Ok(ll) = LatLng::new(e.lat, e.lon) else {
            continue;
        };
        let Some(&i) = position.get(&ll.to_cell(res)) else {
            continue;
        };
        *by_region
            .entry(r.clone())
            .or_default()
            .entry(i)
            .or_insert(0) += 1;
    }
    Ok(by_region
        .into_iter()
        .map(|(region, cells)| {
            let mut s = RegionSummary {
                region,
                cases: 0,
                cells: cells.len(),
                hot_cells: 0,
                cold_cells: 0,
                cases_in_hot_cells: 0,
                mean_z: f64::NAN,
                max_z: f64::NAN,
                high_high_cells: 0,
                emerging: BTreeMap::new(),
            };
            let mut weighted = 0.0;
            let mut weight = 0.0;
            for (&i, &n) in &cells {
                let c = &hotspots.cells[i];
                s.cases += n;
                if c.bin.code() >= GiBin::Hot95.code() {
                    s.hot_cells += 1;
                    s.cases_in_hot_cells += n;
                } else if c.bin.code() <= GiBin::Cold95.code() {
                    s.cold_cells += 1;
                }
                if c.z.is_finite() {
                    weighted += c.z * n as f64;
                    weight += n as f64;
                    s.max_z = if s.max_z.is_nan() {
                        c.z
                    } else {
                        s.max_z.max(c.z)
                    };
                }
                if c.moran
                    .is_some_and(|m| m.significant && m.quadrant == Quadrant::HighHigh)
                {
                    s.high_high_cells += 1;
                }
                if let Some(e) = &c.emerging {
                    *s.emerging.entry(e.category).or_insert(0) += 1;
                }
            }
            if weight > 0.0 {
                s.mean_z = weighted / weight;
            }
            s
        })
        .collect())
}
