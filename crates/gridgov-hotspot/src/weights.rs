//! Sparse spatial weights: who neighbours whom, and how much.
//!
//! [`SpatialWeights`] is a compressed sparse row (CSR) matrix over observations `0..n`:
//! one flat array of neighbour indices, one of weights, and row offsets into both, plus a
//! separate self-weight per observation (zero unless the weights were made "star" with
//! [`SpatialWeights::with_star`] for Getis-Ord Gi*). Rows are sorted by neighbour index, so
//! two weights built from the same relation compare equal.
//!
//! Builders:
//!
//! - [`SpatialWeights::from_h3_k_ring`]: H3 cells within grid distance `1..=k`, among the
//!   cells given (cells not given do not exist for the statistics: give the zero-count cells
//!   of the study area too, see [`crate::bin::study_area`]).
//! - [`SpatialWeights::from_gal`]: the text of a GAL file (`GeoDa` / `PySAL` `columbus.gal`).
//! - [`SpatialWeights::queen`] / [`SpatialWeights::rook`]: polygon contiguity by exact
//!   coordinates: queen when two polygons share at least one vertex, rook when they share
//!   at least one edge (two consecutive vertices, in either direction). Polygons whose
//!   common border is digitised with different vertices (T-junctions, snapping noise) are
//!   not found neighbours; snap the data first.
//! - [`SpatialWeights::distance_band`]: planar points within a Euclidean distance
//!   (inclusive), binary like libpysal's `DistanceBand(binary=True)`. Use projected
//!   coordinates; degrees are not a distance.
//! - [`SpatialWeights::from_neighbour_lists`] / [`SpatialWeights::from_weighted_lists`]:
//!   any relation the caller already has.
//!
//! Transforms ([`SpatialWeights::transformed`]) follow libpysal: binary sets every
//! non-zero weight to one, row-standardisation divides each row (self-weight included) by
//! its sum, leaving rows of islands at zero.

use std::collections::HashMap;

use geo::{Coord, MultiPolygon};
use h3o::CellIndex;
use thiserror::Error;

/// A problem building spatial weights.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum WeightsError {
    /// A neighbour index is not an observation.
    #[error("row {row}: neighbour index {index} is out of range for {n} observations")]
    IndexOutOfRange {
        /// The row holding the bad index.
        row: usize,
        /// The bad index.
        index: usize,
        /// The number of observations.
        n: usize,
    },
    /// A row lists itself as its own neighbour (use [`SpatialWeights::with_star`]).
    #[error("row {row} lists itself as a neighbour; self-weights are set with with_star")]
    SelfNeighbour {
        /// The row.
        row: usize,
    },
    /// A weight is negative, infinite or NaN.
    #[error("row {row}: weight {weight} is not a finite non-negative number")]
    InvalidWeight {
        /// The row.
        row: usize,
        /// The weight.
        weight: f64,
    },
    /// More observations than the `u32` neighbour indices can address.
    #[error("{n} observations are more than the weights can index")]
    TooManyObservations {
        /// The number of observations.
        n: usize,
    },
    /// The same H3 cell was given twice.
    #[error("H3 cell {cell} is given more than once")]
    DuplicateCell {
        /// The repeated cell.
        cell: CellIndex,
    },
    /// H3 cells of different resolutions were mixed.
    #[error("H3 cells mix resolutions {first} and {other}")]
    MixedResolutions {
        /// Resolution of the first cell.
        first: u8,
        /// A different resolution found later.
        other: u8,
    },
    /// A GAL file could not be read.
    #[error("GAL line {line}: {message}")]
    Gal {
        /// One-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A distance band threshold that is not a finite non-negative number, or a point
    /// with a non-finite coordinate.
    #[error("distance band: {0}")]
    DistanceBand(String),
}

/// How to rescale weights before computing a statistic (libpysal's `transform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transform {
    /// `"B"`: every non-zero weight becomes 1.
    Binary,
    /// `"R"`: each row is divided by its sum, so non-island rows sum to 1.
    Row,
}

