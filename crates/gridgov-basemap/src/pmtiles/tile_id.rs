//! Tile ids: the position of a tile on the series of Hilbert curves that start at zoom 0
//! (zoom 0 has id 0, zoom 1 ids 1–4, zoom `z` starts at `(4^z − 1) / 3`).

use super::PmtilesError;

/// The largest zoom a tile id can hold.
pub const MAX_ZOOM: u8 = 31;

/// The first tile id of zoom `z`: the number of tiles on all lower zooms.
fn zoom_start(z: u8) -> u64 {
    // (4^z − 1) / 3 = 1 + 4 + … + 4^(z−1)
    ((1u128 << (2 * u32::from(z))) - 1) as u64 / 3
}

/// Rotates/flips a quadrant as the Hilbert curve needs (the classic `rot`).
fn rotate(n: u64, x: &mut u64, y: &mut u64, rx: u64, ry: u64) {
    if ry == 0 {
        if rx == 1 {
            *x = n - 1 - *x;
            *y = n - 1 - *y;
        }
        std::mem::swap(x, y);
    }
}

/// The tile id of `z/x/y` (XYZ scheme, y down).
///
/// ```
/// use gridgov_basemap::pmtiles::tile_id;
/// assert_eq!(tile_id(0, 0, 0).unwrap(), 0);
/// assert_eq!(tile_id(1, 0, 0).unwrap(), 1);
/// assert_eq!(tile_id(1, 1, 0).unwrap(), 4);
/// ```
#[expect(
    clippy::many_single_char_names,
    reason = "the names of the Hilbert curve's usual statement"
)]
pub fn tile_id(z: u8, x: u32, y: u32) -> Result<u64, PmtilesError> {
    if z > MAX_ZOOM || u64::from(x) >= 1u64 << z || u64::from(y) >= 1u64 << z {
        return Err(PmtilesError::Tile { z, x, y });
    }
    let n = 1u64 << z;
    let (mut x, mut y) = (u64::from(x), u64::from(y));
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        rotate(n, &mut x, &mut y, rx, ry);
        s /= 2;
    }
    Ok(zoom_start(z) + d)
}

/// The `z/x/y` of a tile id; `None` beyond zoom 31.
#[expect(
    clippy::many_single_char_names,
    reason = "the names of the Hilbert curve's usual statement"
)]
pub fn tile_zxy(id: u64) -> Option<(u8, u32, u32)> {
    let mut z = 0u8;
    while z <= MAX_ZOOM {
        let start = zoom_start(z);
        let count = 1u64 << (2 * u32::from(z));
        if id < start + count {
            let n = 1u64 << z;
            let mut t = id - start;
            let (mut x, mut y) = (0u64, 0u64);
            let mut s = 1u64;
            while s < n {
                let rx = 1 & (t / 2);
                let ry = 1 & (t ^ rx);
                rotate(s, &mut x, &mut y, rx, ry);
                x += s * rx;
                y += s * ry;
                t /= 4;
                s *= 2;
            }
            return Some((z, x as u32, y as u32));
        }
        z += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_zooms() {
        assert_eq!(tile_id(0, 0, 0).unwrap(), 0);
        // zoom 1 along the curve: (0,0) (0,1) (1,1) (1,0)
        assert_eq!(tile_id(1, 0, 0).unwrap(), 1);
        assert_eq!(tile_id(1, 0, 1).unwrap(), 2);
        assert_eq!(tile_id(1, 1, 1).unwrap(), 3);
        assert_eq!(tile_id(1, 1, 0).unwrap(), 4);
        assert_eq!(tile_id(2, 0, 0).unwrap(), 5);
        assert_eq!(tile_id(3, 0, 0).unwrap(), 21);
    }

    #[test]
    fn a_deep_tile() {
        // The value go-pmtiles and pmtiles.js both test for.
        assert_eq!(tile_id(12, 3423, 1763).unwrap(), 19_078_479);
        assert_eq!(tile_zxy(19_078_479), Some((12, 3423, 1763)));
    }

    #[test]
    fn round_trip_every_tile_to_zoom_6() {
        let mut expected = 0;
        for z in 0..=6u8 {
            let mut ids: Vec<u64> = Vec::new();
            for x in 0..1u32 << z {
                for y in 0..1u32 << z {
                    let id = tile_id(z, x, y).unwrap();
                    assert_eq!(tile_zxy(id), Some((z, x, y)));
                    ids.push(id);
                }
            }
            ids.sort_unstable();
            for id in ids {
                assert_eq!(id, expected, "ids of a zoom are contiguous");
                expected += 1;
            }
        }
    }

    #[test]
    fn outside_refused() {
        assert!(tile_id(1, 2, 0).is_err());
        assert!(tile_id(32, 0, 0).is_err());
        assert!(tile_zxy(u64::MAX).is_none());
    }
}
