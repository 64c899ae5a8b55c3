//! PMTiles version 3 archives, written and read from the specification
//! (<https://github.com/protomaps/PMTiles/blob/main/spec/v3/spec.md>).
//!
//! An archive is a 127-byte [`Header`], a root directory, JSON metadata, optional leaf
//! directories and the tile data. Directories list [`Entry`]s sorted by Hilbert tile id
//! ([`tile_id()`]), varint-encoded in columns and gzip-compressed; a run length of zero points to a
//! leaf directory.
//!
//! - [`tile_id`](mod@tile_id): `z/x/y` to the Hilbert tile id and back.
//! - [`directory`]: entries, directory (de)serialisation.
//! - [`header`]: the fixed header.
//! - [`write`](mod@write): [`Writer`], tiles in, an archive out (deduplicated, run-length encoded, clustered).
//! - [`read`](mod@read): [`Archive`], an archive opened from a file, tiles by `z/x/y`.

pub mod directory;
pub mod header;
pub mod read;
pub mod tile_id;
pub mod write;

pub use directory::Entry;
pub use header::{Compression, Header, TileType, HEADER_LEN};
pub use read::Archive;
pub use tile_id::{tile_id, tile_zxy};
pub use write::{Writer, WriterOptions};

use std::path::PathBuf;

/// What is wrong with a PMTiles archive, or why it could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PmtilesError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The archive's path.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The first bytes are not `PMTiles`.
    #[error("not a PMTiles archive (the file does not start with \"PMTiles\")")]
    NotPmtiles,
    /// A spec version other than 3.
    #[error("PMTiles version {0} is not supported (only version 3)")]
    Version(u8),
    /// A compression this reader does not decompress.
    #[error(
        "the archive's {what} uses compression {code}, which is not supported (none and gzip are)"
    )]
    Compression {
        /// Which part (`directories`, `tiles`).
        what: &'static str,
        /// The header's compression code.
        code: u8,
    },
    /// A section, directory or varint that does not fit the file or its own counts.
    #[error("broken PMTiles archive: {0}")]
    Corrupt(String),
    /// A tile coordinate outside its zoom, or a zoom above 31.
    #[error("tile {z}/{x}/{y} does not exist (x and y must be below 2^z, z at most 31)")]
    Tile {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
    },
    /// The writer was given nothing to write, or something it cannot write.
    #[error("cannot write the archive: {0}")]
    Write(String),
}

/// Gzip-compresses `bytes` (the archive's tile and directory compression).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut e = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 32),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    let _ = e.write_all(bytes);
    e.finish().unwrap_or_default()
}

/// Decompresses gzip `bytes`; `what` names them in the error. At most `limit` bytes come out.
pub fn gunzip(bytes: &[u8], what: &str, limit: u64) -> Result<Vec<u8>, PmtilesError> {
    use std::io::Read as _;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| PmtilesError::Corrupt(format!("{what} is not valid gzip: {e}")))?;
    if out.len() as u64 > limit {
        return Err(PmtilesError::Corrupt(format!(
            "{what} decompresses to more than {limit} bytes"
        )));
    }
    Ok(out)
}