/// Sparse spatial weights in compressed sparse row form (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct SpatialWeights {
    offsets: Vec<usize>,
    neighbours: Vec<u32>,
    weights: Vec<f64>,
    self_weights: Vec<f64>,
}

/// Weights read from a GAL file, with the observation ids in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct GalWeights {
    /// Observation ids as written in the file; index `i` of the weights is `ids[i]`.
    pub ids: Vec<String>,
    /// Binary weights over the ids.
    pub weights: SpatialWeights,
}

/// Neighbour `j` of observation `row` among `n`, checked: in range and not `row` itself.
fn neighbour_of(row: usize, j: usize, n: usize) -> Result<u32, WeightsError> {
    if j >= n {
        return Err(WeightsError::IndexOutOfRange { row, index: j, n });
    }
    if j == row {
        return Err(WeightsError::SelfNeighbour { row });
    }
    Ok(j as u32)
}

fn check_len(n: usize) -> Result<(), WeightsError> {
    if u32::try_from(n).is_err() {
        return Err(WeightsError::TooManyObservations { n });
    }
    Ok(())
}

impl SpatialWeights {
    /// Binary weights from neighbour lists: `lists[i]` holds the indices of `i`'s
    /// neighbours. Duplicates are merged; order does not matter.
    pub fn from_neighbour_lists(lists: &[Vec<usize>]) -> Result<Self, WeightsError> {
        let n = lists.len();
        check_len(n)?;
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let mut neighbours = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        let mut row = Vec::new();
        for (i, list) in lists.iter().enumerate() {
            row.clear();
            for &j in list {
                row.push(neighbour_of(i, j, n)?);
            }
            row.sort_unstable();
            row.dedup();
            neighbours.extend_from_slice(&row);
            offsets.push(neighbours.len());
        }
        let weights = vec![1.0; neighbours.len()];
        Ok(Self {
            offsets,
            neighbours,
            weights,
            self_weights: vec![0.0; n],
        })
    }

    /// General weights from lists of `(neighbour index, weight)`. Zero weights are dropped
    /// (as libpysal's sparse matrices do); a neighbour given twice keeps the sum.
    pub fn from_weighted_lists(lists: &[Vec<(usize, f64)>]) -> Result<Self, WeightsError> {
        let n = lists.len();
        check_len(n)?;
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        let mut neighbours = Vec::new();
        let mut weights = Vec::new();
        let mut row: Vec<(u32, f64)> = Vec::new();
        for (i, list) in lists.iter().enumerate() {
            row.clear();
            for &(j, w) in list {
                let j = neighbour_of(i, j, n)?;
                if !w.is_finite() || w < 0.0 {
                    return Err(WeightsError::InvalidWeight { row: i, weight: w });
                }
                row.push((j, w));
            }
            row.sort_unstable_by_key(|&(j, _)| j);
            let mut k = 0;
            while k < row.len() {
                let j = row[k].0;
                let mut w = 0.0;
                while k < row.len() && row[k].0 == j {
                    w += row[k].1;
                    k += 1;
                }
                if w > 0.0 {
                    neighbours.push(j);
                    weights.push(w);
                }
            }
            offsets.push(neighbours.len());
        }
        Ok(Self {
            offsets,
            neighbours,
            weights,
            self_weights: vec![0.0; n],
        })
    }

