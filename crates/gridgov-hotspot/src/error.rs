//! Errors of the statistics, and the crate's error gathering the others.

use thiserror::Error;

use crate::bin::BinError;
use crate::weights::WeightsError;

/// A problem with the values given to a statistic.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StatsError {
    /// The number of values differs from the number of observations in the weights.
    #[error("{values} values for weights over {weights} observations")]
    LengthMismatch {
        /// Number of values.
        values: usize,
        /// Number of observations in the weights.
        weights: usize,
    },
    /// The statistic needs more observations.
    #[error("{n} observations; this statistic needs at least {min}")]
    TooFewObservations {
        /// Number of observations given.
        n: usize,
        /// The minimum.
        min: usize,
    },
    /// A value is NaN or infinite.
    #[error("value {index} is not finite")]
    NonFinite {
        /// Position of the value.
        index: usize,
    },
    /// A significance level outside `(0, 1)`.
    #[error("significance level {0} is outside (0, 1)")]
    Alpha(f64),
}

/// Any error of this crate, for callers that do not need to tell them apart.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum HotspotError {
    /// Binning failed.
    #[error(transparent)]
    Bin(#[from] BinError),
    /// Building weights failed.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// A statistic refused its input.
    #[error(transparent)]
    Stats(#[from] StatsError),
}

/// Checks values against weights: same length, all finite, at least `min` of them.
pub(crate) fn check_values(y: &[f64], n_weights: usize, min: usize) -> Result<(), StatsError> {
    if y.len() != n_weights {
        return Err(StatsError::LengthMismatch {
            values: y.len(),
            weights: n_weights,
        });
    }
    if y.len() < min {
        return Err(StatsError::TooFewObservations { n: y.len(), min });
    }
    if let Some(index) = y.iter().position(|v| !v.is_finite()) {
        return Err(StatsError::NonFinite { index });
    }
    Ok(())
}
