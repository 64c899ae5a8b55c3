//! The Mann-Kendall trend test.
//!
//! `S = sum_{i<j} sign(x_j - x_i)`; its variance under no trend, corrected for ties
//! (groups of `t` equal values), is `(n(n-1)(2n+5) - sum t(t-1)(2t+5)) / 18`; the z-score
//! uses the continuity correction `(S - sign(S)) / sqrt(Var S)` (0 when `S = 0`) and the
//! p-value is two-sided, `2 sf(|z|)`. Equality is exact (no tolerance).

use crate::normal;

/// Mann-Kendall test results.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// The statistic `S`: positive for an increasing series.
    pub s: i64,
    /// Variance of `S` under no trend, tie-corrected.
    pub variance: f64,
    /// Continuity-corrected z-score (`NaN` when the variance is 0, e.g. fewer than 2 values).
    pub z: f64,
    /// Two-sided p-value (`NaN` when `z` is).
    pub p: f64,
}

impl MannKendall {
    /// Whether the trend is significantly increasing at level `alpha`.
    pub fn increasing(&self, alpha: f64) -> bool {
        self.z > 0.0 && self.p < alpha
    }

    /// Whether the trend is significantly decreasing at level `alpha`.
    pub fn decreasing(&self, alpha: f64) -> bool {
        self.z < 0.0 && self.p < alpha
    }
}

/// Mann-Kendall test of a series in time order. A NaN value compares with nothing: it
/// adds nothing to `S` and is left out of the tie groups.
///
/// ```
/// let mk = gridgov_hotspot::mann_kendall::mann_kendall(&[1.0, 2.0, 3.0, 4.0, 5.0]);
/// assert_eq!(mk.s, 10);
/// ```
#[expect(
    clippy::many_single_char_names,
    reason = "the one-letter names of the published formulas"
)]
#[expect(
    clippy::float_cmp,
    reason = "ties are exact equalities, as in the test's definition"
)]
pub fn mann_kendall(x: &[f64]) -> MannKendall {
    let n = x.len();
    let mut s: i64 = 0;
    for i in 0..n {
        for j in i + 1..n {
            match x[j].partial_cmp(&x[i]) {
                Some(std::cmp::Ordering::Greater) => s += 1,
                Some(std::cmp::Ordering::Less) => s -= 1,
                _ => {}
            }
        }
    }
    let mut sorted: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut k = 0;
    while k < sorted.len() {
        let mut t = 1;
        while k + t < sorted.len() && sorted[k + t] == sorted[k] {
            t += 1;
        }
        if t > 1 {
            let t = t as f64;
            ties += t * (t - 1.0) * (2.0 * t + 5.0);
        }
        k += t;
    }
    let nf = n as f64;
    let variance = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    let z = if variance <= 0.0 {
        f64::NAN
    } else {
        match s.cmp(&0) {
            std::cmp::Ordering::Greater => (s - 1) as f64 / variance.sqrt(),
            std::cmp::Ordering::Less => (s + 1) as f64 / variance.sqrt(),
            std::cmp::Ordering::Equal => 0.0,
        }
    };
    let p = if z.is_nan() {
        f64::NAN
    } else {
        normal::two_sided_p(z)
    };
    MannKendall { s, variance, z, p }
}
