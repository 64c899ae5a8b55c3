//! The offline basemap: what the web map draws under gridgov's layers when there is no
//! internet. No HTTP here: the server serves what these functions return.
//!
//! # Layout
//! - [`pmtiles`]: PMTiles v3 archives, written ([`pmtiles::Writer`]: deduplicated, run-length
//!   encoded, clustered, leaf directories when the root would pass 16 KiB) and read
//!   ([`pmtiles::Archive`]: tiles by `z/x/y`, header, metadata, TileJSON).
//! - [`build`](mod@build): [`Basemap`] (roads, water, land use, division outlines and
//!   labels, each with its lowest zoom) from a model [`Dataset`](gridgov_model::Dataset) or
//!   feature by feature, drawn into MVT tiles by gridgov-tiles and collected in an archive.
//! - [`glyphs`]: MapLibre glyph ranges (SDF bitmaps in the glyph PBF) from a TrueType font.
//! - [`styles`]: the MapLibre styles of `tiles/styles/` by name.

pub mod build;
pub mod glyphs;
pub mod pmtiles;
pub mod styles;

pub use build::{build, Basemap, BuildError, BuildOptions, BuildStats, MapFeature, MapLayer};
pub use glyphs::{glyph_range, Fonts, GlyphError};
pub use pmtiles::{Archive, PmtilesError, Writer};
