//! Emerging hot spot analysis: Gi* per time slice, a Mann-Kendall trend per location, and
//! ArcGIS's seventeen pattern categories.
//!
//! # Method
//!
//! For each time slice (the same locations and weights in every slice), the local Gi*
//! z-scores and two-sided normal p-values are computed ([`crate::getis_ord::local_g`] with
//! `star = true`). A location is a significant *hot* (*cold*) spot in a slice when its
//! p-value is below `alpha` (or, with `fdr`, at or below the Benjamini–Hochberg threshold
//! of that slice) and its z-score is positive (negative). The Mann-Kendall test
//! ([`mod@crate::mann_kendall`]) runs on each location's z-score series; a trend is significant
//! when its p-value is below `trend_alpha`.
//!
//! ArcGIS Pro's tool works on a space-time cube whose Gi* neighbourhoods also reach into
//! previous time steps; this module uses spatial neighbours only, within each slice.
//!
//! # Categories (after ArcGIS Pro, "How Emerging Hot Spot Analysis works")
//!
//! With `n` slices, "90 %" meaning at least `0.9 n` slices, rules for hot spots (cold spots
//! mirror them, with "intensifying" meaning a significant *decreasing* z-score trend):
//!
//! - **New**: hot in the final slice, never significant hot (or cold) before.
//! - **Consecutive**: one uninterrupted run of at least two hot slices ending in the
//!   final slice, never hot before the run, never cold, and less than 90 % hot.
//! - **Intensifying**: hot in the final slice and in at least 90 % of slices, with a
//!   significant increasing trend in z-scores.
//! - **Persistent**: hot in the final slice and in at least 90 % of slices, without a
//!   significant trend.
//! - **Diminishing**: hot in the final slice and in at least 90 % of slices, with a
//!   significant decreasing trend.
//! - **Sporadic**: hot in the final slice, less than 90 % hot, on-again off-again (hot
//!   slices are not one final run), and never significant cold.
//! - **Oscillating**: hot in the final slice, less than 90 % hot, and significant cold in
//!   at least one earlier slice.
//! - **Historical**: not hot in the final slice, but hot in at least 90 % of slices.
//! - **No pattern**: none of the above.
//!
//! Precedence, where ArcGIS's wording leaves overlaps: the state of the final slice decides
//! first (a location cold in the final slice is a cold-spot category even if it was hot in
//! 90 % of the slices before, i.e. oscillating cold rather than historical hot); then the
//! 90 % rules; then a prior opposite spot (oscillating rather than new); then new,
//! consecutive, sporadic. ArcGIS requires at least ten slices in a cube; with fewer, the
//! 90 % rules mean "every slice" and results should be read with care.

use crate::error::StatsError;
use crate::fdr::fdr_significant;
use crate::getis_ord::{local_g_prepared, local_g_weights};
use crate::mann_kendall::{mann_kendall, MannKendall};
use crate::weights::{SpatialWeights, Transform};

/// A location's significance in one time slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpotState {
    /// Significant hot spot.
    Hot,
    /// Significant cold spot.
    Cold,
    /// Neither.
    NotSignificant,
}

/// ArcGIS emerging hot spot categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EmergingCategory {
    /// No pattern detected.
    NoPattern,
    /// New hot spot.
    NewHot,
    /// Consecutive hot spot.
    ConsecutiveHot,
    /// Intensifying hot spot.
    IntensifyingHot,
    /// Persistent hot spot.
    PersistentHot,
    /// Diminishing hot spot.
    DiminishingHot,
    /// Sporadic hot spot.
    SporadicHot,
    /// Oscillating hot spot.
    OscillatingHot,
    /// Historical hot spot.
    HistoricalHot,
    /// New cold spot.
    NewCold,
    /// Consecutive cold spot.
    ConsecutiveCold,
    /// Intensifying cold spot.
    IntensifyingCold,
    /// Persistent cold spot.
    PersistentCold,
    /// Diminishing cold spot.
    DiminishingCold,
    /// Sporadic cold spot.
    SporadicCold,
    /// Oscillating cold spot.
    OscillatingCold,
    /// Historical cold spot.
    HistoricalCold,
}

