//! gridgov-routing: collection routes for cleaners over the real road network.
//!
//! # What this crate owns
//!
//! The road graph built from road lines (one-way streets, speeds by road class), points snapped
//! onto it, shortest paths and distance/time matrices; VRPLIB (CVRPLIB) instances; and the
//! vehicle-routing solver, a hybrid genetic search with local search, seeded and
//! deterministic for a seed. It does no database or HTTP work: model values and files in,
//! plain values out.
//!
//! # Layout
//!
//! | module | what |
//! | --- | --- |
//! | [`network`] | the road graph, snapping, components, shortest paths and matrices |
//! | [`cvrp`] | the routing problem as the solver sees it, and the hybrid genetic search |
//! | [`sanitation`] | a township's collection day: due points, vehicles, stations, routes |
//! | [`vrplib`] | reading VRPLIB / Solomon instances and `.sol` files |

pub mod cvrp;
pub mod network;
pub mod sanitation;
pub mod vrplib;
