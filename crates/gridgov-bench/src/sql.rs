//! The PostGIS queries of the agreement test and the lookup bench (the SQL lives in the
//! crate's `sql/` folder).

/// The grid of the plan in force holding one point (`$1` longitude, `$2` latitude), smallest
/// id first; no row outside every grid. The bench's one-query-per-point lookup.
pub const GRID_AT: &str = include_str!("../sql/grid_at.sql");

/// For the points of two `float8[]` arrays (`$1` longitudes, `$2` latitudes): the position
/// `i` (from 1), the ascending ids of the effective grids containing each (`bigint[]`,
/// empty for none) and the geodesic metres to the nearest transfer station, in one query.
pub const AGREEMENT: &str = include_str!("../sql/agreement.sql");
