//! One glyph as fontnik draws it: the outline at 24 pixels per em, curves flattened, its
//! bounding box rounded to whole pixels, and for every pixel of the box grown by a 3-pixel
//! buffer the distance to the outline (capped at 8 pixels, 32 levels a pixel), negative
//! inside, shifted by a quarter of the range (the edge at 191) and inverted into a byte.

/// Pixels per em.
pub const SIZE: f32 = 24.0;
/// Pixels of border around each glyph's box.
pub const BUFFER: u32 = 3;
/// The distance, in pixels, beyond which every byte is 0 (outside) or 255 (inside).
const RADIUS: f64 = 8.0;
/// The share of the range below the edge.
const CUTOFF: f64 = 0.25;

/// A glyph's metrics and signed distance bitmap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdfGlyph {
    /// Width of the glyph's box in pixels (without the buffer).
    pub width: u32,
    /// Height of the box.
    pub height: u32,
    /// From the pen position to the box's left edge.
    pub left: i32,
    /// From the box's top edge to the pen position's line, as the glyph's top minus the
    /// font's ascender (fontnik's convention).
    pub top: i32,
    /// Advance in whole pixels.
    pub advance: u32,
    /// `(width + 6) × (height + 6)` bytes, rows top to bottom; empty for a glyph with no
    /// outline (a space).
    pub bitmap: Vec<u8>,
}

/// Collects an outline as closed rings of points in pixels.
#[derive(Default)]
struct Rings {
    scale: f32,
    done: Vec<Vec<[f64; 2]>>,
    ring: Vec<[f64; 2]>,
}

impl Rings {
    fn at(&self, x: f32, y: f32) -> [f64; 2] {
        [f64::from(x * self.scale), f64::from(y * self.scale)]
    }

    fn last(&self) -> [f64; 2] {
        self.ring.last().copied().unwrap_or([0.0, 0.0])
    }

    fn end_ring(&mut self) {
        if self.ring.len() > 1 {
            let first = self.ring[0];
            let last = self.last();
            if (last[0] - first[0]).abs() > 1e-9 || (last[1] - first[1]).abs() > 1e-9 {
                self.ring.push(first);
            }
            self.done.push(std::mem::take(&mut self.ring));
        } else {
            self.ring.clear();
        }
    }

    /// Points of a curve through `controls` (start first), subdivided by its length.
    fn curve(&mut self, controls: &[[f64; 2]]) {
        let length: f64 = controls
            .windows(2)
            .map(|w| (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]))
            .sum();
        let steps = (length * 2.0).ceil().clamp(2.0, 64.0) as u32;
        for i in 1..=steps {
            let t = f64::from(i) / f64::from(steps);
            // de Casteljau
            let mut p: Vec<[f64; 2]> = controls.to_vec();
            while p.len() > 1 {
                p = p
                    .windows(2)
                    .map(|w| {
                        [
                            w[0][0] + (w[1][0] - w[0][0]) * t,
                            w[0][1] + (w[1][1] - w[0][1]) * t,
                        ]
                    })
                    .collect();
            }
            self.ring.push(p[0]);
        }
    }
}

impl ttf_parser::OutlineBuilder for Rings {
    fn move_to(&mut self, x: f32, y: f32) {
        self.end_ring();
        let p = self.at(x, y);
        self.ring.push(p);
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let p = self.at(x, y);
        self.ring.push(p);
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let c = [self.last(), self.at(x1, y1), self.at(x, y)];
        self.curve(&c);
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let c = [self.last(), self.at(x1, y1), self.at(x2, y2), self.at(x, y)];
        self.curve(&c);
    }

    fn close(&mut self) {
        self.end_ring();
    }
}

/// The font's ascender in whole pixels at [`SIZE`], as FreeType scales it: rounded when the
/// font asks for integer scaling (`head` flags bit 3), else rounded up.
pub fn ascender(face: &ttf_parser::Face<'_>) -> i32 {
    let scaled = f64::from(face.ascender()) * f64::from(SIZE) / f64::from(face.units_per_em());
    let integer_ppem = face
        .raw_face()
        .table(ttf_parser::Tag::from_bytes(b"head"))
        .and_then(|h| h.get(16..18))
        .is_some_and(|f| u16::from_be_bytes([f[0], f[1]]) & 8 != 0);
    if integer_ppem {
        scaled.round() as i32
    } else {
        scaled.ceil() as i32
    }
}