impl EmergingCategory {
    /// ArcGIS's label, e.g. `"New Hot Spot"`.
    pub fn label(self) -> &'static str {
        match self {
            Self::NoPattern => "No Pattern Detected",
            Self::NewHot => "New Hot Spot",
            Self::ConsecutiveHot => "Consecutive Hot Spot",
            Self::IntensifyingHot => "Intensifying Hot Spot",
            Self::PersistentHot => "Persistent Hot Spot",
            Self::DiminishingHot => "Diminishing Hot Spot",
            Self::SporadicHot => "Sporadic Hot Spot",
            Self::OscillatingHot => "Oscillating Hot Spot",
            Self::HistoricalHot => "Historical Hot Spot",
            Self::NewCold => "New Cold Spot",
            Self::ConsecutiveCold => "Consecutive Cold Spot",
            Self::IntensifyingCold => "Intensifying Cold Spot",
            Self::PersistentCold => "Persistent Cold Spot",
            Self::DiminishingCold => "Diminishing Cold Spot",
            Self::SporadicCold => "Sporadic Cold Spot",
            Self::OscillatingCold => "Oscillating Cold Spot",
            Self::HistoricalCold => "Historical Cold Spot",
        }
    }
}

/// The eight patterns, before choosing hot or cold.
enum Pattern {
    New,
    Consecutive,
    Intensifying,
    Persistent,
    Diminishing,
    Sporadic,
    Oscillating,
}

/// Options of [`emerging_hotspots`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmergingOptions {
    /// Significance level of a hot or cold spot in a slice (default 0.05).
    pub alpha: f64,
    /// Benjamini–Hochberg correction within each slice (default true, as ArcGIS Pro).
    pub fdr: bool,
    /// Significance level of the Mann-Kendall trend (default 0.05).
    pub trend_alpha: f64,
    /// Weights transform for Gi* (default binary, ArcGIS's fixed neighbourhoods).
    pub transform: Transform,
}

impl Default for EmergingOptions {
    fn default() -> Self {
        Self {
            alpha: 0.05,
            fdr: true,
            trend_alpha: 0.05,
            transform: Transform::Binary,
        }
    }
}

/// One location's emerging hot spot result.
#[derive(Debug, Clone, PartialEq)]
pub struct EmergingLocation {
    /// Its category.
    pub category: EmergingCategory,
    /// Mann-Kendall test of its Gi* z-scores over the slices.
    pub trend: MannKendall,
    /// Its significance in each slice.
    pub states: Vec<SpotState>,
}

/// Emerging hot spot results.
#[derive(Debug, Clone, PartialEq)]
pub struct EmergingHotspots {
    /// Per location, in the order of the weights.
    pub locations: Vec<EmergingLocation>,
    /// Gi* z-scores, `z[slice][location]`.
    pub z: Vec<Vec<f64>>,
}

