//! [`Writer`]: tiles in, one PMTiles archive out. Tiles are gzip-compressed, deduplicated by
//! content (xxh3, then compared byte for byte), laid out in tile id order (clustered), and
//! consecutive tile ids with the same content become one entry with a run length. When the
//! root directory would not fit the first 16,384 bytes, the entries move into leaf directories
//! and the root lists the leaves.

use std::collections::HashMap;
use std::path::Path;

use super::directory::{serialize, Entry};
use super::header::{Compression, Header, TileType, HEADER_LEN};
use super::tile_id::tile_id;
use super::{gzip, PmtilesError};

/// How a [`Writer`] lays out directories.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    /// The largest compressed root directory: the header and root must fit the first
    /// 16,384 bytes, which latency-optimised clients fetch first.
    pub max_root_bytes: usize,
    /// Entries per leaf directory to try first (grown by a fifth until the root fits).
    pub leaf_entries: usize,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            max_root_bytes: 16_384 - HEADER_LEN,
            leaf_entries: 4096,
        }
    }
}

/// Collects tiles and writes a PMTiles v3 archive of MVT tiles, gzip inside and out.
///
/// ```
/// use gridgov_basemap::pmtiles::{Archive, Writer};
/// let mut w = Writer::new(serde_json::json!({"vector_layers": []}));
/// w.add_tile(0, 0, 0, b"not really a tile").unwrap();
/// let bytes = w.finish().unwrap();
/// let archive = Archive::from_bytes(bytes).unwrap();
/// assert!(archive.get(0, 0, 0).unwrap().is_some());
/// ```
#[derive(Debug)]
pub struct Writer {
    options: WriterOptions,
    metadata: serde_json::Value,
    bounds: Option<[f64; 4]>,
    center: Option<(u8, [f64; 2])>,
    /// (tile id, index into `blobs`)
    tiles: Vec<(u64, usize)>,
    /// compressed contents
    blobs: Vec<Vec<u8>>,
    by_hash: HashMap<u128, Vec<usize>>,
}

impl Writer {
    /// A writer with default [`WriterOptions`] and `metadata` (a JSON object; for MVT it should
    /// list `vector_layers` as TileJSON 3.0 does).
    pub fn new(metadata: serde_json::Value) -> Self {
        Self::with_options(metadata, WriterOptions::default())
    }

    /// A writer with `options`.
    pub fn with_options(metadata: serde_json::Value, options: WriterOptions) -> Self {
        Self {
            options,
            metadata,
            bounds: None,
            center: None,
            tiles: Vec::new(),
            blobs: Vec::new(),
            by_hash: HashMap::new(),
        }
    }

    /// Sets the header's bounds (west, south, east, north in degrees); without it the world.
    pub fn set_bounds(&mut self, bounds: [f64; 4]) -> &mut Self {
        self.bounds = Some(bounds);
        self
    }

    /// Sets the header's centre and its zoom; without it the bounds' centre at the lowest zoom.
    pub fn set_center(&mut self, zoom: u8, lon_lat: [f64; 2]) -> &mut Self {
        self.center = Some((zoom, lon_lat));
        self
    }

    /// The number of tiles added.
    pub fn len(&self) -> usize {
        self.tiles.len()
    }

    /// Whether no tile was added.
    pub fn is_empty(&self) -> bool {
        self.tiles.is_empty()
    }

    /// The number of distinct tile contents so far.
    pub fn distinct(&self) -> usize {
        self.blobs.len()
    }

    /// Adds tile `z/x/y` with its uncompressed `mvt` bytes (which must not be empty: an empty
    /// tile is left out, not stored).
    pub fn add_tile(&mut self, z: u8, x: u32, y: u32, mvt: &[u8]) -> Result<(), PmtilesError> {
        let id = tile_id(z, x, y)?;
        if mvt.is_empty() {
            return Err(PmtilesError::Write(format!(
                "tile {z}/{x}/{y} is empty (leave empty tiles out)"
            )));
        }
        let compressed = gzip(mvt);
        let hash = xxhash_rust::xxh3::xxh3_128(&compressed);
        let same = self.by_hash.entry(hash).or_default();
        let blob = if let Some(&b) = same.iter().find(|&&b| self.blobs[b] == compressed) {
            b
        } else {
            self.blobs.push(compressed);
            same.push(self.blobs.len() - 1);
            self.blobs.len() - 1
        };
        self.tiles.push((id, blob));
        Ok(())
    }

