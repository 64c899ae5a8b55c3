//! gridgov-index: in-memory spatial indexes over a county's features, answering the grid
//! worker's questions ("which village and grid is this, who is responsible, where is the
//! nearest transfer station") without scanning.
//!
//! # Layout
//! - [`polygons`]: [`PolygonIndex`], an R-tree over polygon bounding boxes that narrows the
//!   candidates, each then tested exactly; which feature covers a point.
//! - [`points`]: [`PointIndex`], an R-tree over points in a locally scaled plane for
//!   k-nearest candidates, ranked by geodesic distance in metres.
//! - [`county`]: [`CountyIndex`], the divisions, the effective grids and the stations of a
//!   county together, and the [`Lookup`] of one point.
//!
//! Model values in, model values out: no database and no HTTP here.

pub mod county;
pub mod points;
pub mod polygons;

pub use county::{CountyIndex, Lookup, Nearest};
pub use points::PointIndex;
pub use polygons::PolygonIndex;
