//! False discovery rate control: the Benjamini–Hochberg procedure.
//!
//! With `m` p-values sorted ascending `p_(1) <= ... <= p_(m)`, the BH threshold at level
//! `alpha` is the largest `p_(k)` with `p_(k) <= k alpha / m` (esda's `fdr`); every p-value
//! at or below it is a discovery. The adjusted p-values (q-values, R's
//! `p.adjust(method = "BH")`) are `min_{j >= k} p_(j) m / j`, capped at 1, so that
//! `q_i <= alpha` exactly for the discoveries at level `alpha`.
//!
//! NaN p-values (islands, for instance) are never discoveries but still count in `m`,
//! which keeps the procedure conservative.

/// Benjamini–Hochberg adjusted p-values, in the order given.
///
/// ```
/// let q = gridgov_hotspot::fdr::benjamini_hochberg(&[0.01, 0.04, 0.03, 0.005, 0.2]);
/// assert!((q[0] - 0.025).abs() < 1e-12 && (q[4] - 0.2).abs() < 1e-12);
/// ```
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut q = vec![f64::NAN; m];
    let mut running = 1.0_f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let adjusted = p[i] * m as f64 / (rank + 1) as f64;
        running = running.min(adjusted);
        q[i] = running;
    }
    q
}

/// The BH threshold at level `alpha`: the largest `p_(k) <= k alpha / m`, or `None` when no
/// p-value passes.
pub fn fdr_threshold(p: &[f64], alpha: f64) -> Option<f64> {
    let m = p.len() as f64;
    let mut sorted: Vec<f64> = p.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    sorted
        .iter()
        .enumerate()
        .rev()
        .find(|&(k, &pk)| pk <= (k + 1) as f64 * alpha / m)
        .map(|(_, &pk)| pk)
}

/// Which p-values are discoveries at FDR level `alpha` (at or below [`fdr_threshold`]).
pub fn fdr_significant(p: &[f64], alpha: f64) -> Vec<bool> {
    match fdr_threshold(p, alpha) {
        Some(t) => p.iter().map(|&v| v <= t).collect(),
        None => vec![false; p.len()],
    }
}