    /// Binary weights joining each H3 cell to the given cells within grid distance
    /// `1..=k` (`k = 1`: the six, or five at pentagons, adjacent cells).
    ///
    /// Index `i` of the weights is `cells[i]`. All cells must share one resolution and be
    /// distinct. The relation is symmetric.
    pub fn from_h3_k_ring(cells: &[CellIndex], k: u32) -> Result<Self, WeightsError> {
        check_len(cells.len())?;
        let mut position: HashMap<CellIndex, usize> = HashMap::with_capacity(cells.len());
        if let Some(first) = cells.first() {
            let res = first.resolution();
            for (i, &cell) in cells.iter().enumerate() {
                if cell.resolution() != res {
                    return Err(WeightsError::MixedResolutions {
                        first: u8::from(res),
                        other: u8::from(cell.resolution()),
                    });
                }
                if position.insert(cell, i).is_some() {
                    return Err(WeightsError::DuplicateCell { cell });
                }
            }
        }
        let mut disk: Vec<CellIndex> = Vec::new();
        let lists: Vec<Vec<usize>> = cells
            .iter()
            .enumerate()
            .map(|(i, &cell)| {
                disk.clear();
                disk.extend(cell.grid_disk::<Vec<_>>(k));
                disk.iter()
                    .filter_map(|c| position.get(c).copied())
                    .filter(|&j| j != i)
                    .collect()
            })
            .collect();
        Self::from_neighbour_lists(&lists)
    }