    /// The whole archive.
    pub fn finish(mut self) -> Result<Vec<u8>, PmtilesError> {
        if self.tiles.is_empty() {
            return Err(PmtilesError::Write("no tiles to write".to_owned()));
        }
        self.tiles.sort_unstable_by_key(|t| t.0);
        if let Some(w) = self.tiles.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(PmtilesError::Write(format!(
                "tile id {} was added twice",
                w[0].0
            )));
        }
        // Tile data in tile id order; a repeated blob points back to its first copy.
        let mut offsets: Vec<Option<u64>> = vec![None; self.blobs.len()];
        let mut data: Vec<u8> = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        for &(id, blob) in &self.tiles {
            let bytes = &self.blobs[blob];
            let offset = *offsets[blob].get_or_insert_with(|| {
                let at = data.len() as u64;
                data.extend_from_slice(bytes);
                at
            });
            let length = u32::try_from(bytes.len())
                .map_err(|_| PmtilesError::Write(format!("tile {id} is over 4 GiB")))?;
            match entries.last_mut() {
                Some(last)
                    if last.offset == offset
                        && last.tile_id + u64::from(last.run_length) == id
                        && last.run_length < u32::MAX =>
                {
                    last.run_length += 1;
                }
                _ => entries.push(Entry {
                    tile_id: id,
                    offset,
                    length,
                    run_length: 1,
                }),
            }
        }
        let (root, leaves) = directories(&entries, self.options)?;
        let metadata = gzip(self.metadata.to_string().as_bytes());

        let mut min_zoom = u8::MAX;
        let mut max_zoom = 0;
        for &(id, _) in &self.tiles {
            if let Some((z, _, _)) = super::tile_id::tile_zxy(id) {
                min_zoom = min_zoom.min(z);
                max_zoom = max_zoom.max(z);
            }
        }
        let bounds = self
            .bounds
            .unwrap_or([-180.0, -85.051_128, 180.0, 85.051_128]);
        let (center_zoom, center) = self.center.unwrap_or((
            min_zoom,
            [
                f64::midpoint(bounds[0], bounds[2]),
                f64::midpoint(bounds[1], bounds[3]),
            ],
        ));
        let root_at = HEADER_LEN as u64;
        let metadata_at = root_at + root.len() as u64;
        let leaves_at = metadata_at + metadata.len() as u64;
        let data_at = leaves_at + leaves.len() as u64;
        let header = Header {
            root_dir: (root_at, root.len() as u64),
            metadata: (metadata_at, metadata.len() as u64),
            leaf_dirs: (leaves_at, leaves.len() as u64),
            tile_data: (data_at, data.len() as u64),
            addressed_tiles: self.tiles.len() as u64,
            tile_entries: entries.len() as u64,
            tile_contents: self.blobs.len() as u64,
            clustered: true,
            internal_compression: Compression::Gzip,
            tile_compression: Compression::Gzip,
            tile_type: TileType::Mvt,
            min_zoom,
            max_zoom,
            bounds,
            center_zoom: center_zoom.clamp(min_zoom, max_zoom),
            center,
        };
        let mut out = Vec::with_capacity(data_at as usize + data.len());
        out.extend_from_slice(&header.to_bytes());
        out.extend_from_slice(&root);
        out.extend_from_slice(&metadata);
        out.extend_from_slice(&leaves);
        out.extend_from_slice(&data);
        Ok(out)
    }

    /// Writes the archive to `path` (through a temporary file beside it, renamed into place).
    pub fn write_to(self, path: &Path) -> Result<u64, PmtilesError> {
        let bytes = self.finish()?;
        let io = |source| PmtilesError::Io {
            path: path.to_owned(),
            source,
        };
        let tmp = path.with_extension("pmtiles.partial");
        std::fs::write(&tmp, &bytes).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        Ok(bytes.len() as u64)
    }
}

/// The compressed root directory and leaf section: all entries in the root if it fits, else
/// leaves of `leaf_entries` entries (more each try) until the root of leaves fits.
fn directories(
    entries: &[Entry],
    options: WriterOptions,
) -> Result<(Vec<u8>, Vec<u8>), PmtilesError> {
    let root = gzip(&serialize(entries));
    if root.len() <= options.max_root_bytes {
        return Ok((root, Vec::new()));
    }
    let mut leaf_entries = options.leaf_entries.max(1);
    loop {
        let mut leaves = Vec::new();
        let mut root_entries = Vec::new();
        for chunk in entries.chunks(leaf_entries) {
            let leaf = gzip(&serialize(chunk));
            root_entries.push(Entry {
                tile_id: chunk[0].tile_id,
                offset: leaves.len() as u64,
                length: u32::try_from(leaf.len()).map_err(|_| {
                    PmtilesError::Write("a leaf directory is over 4 GiB".to_owned())
                })?,
                run_length: 0,
            });
            leaves.extend_from_slice(&leaf);
        }
        let root = gzip(&serialize(&root_entries));
        if root.len() <= options.max_root_bytes {
            return Ok((root, leaves));
        }
        if root_entries.len() == 1 {
            return Err(PmtilesError::Write(format!(
                "a root directory of one leaf takes {} bytes, over the limit of {}",
                root.len(),
                options.max_root_bytes
            )));
        }
        leaf_entries = leaf_entries + leaf_entries / 5 + 1;
    }
}
