//! The fixed 127-byte header, little-endian.

use super::PmtilesError;

/// The header's length in bytes.
pub const HEADER_LEN: usize = 127;

/// A compression code of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// 0: unknown.
    Unknown,
    /// 1: none.
    None,
    /// 2: gzip.
    Gzip,
    /// 3: brotli.
    Brotli,
    /// 4: zstd.
    Zstd,
}

impl Compression {
    /// The header's code.
    pub fn code(self) -> u8 {
        match self {
            Compression::Unknown => 0,
            Compression::None => 1,
            Compression::Gzip => 2,
            Compression::Brotli => 3,
            Compression::Zstd => 4,
        }
    }

    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => Compression::Unknown,
            1 => Compression::None,
            2 => Compression::Gzip,
            3 => Compression::Brotli,
            4 => Compression::Zstd,
            _ => return None,
        })
    }

    /// The HTTP `Content-Encoding` of data so compressed (`None` for none or unknown).
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Compression::Gzip => Some("gzip"),
            Compression::Brotli => Some("br"),
            Compression::Zstd => Some("zstd"),
            Compression::None | Compression::Unknown => None,
        }
    }
}

/// The tile type code of the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileType {
    /// 0: unknown or other.
    Unknown,
    /// 1: Mapbox Vector Tile.
    Mvt,
    /// 2: PNG.
    Png,
    /// 3: JPEG.
    Jpeg,
    /// 4: WebP.
    Webp,
    /// 5: AVIF.
    Avif,
}

impl TileType {
    /// The header's code.
    pub fn code(self) -> u8 {
        match self {
            TileType::Unknown => 0,
            TileType::Mvt => 1,
            TileType::Png => 2,
            TileType::Jpeg => 3,
            TileType::Webp => 4,
            TileType::Avif => 5,
        }
    }

    fn from_code(c: u8) -> Self {
        match c {
            1 => TileType::Mvt,
            2 => TileType::Png,
            3 => TileType::Jpeg,
            4 => TileType::Webp,
            5 => TileType::Avif,
            _ => TileType::Unknown,
        }
    }
}

/// The archive's header: where each section is, counts, compression, zooms and extent.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Offset and length of the root directory.
    pub root_dir: (u64, u64),
    /// Offset and length of the JSON metadata.
    pub metadata: (u64, u64),
    /// Offset and length of the leaf directories (length 0 when there are none).
    pub leaf_dirs: (u64, u64),
    /// Offset and length of the tile data.
    pub tile_data: (u64, u64),
    /// Tiles addressed (sum of run lengths).
    pub addressed_tiles: u64,
    /// Tile entries (entries with a run length above 0).
    pub tile_entries: u64,
    /// Distinct tile blobs.
    pub tile_contents: u64,
    /// Whether tile data is ordered by tile id.
    pub clustered: bool,
    /// Compression of directories and metadata.
    pub internal_compression: Compression,
    /// Compression of each tile.
    pub tile_compression: Compression,
    /// What the tiles are.
    pub tile_type: TileType,
    /// Lowest zoom.
    pub min_zoom: u8,
    /// Highest zoom.
    pub max_zoom: u8,
    /// West, south, east, north in degrees.
    pub bounds: [f64; 4],
    /// The zoom to open the map at.
    pub center_zoom: u8,
    /// Longitude and latitude to open the map at.
    pub center: [f64; 2],
}

/// Degrees as the header's integers (× 10^7).
fn e7(v: f64) -> i32 {
    (v * 1e7).round() as i32
}

impl Header {
    /// The 127 bytes of the header.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[..7].copy_from_slice(b"PMTiles");
        b[7] = 3;
        let u64s = [
            self.root_dir.0,
            self.root_dir.1,
            self.metadata.0,
            self.metadata.1,
            self.leaf_dirs.0,
            self.leaf_dirs.1,
            self.tile_data.0,
            self.tile_data.1,
            self.addressed_tiles,
            self.tile_entries,
            self.tile_contents,
        ];
        for (i, v) in u64s.iter().enumerate() {
            b[8 + 8 * i..16 + 8 * i].copy_from_slice(&v.to_le_bytes());
        }
        b[96] = u8::from(self.clustered);
        b[97] = self.internal_compression.code();
        b[98] = self.tile_compression.code();
        b[99] = self.tile_type.code();
        b[100] = self.min_zoom;
        b[101] = self.max_zoom;
        for (i, v) in self.bounds.iter().enumerate() {
            b[102 + 4 * i..106 + 4 * i].copy_from_slice(&e7(*v).to_le_bytes());
        }
        b[118] = self.center_zoom;
        b[119..123].copy_from_slice(&e7(self.center[0]).to_le_bytes());
        b[123..127].copy_from_slice(&e7(self.center[1]).to_le_bytes());
        b
    }

    /// Reads a header from the first bytes of an archive.
    pub fn parse(b: &[u8]) -> Result<Self, PmtilesError> {
        if b.len() < 7 || &b[..7] != b"PMTiles" {
            return Err(PmtilesError::NotPmtiles);
        }
        if b.len() < HEADER_LEN {
            return Err(PmtilesError::Corrupt(format!(
                "the header is cut short ({} of {HEADER_LEN} bytes)",
                b.len()
            )));
        }
        if b[7] != 3 {
            return Err(PmtilesError::Version(b[7]));
        }
        let u = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[8 + 8 * i..16 + 8 * i]);
            u64::from_le_bytes(a)
        };
        let deg = |at: usize| {
            let mut a = [0u8; 4];
            a.copy_from_slice(&b[at..at + 4]);
            f64::from(i32::from_le_bytes(a)) / 1e7
        };
        let compression = |what, code| {
            Compression::from_code(code).ok_or(PmtilesError::Compression { what, code })
        };
        Ok(Header {
            root_dir: (u(0), u(1)),
            metadata: (u(2), u(3)),
            leaf_dirs: (u(4), u(5)),
            tile_data: (u(6), u(7)),
            addressed_tiles: u(8),
            tile_entries: u(9),
            tile_contents: u(10),
            clustered: b[96] == 1,
            internal_compression: compression("directories", b[97])?,
            tile_compression: compression("tiles", b[98])?,
            tile_type: TileType::from_code(b[99]),
            min_zoom: b[100],
            max_zoom: b[101],
            bounds: [deg(102), deg(106), deg(110), deg(114)],
            center_zoom: b[118],
            center: [deg(119), deg(123)],
        })
    }
}
