//! Vector tiles of gridgov's layers. Pure: no I/O, no async; model features in, Mapbox
//! Vector Tile 2.1 bytes out.
//!
//! # Layout
//! - [`tile`]: tile maths: [`TileId`] (a validated `z/x/y` in the XYZ scheme), bounds in
//!   WGS84 and Web Mercator, the tiles covering a WGS84 rectangle.
//! - [`schema`](mod@schema): what goes into tiles: per layer ([`LayerSchema`]) the attributes a map
//!   needs (never ID-card numbers, phone numbers or personal names) and the lowest zoom it
//!   is drawn at; per zoom, the simplification tolerance; the tile [`EXTENT`] and
//!   [`BUFFER`]. The PostGIS backend builds its `ST_AsMVT` query from the same tables.
//! - [`clip`]: geometry onto a tile's grid: simplified, clipped to the tile and its buffer,
//!   snapped to whole units, rings oriented.
//! - [`encode`](mod@encode): [`TileBuilder`], features into MVT bytes through geozero's MVT writer.
//! - [`decode`](mod@decode): MVT bytes back into features, for tests and comparisons.

pub mod clip;
pub mod decode;
pub mod encode;
pub mod schema;
pub mod tile;

pub use decode::{decode, AttrValue, DecodedFeature, DecodedKind, DecodedLayer, DecodedTile};
pub use encode::{encode, ComputedFeature, EncodeError, TileBuilder};
pub use schema::{schema, search_area, tiled_layers, LayerSchema, BUFFER, EXTENT};
pub use tile::{tiles_covering, TileError, TileId, MAX_ZOOM};
