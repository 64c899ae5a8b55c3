//! MapLibre glyphs: ranges of 256 code points as signed distance field bitmaps in the glyph
//! protocol buffer, drawn from a TrueType/OpenType font the way fontnik draws them (24 px,
//! 3-pixel buffer, 8-pixel radius, cutoff 0.25), so MapLibre lays them out as it would
//! fontnik's. CJK text is not served from here: MapLibre draws it with the browser's local
//! fonts (`localIdeographFontFamily`).
//!
//! - [`sdf`]: one glyph's outline into metrics and a distance bitmap.
//! - [`proto`]: the glyph PBF, written and read.
//! - [`Fonts`]: fonts by fontstack name; [`glyph_range`] for one font's bytes.

pub mod proto;
pub mod sdf;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use proto::{decode, DecodedStack};
pub use sdf::SdfGlyph;

/// Why a glyph range could not be made.
#[derive(Debug, thiserror::Error)]
pub enum GlyphError {
    /// The bytes are not a font ttf-parser reads.
    #[error("{0} is not a TrueType/OpenType font: {1}")]
    Font(String, ttf_parser::FaceParsingError),
    /// A font file could not be read.
    #[error("could not read the font {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// No font of the fontstack is known.
    #[error("unknown font {0:?} (known: {1})")]
    UnknownFont(String, String),
    /// A range start that is not a multiple of 256 up to 65,280.
    #[error("glyph range start {0} is not a multiple of 256 between 0 and 65280")]
    Range(u32),
    /// A glyph PBF that does not decode.
    #[error("broken glyph PBF: {0}")]
    Pbf(String),
}

/// The glyph range PBF of code points `start..start + 256` from `font` (the bytes of a TTF or
/// OTF file), as fontstack `fontstack`. `start` must be a multiple of 256. Code points the font
/// has no glyph for are left out (an empty range is a valid PBF).
///
/// ```no_run
/// let font = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").unwrap();
/// let pbf = gridgov_basemap::glyphs::glyph_range(&font, "DejaVu Sans Book", 0).unwrap();
/// let stacks = gridgov_basemap::glyphs::decode(&pbf).unwrap();
/// assert_eq!(stacks[0].range, "0-255");
/// ```
pub fn glyph_range(font: &[u8], fontstack: &str, start: u32) -> Result<Vec<u8>, GlyphError> {
    if !start.is_multiple_of(256) || start > 65_280 {
        return Err(GlyphError::Range(start));
    }
    let face =
        ttf_parser::Face::parse(font, 0).map_err(|e| GlyphError::Font(fontstack.to_owned(), e))?;
    let mut glyphs = Vec::new();
    for cp in start..start + 256 {
        let Some(c) = char::from_u32(cp) else {
            continue;
        };
        let Some(id) = face.glyph_index(c) else {
            continue;
        };
        if id.0 == 0 {
            continue;
        }
        if let Some(g) = sdf::render(&face, id) {
            glyphs.push((cp, g));
        }
    }
    Ok(proto::encode(
        fontstack,
        &format!("{start}-{}", start + 255),
        &glyphs,
    ))
}

/// The fonts gridgov serves, by fontstack name (`"DejaVu Sans Book"`: family and style, as
/// MapLibre styles name them).
#[derive(Debug, Clone, Default)]
pub struct Fonts {
    fonts: BTreeMap<String, Arc<Vec<u8>>>,
}

/// Where Debian's `fonts-dejavu-core` puts DejaVu Sans, and the names styles use.
pub const DEBIAN_FONTS: &[(&str, &str)] = &[
    (
        "DejaVu Sans Book",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    ),
    (
        "DejaVu Sans Bold",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
];

impl Fonts {
    /// No fonts.
    pub fn new() -> Self {
        Self::default()
    }

    /// DejaVu Sans Book and Bold from the Debian package `fonts-dejavu-core`; an error names
    /// the missing file.
    pub fn debian() -> Result<Self, GlyphError> {
        let mut f = Self::new();
        for (name, path) in DEBIAN_FONTS {
            f.add_file(name, Path::new(path))?;
        }
        Ok(f)
    }

    /// Adds the font file at `path` as `name` (checked to parse).
    pub fn add_file(&mut self, name: &str, path: &Path) -> Result<&mut Self, GlyphError> {
        let bytes = std::fs::read(path).map_err(|source| GlyphError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.add(name, bytes)
    }

    /// Adds a font's bytes as `name` (checked to parse).
    pub fn add(&mut self, name: &str, bytes: Vec<u8>) -> Result<&mut Self, GlyphError> {
        ttf_parser::Face::parse(&bytes, 0).map_err(|e| GlyphError::Font(name.to_owned(), e))?;
        self.fonts.insert(name.to_owned(), Arc::new(bytes));
        Ok(self)
    }

    /// The names known.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fonts.keys().map(String::as_str)
    }

    /// The range PBF for a fontstack as a style's URL gives it (`"DejaVu Sans Bold,DejaVu Sans
    /// Book"`): drawn from the first font of the list that is known, named as asked. `start`
    /// is the range's first code point (`/fonts/{fontstack}/{start}-{end}.pbf`).
    pub fn range(&self, fontstack: &str, start: u32) -> Result<Vec<u8>, GlyphError> {
        let font = fontstack
            .split(',')
            .map(str::trim)
            .find_map(|n| self.fonts.get(n))
            .ok_or_else(|| {
                GlyphError::UnknownFont(
                    fontstack.to_owned(),
                    self.names().collect::<Vec<_>>().join(", "),
                )
            })?;
        glyph_range(font, fontstack, start)
    }
}

/// Parses the `{range}` of a glyph URL (`"0-255"`, `"256-511"`) into its first code point.
pub fn parse_range(range: &str) -> Result<u32, GlyphError> {
    let bad = || GlyphError::Pbf(format!("{range:?} is not a glyph range like 0-255"));
    let (a, b) = range.split_once('-').ok_or_else(bad)?;
    let (a, b): (u32, u32) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
    if !a.is_multiple_of(256) || b != a + 255 || a > 65_280 {
        return Err(GlyphError::Range(a));
    }
    Ok(a)
}
