//! Aggregating cell counts into arbitrary regions (grids, villages, townships).
//!
//! Regions then get their own weights, typically [`crate::weights::SpatialWeights::queen`]
//! over their polygons, and the same statistics run on the region totals.

use std::collections::BTreeMap;

use h3o::CellIndex;

/// Region totals, and what could not be placed in a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionTotals<R> {
    /// Sum of the counts of each region's cells, by region id. Regions that appear in the
    /// mapping but have no counted cell are present with 0.
    pub totals: BTreeMap<R, u64>,
    /// Sum of the counts of cells that the mapping does not place in any region.
    pub unassigned: u64,
}

/// Sums `counts` per region, with `region_of` mapping each cell to its region id.
pub fn aggregate_by_region<R>(
    counts: &BTreeMap<CellIndex, u64>,
    region_of: &BTreeMap<CellIndex, R>,
) -> RegionTotals<R>
where
    R: Ord + Clone,
{
    let mut totals: BTreeMap<R, u64> = region_of.values().map(|r| (r.clone(), 0)).collect();
    let mut unassigned = 0;
    for (cell, &count) in counts {
        match region_of.get(cell) {
            Some(region) => *totals.entry(region.clone()).or_insert(0) += count,
            None => unassigned += count,
        }
    }
    RegionTotals { totals, unassigned }
}

/// The totals of `regions`, in their order, as `f64` (0 for regions without a total), ready
/// to pair with weights built over the same region order.
pub fn totals_on<R: Ord>(regions: &[R], totals: &RegionTotals<R>) -> Vec<f64> {
    regions
        .iter()
        .map(|r| totals.totals.get(r).map_or(0.0, |&v| v as f64))
        .collect()
}