/// Squared distance from `p` to the segment `a`–`b`.
fn segment_distance2(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let l2 = dx * dx + dy * dy;
    let t = if l2 == 0.0 {
        0.0
    } else {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
    };
    let (qx, qy) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    qx * qx + qy * qy
}

/// Whether `p` is inside the rings (even–odd, as fontnik's ray casting).
fn inside(rings: &[Vec<[f64; 2]>], p: [f64; 2]) -> bool {
    let mut c = false;
    for ring in rings {
        for w in ring.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a[1] > p[1]) != (b[1] > p[1])
                && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
            {
                c = !c;
            }
        }
    }
    c
}

/// Draws glyph `id` of `face` (`None` when the font has no such glyph).
#[expect(
    clippy::many_single_char_names,
    reason = "pixel coordinates and distances"
)]
pub fn render(face: &ttf_parser::Face<'_>, id: ttf_parser::GlyphId) -> Option<SdfGlyph> {
    let scale = SIZE / f32::from(face.units_per_em());
    let advance = (f32::from(face.glyph_hor_advance(id)?) * scale).floor() as u32;
    let ascender = ascender(face);
    let mut rings = Rings {
        scale,
        ..Rings::default()
    };
    let mut glyph = SdfGlyph {
        advance,
        top: -ascender,
        ..SdfGlyph::default()
    };
    if face.outline_glyph(id, &mut rings).is_none() {
        return Some(glyph);
    }
    rings.end_ring();
    let mut rings = rings.done;
    let points = rings.iter().flatten();
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for p in points {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    if rings.is_empty() {
        return Some(glyph);
    }
    let (x0, y0, x1, y1) = (x0.round(), y0.round(), x1.round(), y1.round());
    if x1 - x0 <= 0.0 || y1 - y0 <= 0.0 {
        return Some(glyph);
    }
    let buffer = f64::from(BUFFER);
    for ring in &mut rings {
        for p in ring.iter_mut() {
            p[0] += buffer - x0;
            p[1] += buffer - y0;
        }
    }
    glyph.left = x0 as i32;
    glyph.top = y1 as i32 - ascender;
    glyph.width = (x1 - x0) as u32;
    glyph.height = (y1 - y0) as u32;
    let w = glyph.width + 2 * BUFFER;
    let h = glyph.height + 2 * BUFFER;
    let segments: Vec<([f64; 2], [f64; 2])> = rings
        .iter()
        .flat_map(|r| r.windows(2).map(|s| (s[0], s[1])))
        .collect();
    let mut bitmap = vec![0u8; (w * h) as usize];
    let r2 = RADIUS * RADIUS;
    for y in 0..h {
        for x in 0..w {
            let p = [f64::from(x) + 0.5, f64::from(y) + 0.5];
            let mut best = f64::INFINITY;
            for &(a, b) in &segments {
                // Only segments whose box comes within the radius count, as in fontnik.
                if a[0].min(b[0]) - RADIUS > p[0]
                    || a[0].max(b[0]) + RADIUS < p[0]
                    || a[1].min(b[1]) - RADIUS > p[1]
                    || a[1].max(b[1]) + RADIUS < p[1]
                {
                    continue;
                }
                let d2 = segment_distance2(p, a, b);
                if d2 < best && d2 < r2 {
                    best = d2;
                }
            }
            let mut d = best.sqrt() * (256.0 / RADIUS);
            if inside(&rings, p) {
                d = -d;
            }
            d += CUTOFF * 256.0;
            let n = if d.is_nan() {
                255.0
            } else {
                d.clamp(0.0, 255.0).trunc()
            };
            // Rows from the top: the outline's y goes up.
            let row = h - y - 1;
            bitmap[(row * w + x) as usize] = 255 - n as u8;
        }
    }
    glyph.bitmap = bitmap;
    Some(glyph)
}
