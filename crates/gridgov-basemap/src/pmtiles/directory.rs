//! Directory entries and their serialisation: the number of entries, then in columns the tile
//! ids (delta to the previous), the run lengths, the lengths and the offsets (0 when the entry
//! follows the previous one's data directly, else offset + 1), every number a varint.

use super::PmtilesError;

/// One directory entry: a run of tiles that share one blob, or a leaf directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The first tile id the entry covers.
    pub tile_id: u64,
    /// Offset of the data: into the tile data section (tiles) or the leaf section (leaves).
    pub offset: u64,
    /// Length of the data in bytes (never 0).
    pub length: u32,
    /// How many consecutive tile ids share the data; 0 for a leaf directory.
    pub run_length: u32,
}

impl Entry {
    /// Whether the entry points to a leaf directory.
    pub fn is_leaf(&self) -> bool {
        self.run_length == 0
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads varints from a directory's bytes.
struct Varints<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Varints<'_> {
    fn next(&mut self) -> Result<u64, PmtilesError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.bytes.get(self.at) else {
                return Err(PmtilesError::Corrupt(
                    "a directory ends inside a number".to_owned(),
                ));
            };
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(PmtilesError::Corrupt(
            "a directory holds a number longer than 64 bits".to_owned(),
        ))
    }
}

/// Serialises entries (sorted by tile id) into a directory's uncompressed bytes.
pub fn serialize(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 6 + 4);
    put_varint(&mut out, entries.len() as u64);
    let mut last = 0u64;
    for e in entries {
        put_varint(&mut out, e.tile_id - last);
        last = e.tile_id;
    }
    for e in entries {
        put_varint(&mut out, u64::from(e.run_length));
    }
    for e in entries {
        put_varint(&mut out, u64::from(e.length));
    }
    let mut next = None;
    for e in entries {
        if next == Some(e.offset) {
            put_varint(&mut out, 0);
        } else {
            put_varint(&mut out, e.offset + 1);
        }
        next = Some(e.offset + u64::from(e.length));
    }
    out
}

/// Reads a directory's uncompressed bytes back into entries, checking that the counts fit
/// the bytes, the tile ids ascend and no entry is empty.
pub fn deserialize(bytes: &[u8]) -> Result<Vec<Entry>, PmtilesError> {
    let mut r = Varints { bytes, at: 0 };
    let n = r.next()?;
    // Every entry takes at least four bytes (one per column): a count beyond that is a lie.
    if n == 0 || n > (bytes.len() as u64) / 4 {
        return Err(PmtilesError::Corrupt(format!(
            "a directory of {} bytes claims {n} entries",
            bytes.len()
        )));
    }
    let n = n as usize;
    let mut entries = vec![
        Entry {
            tile_id: 0,
            offset: 0,
            length: 0,
            run_length: 0
        };
        n
    ];
    let mut last = 0u64;
    for (i, e) in entries.iter_mut().enumerate() {
        let delta = r.next()?;
        if i > 0 && delta == 0 {
            return Err(PmtilesError::Corrupt(
                "a directory's tile ids do not ascend".to_owned(),
            ));
        }
        last = last
            .checked_add(delta)
            .ok_or_else(|| PmtilesError::Corrupt("a tile id overflows".to_owned()))?;
        e.tile_id = last;
    }
    let small = |v: u64, what: &str| {
        u32::try_from(v).map_err(|_| PmtilesError::Corrupt(format!("a directory {what} of {v}")))
    };
    for e in &mut entries {
        e.run_length = small(r.next()?, "run length")?;
    }
    for e in &mut entries {
        e.length = small(r.next()?, "length")?;
        if e.length == 0 {
            return Err(PmtilesError::Corrupt(
                "a directory entry has length 0".to_owned(),
            ));
        }
    }
    let mut next: Option<u64> = None;
    for e in &mut entries {
        let v = r.next()?;
        e.offset = match (v, next) {
            (0, Some(n)) => n,
            (0, None) => {
                return Err(PmtilesError::Corrupt(
                    "the first directory entry refers to a previous one".to_owned(),
                ))
            }
            (v, _) => v - 1,
        };
        next = Some(
            e.offset
                .checked_add(u64::from(e.length))
                .ok_or_else(|| PmtilesError::Corrupt("an offset overflows".to_owned()))?,
        );
    }
    if r.at != bytes.len() {
        return Err(PmtilesError::Corrupt(format!(
            "a directory has {} bytes after its last entry",
            bytes.len() - r.at
        )));
    }
    Ok(entries)
}

/// The entry that holds `tile_id` in a sorted directory: a tile run covering it, or the leaf
/// directory whose range may hold it.
pub fn find(entries: &[Entry], tile_id: u64) -> Option<Entry> {
    // The last entry whose first id is at most tile_id.
    let i = entries
        .partition_point(|e| e.tile_id <= tile_id)
        .checked_sub(1)?;
    let e = entries[i];
    if e.is_leaf() || tile_id - e.tile_id < u64::from(e.run_length) {
        Some(e)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(tile_id: u64, offset: u64, length: u32, run_length: u32) -> Entry {
        Entry {
            tile_id,
            offset,
            length,
            run_length,
        }
    }

    #[test]
    fn round_trip() {
        let entries = vec![
            e(0, 0, 10, 1),
            e(1, 10, 300, 2),
            e(5, 0, 10, 1),
            e(1000, 310, 70_000, 1),
            e(1_000_000, 0, 5, 0),
        ];
        let bytes = serialize(&entries);
        assert_eq!(deserialize(&bytes).unwrap(), entries);
        // Contiguous offsets are stored as 0: the second entry's offset costs one byte.
        assert_eq!(bytes[bytes.len() - 5], 0);
    }

    #[test]
    fn find_in_runs_and_leaves() {
        let entries = vec![e(3, 0, 10, 2), e(10, 10, 4, 1), e(20, 0, 100, 0)];
        assert_eq!(find(&entries, 2), None);
        assert_eq!(find(&entries, 4), Some(entries[0]));
        assert_eq!(find(&entries, 5), None);
        assert_eq!(find(&entries, 10), Some(entries[1]));
        assert_eq!(find(&entries, 99), Some(entries[2]));
    }

    #[test]
    fn broken_directories_refused() {
        assert!(deserialize(&[]).is_err());
        assert!(deserialize(&[0x80]).is_err());
        // claims 100 entries in 5 bytes
        assert!(deserialize(&[100, 0, 1, 1, 1]).is_err());
        let mut ok = serialize(&[e(1, 0, 3, 1)]);
        ok.push(0);
        assert!(deserialize(&ok).is_err(), "trailing bytes");
        // length 0
        assert!(deserialize(&serialize(&[e(1, 0, 0, 1)])).is_err());
    }
}