    /// Binary weights from the text of a GAL file.
    ///
    /// The header is either `n` or `0 n shapefile id_variable`; then, for each
    /// observation, a line `id count` followed by the `count` neighbour ids (on one line
    /// in practice; an island's empty line may be present or not). Neighbour ids refer to
    /// the ids of the file; index `i` of the weights is the `i`-th id in file order.
    pub fn from_gal(text: &str) -> Result<GalWeights, WeightsError> {
        let gal = |line: usize, message: String| WeightsError::Gal { line, message };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l)).peekable();
        // Skip leading blank lines.
        while lines.peek().is_some_and(|(_, l)| l.trim().is_empty()) {
            lines.next();
        }
        let (hline, header) = lines
            .next()
            .ok_or_else(|| gal(1, "empty file".to_owned()))?;
        let htokens: Vec<&str> = header.split_whitespace().collect();
        let n_token = match htokens.len() {
            1 => htokens[0],
            4 => htokens[1],
            other => {
                return Err(gal(
                    hline,
                    format!("header has {other} fields; expected `n` or `0 n name id`"),
                ))
            }
        };
        let n: usize = n_token.parse().map_err(|_| {
            gal(
                hline,
                format!("observation count {n_token:?} is not a number"),
            )
        })?;
        check_len(n)?;
        let mut ids = Vec::with_capacity(n);
        let mut raw: Vec<(usize, Vec<String>)> = Vec::with_capacity(n);
        for _ in 0..n {
            while lines.peek().is_some_and(|(_, l)| l.trim().is_empty()) {
                lines.next();
            }
            let (lno, line) = lines.next().ok_or_else(|| {
                gal(
                    hline,
                    format!("expected {n} observations, found {}", ids.len()),
                )
            })?;
            let mut tokens = line.split_whitespace();
            let (Some(id), Some(count), None) = (tokens.next(), tokens.next(), tokens.next())
            else {
                return Err(gal(lno, "expected `id count`".to_owned()));
            };
            let count: usize = count
                .parse()
                .map_err(|_| gal(lno, format!("neighbour count {count:?} is not a number")))?;
            let mut neighbour_ids = Vec::with_capacity(count);
            if count == 0 {
                if lines.peek().is_some_and(|(_, l)| l.trim().is_empty()) {
                    lines.next();
                }
            } else {
                while neighbour_ids.len() < count {
                    let (nlno, nline) = lines.next().ok_or_else(|| {
                        gal(lno, format!("id {id}: expected {count} neighbour ids"))
                    })?;
                    for t in nline.split_whitespace() {
                        neighbour_ids.push(t.to_owned());
                    }
                    if neighbour_ids.len() > count {
                        return Err(gal(
                            nlno,
                            format!(
                                "id {id}: {} neighbour ids, expected {count}",
                                neighbour_ids.len()
                            ),
                        ));
                    }
                }
            }
            ids.push(id.to_owned());
            raw.push((lno, neighbour_ids));
        }
        let mut position: HashMap<&str, usize> = HashMap::with_capacity(n);
        for (i, id) in ids.iter().enumerate() {
            if position.insert(id.as_str(), i).is_some() {
                return Err(gal(raw[i].0, format!("id {id} appears twice")));
            }
        }
        let mut lists = Vec::with_capacity(n);
        for (i, (lno, neighbour_ids)) in raw.iter().enumerate() {
            let mut list = Vec::with_capacity(neighbour_ids.len());
            for nid in neighbour_ids {
                let j = *position
                    .get(nid.as_str())
                    .ok_or_else(|| gal(lno + 1, format!("unknown neighbour id {nid}")))?;
                if j == i {
                    return Err(gal(lno + 1, format!("id {nid} lists itself")));
                }
                list.push(j);
            }
            lists.push(list);
        }
        Ok(GalWeights {
            ids,
            weights: Self::from_neighbour_lists(&lists)?,
        })
    }

    /// Queen contiguity: polygons sharing at least one vertex (exact coordinates).
    pub fn queen(polygons: &[MultiPolygon<f64>]) -> Result<Self, WeightsError> {
        let keys = polygons.iter().map(|mp| {
            let mut keys: Vec<(u64, u64)> =
                rings(mp).flat_map(|r| r.iter().map(coord_key)).collect();
            keys.sort_unstable();
            keys.dedup();
            keys
        });
        Self::from_shared_keys(polygons.len(), keys)
    }

    /// Rook contiguity: polygons sharing at least one edge (two consecutive vertices, in
    /// either direction, exact coordinates).
    pub fn rook(polygons: &[MultiPolygon<f64>]) -> Result<Self, WeightsError> {
        let keys = polygons.iter().map(|mp| {
            let mut keys: Vec<((u64, u64), (u64, u64))> = rings(mp)
                .flat_map(|r| {
                    r.windows(2).filter_map(|w| {
                        let (a, b) = (coord_key(&w[0]), coord_key(&w[1]));
                        match a.cmp(&b) {
                            std::cmp::Ordering::Less => Some((a, b)),
                            std::cmp::Ordering::Greater => Some((b, a)),
                            std::cmp::Ordering::Equal => None,
                        }
                    })
                })
                .collect();
            keys.sort_unstable();
            keys.dedup();
            keys
        });
        Self::from_shared_keys(polygons.len(), keys)
    }

    /// Joins every pair of observations whose key sets intersect.
    fn from_shared_keys<K, I>(n: usize, keys: I) -> Result<Self, WeightsError>
    where
        K: std::hash::Hash + Eq,
        I: Iterator<Item = Vec<K>>,
    {
        let mut owners: HashMap<K, Vec<usize>> = HashMap::new();
        for (i, ks) in keys.enumerate() {
            for k in ks {
                owners.entry(k).or_default().push(i);
            }
        }
        let mut lists = vec![Vec::new(); n];
        for group in owners.values() {
            for (a, &i) in group.iter().enumerate() {
                for &j in &group[a + 1..] {
                    lists[i].push(j);
                    lists[j].push(i);
                }
            }
        }
        Self::from_neighbour_lists(&lists)
    }

    /// Binary distance band: points whose Euclidean distance is at most `threshold`.
    pub fn distance_band(points: &[Coord<f64>], threshold: f64) -> Result<Self, WeightsError> {
        if !threshold.is_finite() || threshold < 0.0 {
            return Err(WeightsError::DistanceBand(format!(
                "threshold {threshold} is not a finite non-negative number"
            )));
        }
        if let Some(i) = points
            .iter()
            .position(|p| !p.x.is_finite() || !p.y.is_finite())
        {
            return Err(WeightsError::DistanceBand(format!(
                "point {i} has a non-finite coordinate"
            )));
        }
        let mut order: Vec<usize> = (0..points.len()).collect();
        order.sort_unstable_by(|&a, &b| points[a].x.total_cmp(&points[b].x));
        let t2 = threshold * threshold;
        let mut lists = vec![Vec::new(); points.len()];
        for (a, &i) in order.iter().enumerate() {
            let p = points[i];
            for &j in &order[a + 1..] {
                let q = points[j];
                if q.x - p.x > threshold {
                    break;
                }
                let (dx, dy) = (q.x - p.x, q.y - p.y);
                if dx * dx + dy * dy <= t2 {
                    lists[i].push(j);
                    lists[j].push(i);
                }
            }
        }
        Self::from_neighbour_lists(&lists)
    }

    /// The number of observations.
    pub fn len(&self) -> usize {
        self.self_weights.len()
    }

    /// Whether there are no observations.
    pub fn is_empty(&self) -> bool {
        self.self_weights.is_empty()
    }

    /// The neighbours of `i` (not `i` itself), ascending.
    pub fn neighbours(&self, i: usize) -> &[u32] {
        &self.neighbours[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The weights of `i`'s neighbours, aligned with [`Self::neighbours`].
    pub fn neighbour_weights(&self, i: usize) -> &[f64] {
        &self.weights[self.offsets[i]..self.offsets[i + 1]]
    }

    /// The weight of `i` on itself (zero unless star).
    pub fn self_weight(&self, i: usize) -> f64 {
        self.self_weights[i]
    }

    /// The number of neighbours of `i`, not counting itself.
    pub fn cardinality(&self, i: usize) -> usize {
        self.offsets[i + 1] - self.offsets[i]
    }

    /// The largest cardinality.
    pub fn max_cardinality(&self) -> usize {
        self.offsets
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or(0)
    }

    /// The observations without neighbours.
    pub fn islands(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.cardinality(i) == 0)
            .collect()
    }

    /// Whether any observation has a non-zero self-weight.
    pub fn has_self_weights(&self) -> bool {
        self.self_weights.iter().any(|&w| w != 0.0)
    }

    /// Row sum of `i`, its self-weight included.
    pub fn row_sum(&self, i: usize) -> f64 {
        self.self_weights[i] + self.neighbour_weights(i).iter().sum::<f64>()
    }

    /// The weights rescaled by `transform` (self-weights included).
    #[must_use]
    pub fn transformed(&self, transform: Transform) -> Self {
        let mut out = self.clone();
        out.transform(transform);
        out
    }

    /// Rescales the weights in place by `transform` (see [`Self::transformed`]).
    pub(crate) fn transform(&mut self, transform: Transform) {
        match transform {
            Transform::Binary => {
                self.weights.fill(1.0);
                for w in &mut self.self_weights {
                    if *w != 0.0 {
                        *w = 1.0;
                    }
                }
            }
            Transform::Row => {
                for i in 0..self.len() {
                    let s = self.row_sum(i);
                    if s > 0.0 {
                        for w in &mut self.weights[self.offsets[i]..self.offsets[i + 1]] {
                            *w /= s;
                        }
                        self.self_weights[i] /= s;
                    }
                }
            }
        }
    }

    /// The same weights with every self-weight set to `weight` (zero removes them).
    #[must_use]
    pub fn with_self_weight(&self, weight: f64) -> Self {
        let mut out = self.clone();
        out.self_weights.fill(weight);
        out
    }

    /// Sets every self-weight to `weight` in place (see [`Self::with_self_weight`]).
    pub(crate) fn set_self_weights(&mut self, weight: f64) {
        self.self_weights.fill(weight);
    }

    /// "Star" weights for Gi*: each observation weighs itself by the largest weight of its
    /// row (1 for binary weights), as esda does when Gi* is asked of weights without a
    /// diagonal. Islands weigh themselves 1.
    #[must_use]
    pub fn with_star(&self) -> Self {
        let mut out = self.clone();
        out.star();
        out
    }

    /// Makes the weights star in place (see [`Self::with_star`]).
    pub(crate) fn star(&mut self) {
        for i in 0..self.len() {
            let max = self
                .neighbour_weights(i)
                .iter()
                .copied()
                .fold(0.0_f64, f64::max);
            self.self_weights[i] = if max > 0.0 { max } else { 1.0 };
        }
    }

    /// The spatial lag `W y`: for each `i`, `w_ii y_i + sum_j w_ij y_j`.
    ///
    /// # Panics
    /// If `y.len()` differs from [`Self::len`].
    pub fn lag(&self, y: &[f64]) -> Vec<f64> {
        assert_eq!(y.len(), self.len(), "lag: value count differs from weights");
        (0..self.len())
            .map(|i| {
                let mut s = self.self_weights[i] * y[i];
                for (&j, &w) in self.neighbours(i).iter().zip(self.neighbour_weights(i)) {
                    s += w * y[j as usize];
                }
                s
            })
            .collect()
    }

    /// The weight `w_ij` (`i == j` gives the self-weight).
    pub fn weight(&self, i: usize, j: usize) -> f64 {
        if i == j {
            return self.self_weights[i];
        }
        let Ok(j) = u32::try_from(j) else { return 0.0 };
        match self.neighbours(i).binary_search(&j) {
            Ok(k) => self.neighbour_weights(i)[k],
            Err(_) => 0.0,
        }
    }

    /// Whether `w_ij == w_ji` for every pair (exact equality).
    #[expect(clippy::float_cmp, reason = "symmetry is meant exactly")]
    pub fn is_symmetric(&self) -> bool {
        (0..self.len()).all(|i| {
            self.neighbours(i)
                .iter()
                .zip(self.neighbour_weights(i))
                .all(|(&j, &w)| self.weight(j as usize, i) == w)
        })
    }

    /// `S0`: the sum of all weights.
    pub fn s0(&self) -> f64 {
        self.weights.iter().sum::<f64>() + self.self_weights.iter().sum::<f64>()
    }

    /// `S1 = 1/2 sum_ij (w_ij + w_ji)^2`.
    pub fn s1(&self) -> f64 {
        let mut total = 0.0;
        for i in 0..self.len() {
            let d = 2.0 * self.self_weights[i];
            total += d * d;
            for (&j, &w) in self.neighbours(i).iter().zip(self.neighbour_weights(i)) {
                let back = self.weight(j as usize, i);
                let t = w + back;
                total += t * t;
                if back == 0.0 {
                    // The ordered pair (j, i) is not stored but has the same term.
                    total += t * t;
                }
            }
        }
        total / 2.0
    }

    /// `S2 = sum_i (row_sum_i + column_sum_i)^2`.
    pub fn s2(&self) -> f64 {
        let n = self.len();
        let mut col = self.self_weights.clone();
        for i in 0..n {
            for (&j, &w) in self.neighbours(i).iter().zip(self.neighbour_weights(i)) {
                col[j as usize] += w;
            }
        }
        (0..n)
            .map(|i| {
                let t = self.row_sum(i) + col[i];
                t * t
            })
            .sum()
    }
}

/// Every ring (exterior and interiors) of every polygon, as coordinate slices.
fn rings(mp: &MultiPolygon<f64>) -> impl Iterator<Item = &[Coord<f64>]> {
    mp.0.iter().flat_map(|p| {
        std::iter::once(p.exterior().0.as_slice())
            .chain(p.interiors().iter().map(|r| r.0.as_slice()))
    })
}

/// A hashable exact key for a coordinate (`-0.0` and `0.0` are the same point).
fn coord_key(c: &Coord<f64>) -> (u64, u64) {
    let norm = |v: f64| {
        if v == 0.0 {
            0.0_f64.to_bits()
        } else {
            v.to_bits()
        }
    };
    (norm(c.x), norm(c.y))
}
