//! gridgov-hotspot: H3 binning and local spatial statistics for dispute hotspot maps.
//!
//! # What this crate owns
//!
//! Turning dispute events into counts per H3 cell (or per region), the spatial weights
//! between cells or regions, and the statistics that say where counts cluster: Getis-Ord
//! Gi / Gi*, local and global Moran's I, General G, false discovery rate control, hot/cold
//! confidence bins, the Mann-Kendall trend test and ArcGIS-style emerging hot spot
//! categories. It does no I/O, touches no database and knows nothing of HTTP: values in,
//! values out, deterministic for a given seed.
//!
//! # Layout
//!
//! One module per algorithm:
//!
//! | module | what |
//! | --- | --- |
//! | [`analysis`] | the one entry point: events + request → map per cell, totals per region |
//! | [`bin`] | events → counts per H3 cell (resolution 6..=10), study area of zero cells |
//! | [`aggregate`] | cell counts → region totals |
//! | [`weights`] | sparse (CSR) spatial weights: H3 k-ring, GAL, queen/rook, distance band |
//! | [`getis_ord`] | local Gi / Gi* and General G, as `PySAL` esda 2.9 |
//! | [`moran`] | local Moran's I with quadrants, global Moran's I, as esda 2.9 |
//! | [`permutation`] | seeded conditional randomisation for pseudo p-values |
//! | [`fdr`] | Benjamini–Hochberg |
//! | [`classify`] | hot/cold confidence bins -3..=3 (ArcGIS `Gi_Bin`) |
//! | [`count_tail`] | exact randomisation p-values of neighbourhood counts (Gi\* on counts) |
//! | [`mod@mann_kendall`] | Mann-Kendall trend test |
//! | [`emerging`] | emerging hot spot analysis |
//! | [`normal`] | the standard normal distribution |
//! | [`error`] | error types |
//!
//! # Example
//!
//! ```
//! use gridgov_hotspot::getis_ord::{local_g, LocalGOptions};
//! use gridgov_hotspot::weights::SpatialWeights;
//!
//! // Five cells in a row, high values at one end.
//! let w = SpatialWeights::from_neighbour_lists(&[
//!     vec![1], vec![0, 2], vec![1, 3], vec![2, 4], vec![3],
//! ])?;
//! let y = [9.0, 8.0, 2.0, 1.0, 0.0];
//! let gi = local_g(&y, &w, &LocalGOptions { permutations: 99, ..LocalGOptions::default() })?;
//! assert!(gi.z[0] > 0.0 && gi.z[4] < 0.0);
//! # Ok::<(), gridgov_hotspot::error::HotspotError>(())
//! ```

pub mod aggregate;
pub mod analysis;
pub mod bin;
pub mod classify;
pub mod count_tail;
pub mod emerging;
pub mod error;
pub mod fdr;
pub mod getis_ord;
pub mod mann_kendall;
pub mod moran;
pub mod normal;
pub mod permutation;
pub mod weights;

/// Region totals from cell counts.
pub use aggregate::{aggregate_by_region, totals_on, RegionTotals};
/// The hotspot analysis from events to a map.
pub use analysis::{
    analyse, summarise_regions, AnalysisError, CellStats, HotspotRequest, Hotspots, Inference,
    Method, RegionSummary, Slicing,
};
/// Binning events into H3 cells.
pub use bin::{bin_events, study_area, values_on, BinError, DisputeEvent, EventFilter};
/// Hot/cold confidence bins.
pub use classify::{gi_bins, GiBin};
/// Emerging hot spot analysis.
pub use emerging::{
    classify_emerging, emerging_hotspots, EmergingCategory, EmergingHotspots, EmergingLocation,
    EmergingOptions, SpotState,
};
/// Error types.
pub use error::{HotspotError, StatsError};
/// Benjamini–Hochberg false discovery rate control.
pub use fdr::{benjamini_hochberg, fdr_significant, fdr_threshold};
/// Getis-Ord statistics.
pub use getis_ord::{general_g, local_g, local_g_weights, GeneralG, LocalG, LocalGOptions};
/// Mann-Kendall trend test.
pub use mann_kendall::{mann_kendall, MannKendall};
/// Moran's I.
pub use moran::{moran_global, moran_local, GlobalMoran, LocalMoran, LocalMoranOptions, Quadrant};
/// Spatial weights.
pub use weights::{GalWeights, SpatialWeights, Transform, WeightsError};
