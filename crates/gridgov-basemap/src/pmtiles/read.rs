//! [`Archive`]: a PMTiles v3 archive opened from a file (read with positioned reads, nothing
//! mapped) or from bytes; tiles by `z/x/y`, the header and the metadata.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::directory::{self, Entry};
use super::header::{Compression, Header, HEADER_LEN};
use super::tile_id::tile_id;
use super::{gunzip, PmtilesError};

/// The largest directory or metadata an archive may decompress to (64 MiB).
const MAX_SECTION: u64 = 64 << 20;
/// Root, leaf, leaf of leaf: deeper nesting is refused as a loop or a broken file.
const MAX_DEPTH: usize = 4;
/// The largest tile returned (64 MiB).
const MAX_TILE: u64 = 64 << 20;

#[derive(Debug)]
enum Source {
    File { file: File, path: PathBuf, len: u64 },
    Bytes(Vec<u8>),
}

impl Source {
    fn len(&self) -> u64 {
        match self {
            Source::File { len, .. } => *len,
            Source::Bytes(b) => b.len() as u64,
        }
    }

    /// `length` bytes at `offset`, which the caller checked to lie in the file.
    fn read(&self, offset: u64, length: u64, what: &str) -> Result<Vec<u8>, PmtilesError> {
        let end = offset
            .checked_add(length)
            .filter(|&e| e <= self.len())
            .ok_or_else(|| {
                PmtilesError::Corrupt(format!(
                    "{what} ({length} bytes at {offset}) lies beyond the end of the file ({} bytes)",
                    self.len()
                ))
            })?;
        match self {
            Source::Bytes(b) => Ok(b[offset as usize..end as usize].to_vec()),
            Source::File { file, path, .. } => {
                use std::os::unix::fs::FileExt as _;
                let mut buf = vec![0u8; length as usize];
                file.read_exact_at(&mut buf, offset)
                    .map_err(|source| PmtilesError::Io {
                        path: path.clone(),
                        source,
                    })?;
                Ok(buf)
            }
        }
    }
}

/// An open PMTiles archive. Cheap to share between threads (`get` takes `&self`).
#[derive(Debug)]
pub struct Archive {
    source: Source,
    header: Header,
    root: Vec<Entry>,
    metadata: serde_json::Value,
    leaves: Mutex<HashMap<u64, Arc<Vec<Entry>>>>,
}

impl Archive {
    /// Opens the archive at `path`: reads and checks the header, the root directory and the
    /// metadata; tiles and leaf directories are read when asked for.
    pub fn open(path: &Path) -> Result<Self, PmtilesError> {
        let io = |source| PmtilesError::Io {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        Self::from_source(Source::File {
            file,
            path: path.to_owned(),
            len,
        })
    }

    /// Opens an archive held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, PmtilesError> {
        Self::from_source(Source::Bytes(bytes))
    }

