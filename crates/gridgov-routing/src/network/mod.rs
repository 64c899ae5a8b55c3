//! The road graph: built from road lines (the `roads` layer, an OpenStreetMap import or the
//! demo county), with one-way streets and speeds by road class for a vehicle [`Profile`];
//! points snapped onto the nearest usable road; strongly connected components; distance and
//! time matrices and routes with their geometry.
//!
//! ```
//! use geo::Coord;
//! use gridgov_model::vocab::RoadClass;
//! use gridgov_routing::network::{Profile, RoadLine, RoadNetwork};
//!
//! let c = |x: f64, y: f64| Coord { x, y };
//! let road = |id, coords, oneway| RoadLine { id, coords, class: RoadClass::Village, oneway };
//! let roads = vec![
//!     road(1, vec![c(104.0, 26.0), c(104.01, 26.0)], false),
//!     road(2, vec![c(104.01, 26.0), c(104.01, 26.01)], true),
//! ];
//! let net = RoadNetwork::build(roads, &Profile::tricycle())?;
//! let a = net.snap(c(104.002, 26.0001))?;
//! let b = net.snap(c(104.0101, 26.005))?;
//! let m = net.matrix(&[a.clone(), b.clone()]);
//! assert!(m.distance(0, 1).is_some()); // onto the one-way street, forward
//! assert!(m.distance(1, 0).is_none()); // and no way back: it is a one-way dead end
//! let route = net.path(&a, &b).expect("a route");
//! assert_eq!(route.distance_m, m.distance(0, 1).expect("reachable"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The graph
//!
//! - **Junctions.** Road points are rounded to 1e-7° (about 1 cm); roads join where they share
//!   a rounded point, as OpenStreetMap ways share nodes. Roads that cross without a shared
//!   point (bridges, tunnels) are not joined.
//! - **Edges.** Chains of segments through points where exactly two segments meet, with no
//!   change of one-way rule, become one edge between two nodes (junctions and dead ends), with
//!   their full geometry kept for drawing and snapping. A two-way edge gives two arcs, a
//!   one-way edge one, in its drawing direction.
//! - **Weights.** A segment's length is the haversine distance between its rounded end points
//!   on a sphere of radius [`EARTH_RADIUS_M`], in whole centimetres; its time is that length at
//!   the profile's speed for the road's class, in whole milliseconds
//!   ([`Profile::segment_weight`]). Paths add these integers exactly; reported metres and
//!   seconds are rounded half up from the sums.
//! - **Objective.** Routes minimise time, then length among equally quick routes: a cleaner's
//!   shift is bounded in hours, and the fastest route for a truck keeps to the trunk roads. The
//!   length reported is the length of that quickest route, so a matrix's distance and time
//!   always describe the same drivable route (the shortest route by length may be shorter).
//! - **Components.** Strongly connected components are computed with an iterative Tarjan
//!   algorithm and reported ([`Components`]): the largest by road length is the main network.
//!   A matrix entry is a real route or [`Matrix::UNREACHABLE`] (`u32::MAX`), never a route
//!   through a gap.
//! - **Snapping** ([`SnapOptions`]): to the foot of the perpendicular on the nearest usable
//!   edge of the main network within 500 m by default, recording any nearer fragment passed
//!   over; a point with only fragments in reach goes on the nearest fragment (and is reported
//!   by [`Snap::in_main`]); a point with no usable road in reach is
//!   [`SnapError::TooFar`] ("unreachable: 612 m from the nearest road").
//! - **Searches.** Matrices run one Dijkstra per source on the compressed graph with a binary
//!   heap and buffers reused across sources (reset by stamping, nothing allocated per source),
//!   stopped once every node through which a target can be entered is settled. Measured on the
//!   Liechtenstein extract (2 750 roads; 2 248 nodes for the truck, 3 018 for the tricycle),
//!   one core, release build: 500 × 500 in 0.08 s (truck) and 0.15 s (tricycle), see
//!   `examples/matrix_bench.rs`. A contraction hierarchy answering the 250 000 pairs one by one
//!   (tens of microseconds a query) would take seconds, and one with bucket many-to-many
//!   queries would save little at this size, so the simpler search stays: it can be checked
//!   exactly against the plain Dijkstra on the uncompressed segments in
//!   [`reference`](mod@reference).
//!
//! Everything is deterministic: the same lines, profile and points give the same network,
//! snaps, matrices and routes.

mod components;
mod error;
mod graph;
mod line;
mod profile;
pub mod reference;
mod search;
mod snap;
mod weight;

pub use components::{Components, Piece};
pub use error::{NetworkError, SnapError};
pub use graph::{BuildStats, RoadNetwork};
pub use line::RoadLine;
pub use profile::Profile;
pub use search::{Matrix, Path};
pub use snap::{Snap, SnapOptions};
pub use weight::{haversine_m, Weight, EARTH_RADIUS_M};
