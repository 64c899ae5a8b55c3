//! Hot and cold spot classes at 90, 95 and 99 % confidence (ArcGIS's `Gi_Bin`).
//!
//! A feature is in bin `+3` (`-3`) when its z-score is positive (negative) and its
//! two-sided p-value is below 0.01, `±2` below 0.05, `±1` below 0.10, else `0`. With FDR
//! correction the three levels instead use the Benjamini–Hochberg threshold at that level
//! over all features ([`crate::fdr::fdr_threshold`], p at or below the threshold), as
//! ArcGIS's Hot Spot Analysis does when "Apply False Discovery Rate (FDR) Correction" is
//! on. Pass two-sided p-values (for example [`crate::getis_ord::LocalG::p_two_sided`]; esda's
//! `p_norm` is one-sided).

use crate::fdr::fdr_threshold;

/// A confidence bin, `-3..=3` (ArcGIS `Gi_Bin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GiBin {
    /// Cold spot, 99 % confidence.
    Cold99 = -3,
    /// Cold spot, 95 % confidence.
    Cold95 = -2,
    /// Cold spot, 90 % confidence.
    Cold90 = -1,
    /// Not significant.
    NotSignificant = 0,
    /// Hot spot, 90 % confidence.
    Hot90 = 1,
    /// Hot spot, 95 % confidence.
    Hot95 = 2,
    /// Hot spot, 99 % confidence.
    Hot99 = 3,
}

impl GiBin {
    /// The ArcGIS code, `-3..=3`.
    pub fn code(self) -> i8 {
        self as i8
    }

    /// Whether this is a significant hot spot at any level.
    pub fn is_hot(self) -> bool {
        self.code() > 0
    }

    /// Whether this is a significant cold spot at any level.
    pub fn is_cold(self) -> bool {
        self.code() < 0
    }

    fn from_level(level: u8, positive: bool) -> Self {
        match (level, positive) {
            (3, true) => Self::Hot99,
            (2, true) => Self::Hot95,
            (1, true) => Self::Hot90,
            (3, false) => Self::Cold99,
            (2, false) => Self::Cold95,
            (1, false) => Self::Cold90,
            _ => Self::NotSignificant,
        }
    }
}

/// The significance levels of the bins, from 90 % to 99 % confidence.
const ALPHAS: [(u8, f64); 3] = [(1, 0.10), (2, 0.05), (3, 0.01)];

/// Confidence bins from z-scores and two-sided p-values, optionally FDR-corrected.
///
/// # Panics
/// If `z` and `p_two_sided` differ in length.
pub fn gi_bins(z: &[f64], p_two_sided: &[f64], fdr: bool) -> Vec<GiBin> {
    assert_eq!(
        z.len(),
        p_two_sided.len(),
        "gi_bins: z and p differ in length"
    );
    let thresholds: Vec<(u8, Option<f64>)> = ALPHAS
        .iter()
        .map(|&(level, alpha)| {
            (
                level,
                if fdr {
                    fdr_threshold(p_two_sided, alpha)
                } else {
                    None
                },
            )
        })
        .collect();
    z.iter()
        .zip(p_two_sided)
        .map(|(&zi, &pi)| {
            if zi.is_nan() || pi.is_nan() || zi == 0.0 {
                return GiBin::NotSignificant;
            }
            let mut level = 0;
            for (&(lvl, alpha), &(_, threshold)) in ALPHAS.iter().zip(&thresholds) {
                let significant = if fdr {
                    threshold.is_some_and(|t| pi <= t)
                } else {
                    pi < alpha
                };
                if significant {
                    level = lvl;
                }
            }
            GiBin::from_level(level, zi > 0.0)
        })
        .collect()
}
