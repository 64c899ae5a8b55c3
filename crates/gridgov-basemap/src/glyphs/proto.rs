//! The glyph protocol buffer MapLibre reads (`glyphs.proto` of mapbox/glyph-pbf-composite):
//! `glyphs { repeated fontstack stacks = 1 }`, `fontstack { name = 1; range = 2; repeated
//! glyph glyphs = 3 }`, `glyph { id = 1; bytes bitmap = 2; width = 3; height = 4; sint32
//! left = 5; sint32 top = 6; advance = 7 }`. Written and read by hand: a dozen lines each.

use super::sdf::SdfGlyph;
use super::GlyphError;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, u64::from(field << 3 | wire));
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn uint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    key(out, field, 0);
    varint(out, v);
}

fn sint_field(out: &mut Vec<u8>, field: u32, v: i32) {
    key(out, field, 0);
    varint(out, u64::from(((v << 1) ^ (v >> 31)) as u32));
}

/// Encodes one range: a `glyphs` message with one `fontstack` named `name`, range `range`
/// (`"0-255"`), and `glyphs` as `(code point, glyph)`.
pub fn encode(name: &str, range: &str, glyphs: &[(u32, SdfGlyph)]) -> Vec<u8> {
    let mut stack = Vec::new();
    bytes_field(&mut stack, 1, name.as_bytes());
    bytes_field(&mut stack, 2, range.as_bytes());
    for (id, g) in glyphs {
        let mut m = Vec::with_capacity(g.bitmap.len() + 24);
        uint_field(&mut m, 1, u64::from(*id));
        if !g.bitmap.is_empty() {
            bytes_field(&mut m, 2, &g.bitmap);
        }
        uint_field(&mut m, 3, u64::from(g.width));
        uint_field(&mut m, 4, u64::from(g.height));
        sint_field(&mut m, 5, g.left);
        sint_field(&mut m, 6, g.top);
        uint_field(&mut m, 7, u64::from(g.advance));
        bytes_field(&mut stack, 3, &m);
    }
    let mut out = Vec::with_capacity(stack.len() + 8);
    bytes_field(&mut out, 1, &stack);
    out
}

/// A decoded `fontstack`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodedStack {
    /// The fontstack's name.
    pub name: String,
    /// Its range (`"0-255"`).
    pub range: String,
    /// Its glyphs: code point and glyph.
    pub glyphs: Vec<(u32, SdfGlyph)>,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

fn broken(what: &str) -> GlyphError {
    GlyphError::Pbf(what.to_owned())
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.at >= self.b.len()
    }

    fn varint(&mut self) -> Result<u64, GlyphError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let &byte = self
                .b
                .get(self.at)
                .ok_or_else(|| broken("cut short in a number"))?;
            self.at += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(broken("a number longer than 64 bits"))
    }

    /// The next field: number, wire type, and its bytes (length-delimited) or value.
    fn field(&mut self) -> Result<(u64, Result<&'a [u8], u64>), GlyphError> {
        let k = self.varint()?;
        match k & 7 {
            0 => Ok((k >> 3, Err(self.varint()?))),
            2 => {
                let len = usize::try_from(self.varint()?).map_err(|_| broken("a huge length"))?;
                let end = self
                    .at
                    .checked_add(len)
                    .filter(|&e| e <= self.b.len())
                    .ok_or_else(|| broken("a field runs past the end"))?;
                let s = &self.b[self.at..end];
                self.at = end;
                Ok((k >> 3, Ok(s)))
            }
            w => Err(GlyphError::Pbf(format!("unexpected wire type {w}"))),
        }
    }
}

fn small(v: u64) -> Result<u32, GlyphError> {
    u32::try_from(v).map_err(|_| broken("a number beyond 32 bits"))
}

/// Decodes a glyph range PBF (for tests and inspection).
#[expect(
    clippy::many_single_char_names,
    reason = "one reader per nesting level, short-lived"
)]
pub fn decode(bytes: &[u8]) -> Result<Vec<DecodedStack>, GlyphError> {
    let mut stacks = Vec::new();
    let mut r = Reader { b: bytes, at: 0 };
    while !r.done() {
        let (1, Ok(stack)) = r.field()? else { continue };
        let mut s = DecodedStack::default();
        let mut rs = Reader { b: stack, at: 0 };
        while !rs.done() {
            match rs.field()? {
                (1, Ok(n)) => s.name = String::from_utf8_lossy(n).into_owned(),
                (2, Ok(n)) => s.range = String::from_utf8_lossy(n).into_owned(),
                (3, Ok(m)) => {
                    let mut g = SdfGlyph::default();
                    let mut id = 0;
                    let mut rg = Reader { b: m, at: 0 };
                    while !rg.done() {
                        match rg.field()? {
                            (1, Err(v)) => id = small(v)?,
                            (2, Ok(b)) => g.bitmap = b.to_vec(),
                            (3, Err(v)) => g.width = small(v)?,
                            (4, Err(v)) => g.height = small(v)?,
                            (5, Err(v)) => g.left = unzigzag(v)?,
                            (6, Err(v)) => g.top = unzigzag(v)?,
                            (7, Err(v)) => g.advance = small(v)?,
                            _ => {}
                        }
                    }
                    s.glyphs.push((id, g));
                }
                _ => {}
            }
        }
        stacks.push(s);
    }
    Ok(stacks)
}

fn unzigzag(v: u64) -> Result<i32, GlyphError> {
    let v = small(v)?;
    Ok(((v >> 1) as i32) ^ -((v & 1) as i32))
}
