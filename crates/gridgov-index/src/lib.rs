//! gridgov-index: in-memory spatial indexes over a county's features, answering the grid
//! worker's questions ("which village and grid is this, who is responsible, where is the
//! nearest transfer station") and the map's ("what lies in this box, near this point, in
//! this H3 cell") without scanning.
//!
//! # Layout
//! - [`layer`]: [`LayerIndex`], one layer's features in an R-tree over their bounding boxes
//!   (the tree narrows, geometries decide): which polygon covers a point, k-nearest,
//!   within a distance, in a box; distances are geodesic metres. Kept current feature by
//!   feature.
//! - [`cells`]: [`Cells`], each feature's H3 cell and the features of a cell, with counts
//!   per cell at resolutions 6 to the index's own.
//! - [`batch`]: many points at once (CSV or GeoJSON), annotated in input order.
//! - [`county`]: [`CountyIndex`], every spatial layer of a county and the grid plan in
//!   force, and the [`Lookup`] of one point in any of the three coordinate systems.
//!
//! Model values in, model values out: no database and no HTTP here.

pub mod batch;
pub mod cells;
pub mod county;
pub mod layer;

pub use cells::Cells;
pub use county::{CountyIndex, Everything, Lookup, LookupFilter, Nearest, LOOKUP_LAYERS};
pub use layer::{Frame, LayerIndex, Near};
