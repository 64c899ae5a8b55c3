//! gridgov-partition: drawing management grids (网格).
//!
//! # What this crate owns
//!
//! Cutting an area (a village, or a township with its villages) into units a person would draw
//! along: blocks bounded by roads, rivers and division lines, with blocks too populous for one
//! unit split by H3 cells; the graph of those units; the partitioner that groups them into
//! balanced, compact, contiguous grids nested in villages and respecting barriers; minimal-
//! change re-partitioning of a plan in force; and the grids' polygons and statistics. It does
//! no I/O: model values in, model values out, deterministic for a seed.
//!
//! # Layout
//!
//! | module | what |
//! | --- | --- |
//! | [`graph`] | units, villages and shared boundaries: what the solver sees |
//! | [`solve`] | the partitioner and re-partitioner; a planner's moves of one unit ([`Mover`]) |
//! | [`frame`] | the local metric plane and its millimetre grid |
//! | `shape` | exact integer slicing and unions (`i_overlay`) |
//! | [`plan`] | grids of a solution: polygons, codes, statistics; plan and units as GeoJSON |
//! | [`request`] | a partition from data to grids, and its parameters as text |
//! | [`units`] | the area cut into units along roads, water and division lines |
//!
//! The geometry side (units from features, grid polygons from a solution) is added beside
//! these.

pub mod frame;
pub mod graph;
pub mod plan;
pub mod request;
mod shape;
pub mod solve;
pub mod units;

pub use graph::{Edge, Graph, Unit, Village};
pub use request::{rerun, run, Outcome, PartitionError, Request};
pub use solve::{
    partition, repartition, GridStats, Infeasible, Mover, Options, Refusal, Solution, Targets,
};
pub use units::{
    build as build_units, Barriers, Counts, Scope, UnitOptions, Units, UnitsError, Workload,
};