    fn from_source(source: Source) -> Result<Self, PmtilesError> {
        let head = source.read(0, (HEADER_LEN as u64).min(source.len()), "the header")?;
        let header = Header::parse(&head)?;
        for (what, (_, len)) in [
            ("the root directory", header.root_dir),
            ("the metadata", header.metadata),
        ] {
            if len > MAX_SECTION {
                return Err(PmtilesError::Corrupt(format!(
                    "{what} is {len} bytes long, more than this reader takes"
                )));
            }
        }
        for (what, (at, len)) in [
            ("the root directory", header.root_dir),
            ("the metadata", header.metadata),
            ("the leaf directories", header.leaf_dirs),
            ("the tile data", header.tile_data),
        ] {
            if at.checked_add(len).is_none_or(|end| end > source.len()) {
                return Err(PmtilesError::Corrupt(format!(
                    "{what} ({len} bytes at {at}) lies beyond the end of the file ({} bytes)",
                    source.len()
                )));
            }
        }
        let compression = header.internal_compression;
        let root = directory::deserialize(&decompress(
            compression,
            source.read(header.root_dir.0, header.root_dir.1, "the root directory")?,
            "the root directory",
        )?)?;
        let metadata_bytes = decompress(
            compression,
            source.read(header.metadata.0, header.metadata.1, "the metadata")?,
            "the metadata",
        )?;
        let metadata = if metadata_bytes.is_empty() {
            serde_json::Value::Object(serde_json::Map::new())
        } else {
            serde_json::from_slice(&metadata_bytes)
                .map_err(|e| PmtilesError::Corrupt(format!("the metadata is not JSON: {e}")))?
        };
        Ok(Self {
            source,
            header,
            root,
            metadata,
            leaves: Mutex::new(HashMap::new()),
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The JSON metadata (an empty object when the archive has none).
    pub fn metadata(&self) -> &serde_json::Value {
        &self.metadata
    }

    /// The root directory's entries.
    pub fn root(&self) -> &[Entry] {
        &self.root
    }

    /// The tile `z/x/y` as stored (compressed as [`Header::tile_compression`] says: gzip for
    /// gridgov's basemaps); `None` when the archive does not have it.
    pub fn get(&self, z: u8, x: u32, y: u32) -> Result<Option<Vec<u8>>, PmtilesError> {
        if z < self.header.min_zoom || z > self.header.max_zoom {
            // Still validate the coordinate, so that nonsense is an error, not "absent".
            tile_id(z, x, y)?;
            return Ok(None);
        }
        let id = tile_id(z, x, y)?;
        let mut dir: Arc<Vec<Entry>>;
        let mut entries: &[Entry] = &self.root;
        for _ in 0..MAX_DEPTH {
            let Some(e) = directory::find(entries, id) else {
                return Ok(None);
            };
            if !e.is_leaf() {
                let at = self
                    .header
                    .tile_data
                    .0
                    .checked_add(e.offset)
                    .ok_or_else(|| PmtilesError::Corrupt("a tile offset overflows".to_owned()))?;
                if e.offset + u64::from(e.length) > self.header.tile_data.1
                    || u64::from(e.length) > MAX_TILE
                {
                    return Err(PmtilesError::Corrupt(format!(
                        "tile {z}/{x}/{y} lies outside the tile data section"
                    )));
                }
                return self
                    .source
                    .read(at, u64::from(e.length), "a tile")
                    .map(Some);
            }
            dir = self.leaf(e)?;
            entries = &dir;
        }
        Err(PmtilesError::Corrupt(format!(
            "leaf directories nest deeper than {MAX_DEPTH} levels"
        )))
    }

    /// The tile `z/x/y` decompressed: the MVT bytes.
    pub fn get_decompressed(&self, z: u8, x: u32, y: u32) -> Result<Option<Vec<u8>>, PmtilesError> {
        match self.get(z, x, y)? {
            None => Ok(None),
            Some(b) => decompress(self.header.tile_compression, b, "a tile").map(Some),
        }
    }

    fn leaf(&self, e: Entry) -> Result<Arc<Vec<Entry>>, PmtilesError> {
        if let Some(d) = self
            .leaves
            .lock()
            .ok()
            .and_then(|m| m.get(&e.offset).cloned())
        {
            return Ok(d);
        }
        if e.offset + u64::from(e.length) > self.header.leaf_dirs.1 {
            return Err(PmtilesError::Corrupt(
                "a leaf directory lies outside the leaf section".to_owned(),
            ));
        }
        let bytes = self.source.read(
            self.header.leaf_dirs.0 + e.offset,
            u64::from(e.length),
            "a leaf directory",
        )?;
        let d = Arc::new(directory::deserialize(&decompress(
            self.header.internal_compression,
            bytes,
            "a leaf directory",
        )?)?);
        if let Ok(mut m) = self.leaves.lock() {
            m.insert(e.offset, d.clone());
        }
        Ok(d)
    }

    /// A TileJSON 3.0 document for the archive, its tiles served at `tiles_url` (a template
    /// with `{z}`, `{x}`, `{y}`), with the metadata's `vector_layers`, name and attribution.
    pub fn tilejson(&self, tiles_url: &str) -> serde_json::Value {
        let h = &self.header;
        let m = &self.metadata;
        serde_json::json!({
            "tilejson": "3.0.0",
            "name": m.get("name").cloned().unwrap_or(serde_json::Value::Null),
            "description": m.get("description").cloned().unwrap_or(serde_json::Value::Null),
            "attribution": m.get("attribution").cloned().unwrap_or(serde_json::Value::Null),
            "scheme": "xyz",
            "tiles": [tiles_url],
            "minzoom": h.min_zoom,
            "maxzoom": h.max_zoom,
            "bounds": h.bounds,
            "center": [h.center[0], h.center[1], h.center_zoom],
            "vector_layers": m.get("vector_layers").cloned().unwrap_or(serde_json::json!([])),
        })
    }
}

fn decompress(c: Compression, bytes: Vec<u8>, what: &str) -> Result<Vec<u8>, PmtilesError> {
    match c {
        Compression::None => Ok(bytes),
        Compression::Gzip => gunzip(&bytes, what, MAX_SECTION),
        other => Err(PmtilesError::Compression {
            what: if what == "a tile" {
                "tiles"
            } else {
                "directories"
            },
            code: other.code(),
        }),
    }
}
