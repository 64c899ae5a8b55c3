//! Features by H3 cell: the unit set of aggregation, hotspot analysis and grid partitioning.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo::Coord;
use gridgov_model::FeatureId;
use h3o::{CellIndex, LatLng, Resolution};

/// The coarsest resolution counts are offered at (about 36 km² a cell).
pub const COARSEST: Resolution = Resolution::Six;
/// The default resolution features are indexed at (about 2,150 m² a cell, a courtyard or
/// two).
pub const DEFAULT_RESOLUTION: Resolution = Resolution::Eleven;

/// Each feature's H3 cell at one resolution (points by their position, lines and polygons by
/// an interior point), and the features of any cell at that resolution or coarser.
#[derive(Debug, Clone)]
pub struct Cells {
    resolution: Resolution,
    of: HashMap<i64, CellIndex>,
    members: BTreeSet<(CellIndex, i64)>,
}

/// A resolution finer than the one features were indexed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("H3 resolution {asked} is finer than the index's resolution {indexed}")]
pub struct TooFine {
    /// The resolution asked for.
    pub asked: Resolution,
    /// The index's resolution.
    pub indexed: Resolution,
}

impl Cells {
    /// An empty set at `resolution`.
    pub fn new(resolution: Resolution) -> Self {
        Self {
            resolution,
            of: HashMap::new(),
            members: BTreeSet::new(),
        }
    }

    /// The resolution features are indexed at.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Places a feature at a WGS84 position (replacing its old cell); positions that are not
    /// valid coordinates are left out.
    pub fn insert(&mut self, id: i64, at: Coord<f64>) {
        self.remove(id);
        let Ok(ll) = LatLng::new(at.y, at.x) else {
            return;
        };
        let cell = ll.to_cell(self.resolution);
        self.of.insert(id, cell);
        self.members.insert((cell, id));
    }

    /// Takes a feature out.
    pub fn remove(&mut self, id: i64) {
        if let Some(cell) = self.of.remove(&id) {
            self.members.remove(&(cell, id));
        }
    }

    /// The cell of a feature at the index's resolution.
    pub fn cell_of(&self, id: FeatureId) -> Option<CellIndex> {
        self.of.get(&id.0).copied()
    }

    /// The cell of a feature at `resolution` (its ancestor when coarser).
    pub fn cell_at(
        &self,
        id: FeatureId,
        resolution: Resolution,
    ) -> Result<Option<CellIndex>, TooFine> {
        self.check(resolution)?;
        Ok(self.cell_of(id).and_then(|c| c.parent(resolution)))
    }

    fn check(&self, asked: Resolution) -> Result<(), TooFine> {
        if asked > self.resolution {
            return Err(TooFine {
                asked,
                indexed: self.resolution,
            });
        }
        Ok(())
    }

    /// How many features lie in each non-empty cell at `resolution`.
    pub fn counts(&self, resolution: Resolution) -> Result<BTreeMap<CellIndex, usize>, TooFine> {
        self.check(resolution)?;
        let mut out = BTreeMap::new();
        for (cell, _) in &self.members {
            if let Some(parent) = cell.parent(resolution) {
                *out.entry(parent).or_insert(0) += 1;
            }
        }
        Ok(out)
    }

    /// The features in a cell (at the index's resolution or coarser), by id.
    pub fn in_cell(&self, cell: CellIndex) -> Result<Vec<FeatureId>, TooFine> {
        self.check(cell.resolution())?;
        let last = cell.children_count(self.resolution).saturating_sub(1);
        let (Some(first), Some(last)) = (
            cell.child_at(0, self.resolution),
            cell.child_at(last, self.resolution),
        ) else {
            return Ok(Vec::new());
        };
        let mut ids: Vec<FeatureId> = self
            .members
            .range((first, i64::MIN)..=(last, i64::MAX))
            .map(|&(_, id)| FeatureId(id))
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// How many features are placed.
    pub fn len(&self) -> usize {
        self.of.len()
    }

    /// Whether no feature is placed.
    pub fn is_empty(&self) -> bool {
        self.of.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_at_coarser_resolutions_add_up_and_cells_list_their_features() {
        let mut cells = Cells::new(DEFAULT_RESOLUTION);
        // A seeded scatter over about 20 km around a point in Guizhou.
        let mut state: u64 = 7;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for id in 0..5000 {
            cells.insert(
                id,
                Coord {
                    x: 105.9 + next() * 0.2,
                    y: 26.2 + next() * 0.2,
                },
            );
        }
        assert_eq!(cells.len(), 5000);
        for r in 6..=11u8 {
            let res = Resolution::try_from(r).unwrap();
            let counts = cells.counts(res).unwrap();
            assert_eq!(counts.values().sum::<usize>(), 5000, "resolution {r}");
            for (cell, n) in &counts {
                let members = cells.in_cell(*cell).unwrap();
                assert_eq!(members.len(), *n, "{cell}");
                for id in members {
                    assert_eq!(cells.cell_at(id, res).unwrap(), Some(*cell));
                }
            }
        }
        // Finer than indexed is refused; moving a feature moves its count.
        assert!(cells.counts(Resolution::Twelve).is_err());
        let before = cells.cell_of(FeatureId(0)).unwrap();
        cells.insert(0, Coord { x: 100.0, y: 30.0 });
        assert_ne!(cells.cell_of(FeatureId(0)), Some(before));
        assert!(!cells.in_cell(before).unwrap().contains(&FeatureId(0)));
        cells.remove(0);
        assert_eq!(cells.len(), 4999);
        assert_eq!(cells.cell_of(FeatureId(0)), None);
    }
}
