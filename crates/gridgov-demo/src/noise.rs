//! Hashing and smooth value noise: deterministic functions of the seed and a position, used
//! where a value must not depend on the order things are generated in (mesh jitter, terrain).

use geo::Coord;

/// The `SplitMix64` finaliser: a fast, well-mixed 64-bit hash step.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of the seed and two integers.
pub(crate) fn hash3(seed: u64, a: i64, b: i64) -> u64 {
    mix(seed ^ mix((a as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ mix(b as u64)))
}

/// A hash mapped to `[0, 1)`.
pub(crate) fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn smooth(t: f64) -> f64 {
    t * t * (3.0 - 2.0 * t)
}

/// A smooth random field over the plane, roughly in `[-1, 1]`, with features about `scale`
/// metres across (three octaves of value noise).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    seed: u64,
    scale: f64,
}

impl Field {
    /// A field for this seed and feature size in metres.
    pub(crate) fn new(seed: u64, scale: f64) -> Self {
        Self { seed, scale }
    }

    fn octave(seed: u64, x: f64, y: f64) -> f64 {
        let (fx, fy) = (x.floor(), y.floor());
        let (ix, iy) = (fx as i64, fy as i64);
        let (tx, ty) = (smooth(x - fx), smooth(y - fy));
        let v = |dx: i64, dy: i64| unit(hash3(seed, ix + dx, iy + dy)) * 2.0 - 1.0;
        let top = v(0, 0) + (v(1, 0) - v(0, 0)) * tx;
        let bottom = v(0, 1) + (v(1, 1) - v(0, 1)) * tx;
        top + (bottom - top) * ty
    }

    /// The field's value at a point.
    pub(crate) fn at(&self, p: Coord<f64>) -> f64 {
        let mut sum = 0.0;
        let mut amplitude = 0.6;
        let mut frequency = 1.0 / self.scale;
        for octave in 0..3u64 {
            sum += amplitude
                * Self::octave(
                    mix(self.seed ^ octave),
                    p.x * frequency + 17.3,
                    p.y * frequency - 5.1,
                );
            amplitude *= 0.5;
            frequency *= 2.0;
        }
        sum
    }
}