/// Runs the emerging hot spot analysis on `slices[t][i]`, the value of location `i` in
/// time slice `t` (oldest first), all slices over the locations of `w`.
#[expect(
    clippy::many_single_char_names,
    reason = "slices, weights, z-scores, p-values: short names read like the method"
)]
pub fn emerging_hotspots<S: AsRef<[f64]>>(
    slices: &[S],
    w: &SpatialWeights,
    options: &EmergingOptions,
) -> Result<EmergingHotspots, StatsError> {
    for a in [options.alpha, options.trend_alpha] {
        if !(a > 0.0 && a < 1.0) {
            return Err(StatsError::Alpha(a));
        }
    }
    if slices.len() < 2 {
        return Err(StatsError::TooFewObservations {
            n: slices.len(),
            min: 2,
        });
    }
    for s in slices {
        crate::error::check_values(s.as_ref(), w.len(), 3)?;
    }
    let wt = local_g_weights(w, options.transform, true);
    let n = w.len();
    let mut z = Vec::with_capacity(slices.len());
    let mut states: Vec<Vec<SpotState>> = vec![Vec::with_capacity(slices.len()); n];
    for s in slices {
        let g = local_g_prepared(s.as_ref(), &wt, true, 0, 0);
        let p = g.p_two_sided();
        let significant = if options.fdr {
            fdr_significant(&p, options.alpha)
        } else {
            p.iter().map(|&v| v < options.alpha).collect()
        };
        for i in 0..n {
            let state = match (significant[i], g.z[i]) {
                (true, zi) if zi > 0.0 => SpotState::Hot,
                (true, zi) if zi < 0.0 => SpotState::Cold,
                _ => SpotState::NotSignificant,
            };
            states[i].push(state);
        }
        z.push(g.z);
    }
    let mut series = Vec::with_capacity(slices.len());
    let locations = states
        .into_iter()
        .enumerate()
        .map(|(i, states)| {
            series.clear();
            series.extend(z.iter().map(|zs| zs[i]));
            let trend = mann_kendall(&series);
            EmergingLocation {
                category: classify_emerging(&states, &trend, options.trend_alpha),
                trend,
                states,
            }
        })
        .collect();
    Ok(EmergingHotspots { locations, z })
}

/// The category of one location from its per-slice states (oldest first) and the trend of
/// its z-scores (rules in the module documentation). An empty series has no pattern.
pub fn classify_emerging(
    states: &[SpotState],
    trend: &MannKendall,
    trend_alpha: f64,
) -> EmergingCategory {
    let Some(&last) = states.last() else {
        return EmergingCategory::NoPattern;
    };
    let n = states.len();
    let count = |s: SpotState| states.iter().filter(|&&x| x == s).count();
    let (hot, cold) = (count(SpotState::Hot), count(SpotState::Cold));
    let mostly = |k: usize| 10 * k >= 9 * n;
    let pattern = |same: SpotState, k_same: usize, k_other: usize, rising: bool, falling: bool| {
        if mostly(k_same) {
            if rising {
                Pattern::Intensifying
            } else if falling {
                Pattern::Diminishing
            } else {
                Pattern::Persistent
            }
        } else if k_other > 0 {
            Pattern::Oscillating
        } else if k_same == 1 {
            Pattern::New
        } else {
            let run = states.iter().rev().take_while(|&&s| s == same).count();
            if run == k_same {
                Pattern::Consecutive
            } else {
                Pattern::Sporadic
            }
        }
    };
    match last {
        SpotState::Hot => {
            match pattern(
                SpotState::Hot,
                hot,
                cold,
                trend.increasing(trend_alpha),
                trend.decreasing(trend_alpha),
            ) {
                Pattern::New => EmergingCategory::NewHot,
                Pattern::Consecutive => EmergingCategory::ConsecutiveHot,
                Pattern::Intensifying => EmergingCategory::IntensifyingHot,
                Pattern::Persistent => EmergingCategory::PersistentHot,
                Pattern::Diminishing => EmergingCategory::DiminishingHot,
                Pattern::Sporadic => EmergingCategory::SporadicHot,
                Pattern::Oscillating => EmergingCategory::OscillatingHot,
            }
        }
        SpotState::Cold => {
            match pattern(
                SpotState::Cold,
                cold,
                hot,
                trend.decreasing(trend_alpha),
                trend.increasing(trend_alpha),
            ) {
                Pattern::New => EmergingCategory::NewCold,
                Pattern::Consecutive => EmergingCategory::ConsecutiveCold,
                Pattern::Intensifying => EmergingCategory::IntensifyingCold,
                Pattern::Persistent => EmergingCategory::PersistentCold,
                Pattern::Diminishing => EmergingCategory::DiminishingCold,
                Pattern::Sporadic => EmergingCategory::SporadicCold,
                Pattern::Oscillating => EmergingCategory::OscillatingCold,
            }
        }
        SpotState::NotSignificant => {
            if mostly(hot) {
                EmergingCategory::HistoricalHot
            } else if mostly(cold) {
                EmergingCategory::HistoricalCold
            } else {
                EmergingCategory::NoPattern
            }
        }
    }
}
