//! Moran's I: the global statistic and the local one (LISA) with its quadrants.
//!
//! Both follow `PySAL` esda 2.9 (`esda.moran.Moran`, `esda.moran.Moran_Local`).
//!
//! # Global ([`moran_global`])
//!
//! With `z = y - mean(y)` and the transformed weights' `S0, S1, S2`:
//! `I = n / S0 * sum_i z_i (W z)_i / sum(z^2)`, `E[I] = -1/(n-1)`,
//! `V_norm = (n^2 S1 - n S2 + 3 S0^2) / ((n^2 - 1) S0^2) - E[I]^2`, and under randomisation
//! with the kurtosis `k = (sum z^4 / n) / (sum z^2 / n)^2`:
//! `V_rand = (n((n^2-3n+3) S1 - n S2 + 3 S0^2) - k((n^2-n) S1 - 2n S2 + 6 S0^2)) /
//! ((n-1)(n-2)(n-3) S0^2) - E[I]^2`. p-values are two-sided (esda's default
//! `two_tailed=True`): `2 sf(|z|)`.
//!
//! # Local ([`moran_local`])
//!
//! `z = (y - mean) / sd` with the population standard deviation (`ddof = 0`),
//! `I_i = (n - 1) z_i (W z)_i / sum(z^2)`. The quadrant compares `z_i > 0` with
//! `(W z)_i > 0` ([`Quadrant`], esda's `q`; a value exactly at the mean counts as low).
//! Pseudo p-values use conditional randomisation ([`crate::permutation`]) with the random
//! statistic `(n - 1) / sum(z^2) * z_i * sum_k w_ik z_rk`.

use crate::error::{check_values, StatsError};
use crate::normal;
use crate::permutation::pseudo_p_values;
use crate::weights::{SpatialWeights, Transform};

/// Global Moran's I results (esda `Moran`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlobalMoran {
    /// Moran's I.
    pub i: f64,
    /// Its expectation `-1/(n-1)` (esda `EI`).
    pub expected: f64,
    /// Variance under normality (esda `VI_norm`).
    pub variance_norm: f64,
    /// z-score under normality.
    pub z_norm: f64,
    /// Two-sided p-value under normality.
    pub p_norm: f64,
    /// Variance under randomisation (esda `VI_rand`).
    pub variance_rand: f64,
    /// z-score under randomisation.
    pub z_rand: f64,
    /// Two-sided p-value under randomisation.
    pub p_rand: f64,
}

/// Global Moran's I of `y` with the weights transformed by `transform` (esda's default is
/// [`Transform::Row`]). Self-weights are kept if the weights have them.
#[expect(
    clippy::many_single_char_names,
    reason = "the one-letter names of the published formulas"
)]
pub fn moran_global(
    y: &[f64],
    w: &SpatialWeights,
    transform: Transform,
) -> Result<GlobalMoran, StatsError> {
    check_values(y, w.len(), 4)?;
    let w = w.transformed(transform);
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let z: Vec<f64> = y.iter().map(|v| v - mean).collect();
    let z2ss: f64 = z.iter().map(|v| v * v).sum();
    let (s0, s1, s2) = (w.s0(), w.s1(), w.s2());
    let s02 = s0 * s0;
    let n2 = n * n;
    let expected = -1.0 / (n - 1.0);
    let v_num = n2 * s1 - n * s2 + 3.0 * s02;
    let v_den = (n - 1.0) * (n + 1.0) * s02;
    let variance_norm = v_num / v_den - (1.0 / (n - 1.0)).powi(2);
    let k_num = z.iter().map(|v| v.powi(4)).sum::<f64>() / n;
    let k_den = (z2ss / n).powi(2);
    let k = k_num / k_den;
    let a = n * ((n2 - 3.0 * n + 3.0) * s1 - n * s2 + 3.0 * s02);
    let b = k * ((n2 - n) * s1 - 2.0 * n * s2 + 6.0 * s02);
    let variance_rand = (a - b) / ((n - 1.0) * (n - 2.0) * (n - 3.0) * s02) - expected * expected;
    let lag = w.lag(&z);
    let inum: f64 = z.iter().zip(&lag).map(|(a, b)| a * b).sum();
    let i = n / s0 * inum / z2ss;
    let z_norm = (i - expected) / variance_norm.sqrt();
    let z_rand = (i - expected) / variance_rand.sqrt();
    Ok(GlobalMoran {
        i,
        expected,
        variance_norm,
        z_norm,
        p_norm: normal::two_sided_p(z_norm),
        variance_rand,
        z_rand,
        p_rand: normal::two_sided_p(z_rand),
    })
}

/// Moran scatterplot quadrant of an observation (esda's `q` codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quadrant {
    /// High value among high neighbours (hot spot), `q = 1`.
    HighHigh = 1,
    /// Low value among high neighbours (outlier), `q = 2`.
    LowHigh = 2,
    /// Low value among low neighbours (cold spot), `q = 3`.
    LowLow = 3,
    /// High value among low neighbours (outlier), `q = 4`.
    HighLow = 4,
}

impl Quadrant {
    /// esda's code: HH=1, LH=2, LL=3, HL=4.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Options of [`moran_local`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMoranOptions {
    /// Weights transform (esda's default row).
    pub transform: Transform,
    /// Number of conditional permutations; 0 skips the pseudo p-values.
    pub permutations: usize,
    /// Seed of the permutations.
    pub seed: u64,
}

impl Default for LocalMoranOptions {
    /// Row-standardised, 999 permutations, seed 12345.
    fn default() -> Self {
        Self {
            transform: Transform::Row,
            permutations: 999,
            seed: 12_345,
        }
    }
}

/// Local Moran results, one entry per observation (esda `Moran_Local`).
#[derive(Debug, Clone, PartialEq)]
pub struct LocalMoran {
    /// The local statistics `I_i` (esda `Is`).
    pub i: Vec<f64>,
    /// Scatterplot quadrants (esda `q`).
    pub quadrants: Vec<Quadrant>,
    /// Pseudo p-values from conditional permutations (esda `p_sim`), if asked for.
    pub p_sim: Option<Vec<f64>>,
}

/// Local Moran's I of `y` (see the module documentation). Self-weights are dropped.
#[expect(
    clippy::many_single_char_names,
    reason = "the one-letter names of the published formulas"
)]
pub fn moran_local(
    y: &[f64],
    w: &SpatialWeights,
    options: &LocalMoranOptions,
) -> Result<LocalMoran, StatsError> {
    check_values(y, w.len(), 3)?;
    let w = w.with_self_weight(0.0).transformed(options.transform);
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let z: Vec<f64> = y.iter().map(|v| (v - mean) / sd).collect();
    let den: f64 = z.iter().map(|v| v * v).sum();
    let lag = w.lag(&z);
    let scaling = (n - 1.0) / den;
    let i: Vec<f64> = z
        .iter()
        .zip(&lag)
        .map(|(zi, li)| (n - 1.0) * zi * li / den)
        .collect();
    let quadrants = z
        .iter()
        .zip(&lag)
        .map(|(&zi, &li)| match (zi > 0.0, li > 0.0) {
            (true, true) => Quadrant::HighHigh,
            (false, true) => Quadrant::LowHigh,
            (false, false) => Quadrant::LowLow,
            (true, false) => Quadrant::HighLow,
        })
        .collect();
    let p_sim = (options.permutations > 0).then(|| {
        pseudo_p_values(&w, &z, &i, options.permutations, options.seed, |k, lag| {
            z[k] * lag * scaling
        })
    });
    Ok(LocalMoran {
        i,
        quadrants,
        p_sim,
    })
}
