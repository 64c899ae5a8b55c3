//! PMTiles round trips: tiles written come back byte for byte (as gzip of the input), repeated
//! contents are stored once and consecutive repeats become runs, big archives get leaf
//! directories, and broken files are refused with errors that say what is wrong.
#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

use gridgov_basemap::pmtiles::{
    gunzip, tile_zxy, Archive, Compression, PmtilesError, TileType, Writer, WriterOptions,
    HEADER_LEN,
};

/// A distinct tile body for `(z, x, y)`.
fn body(z: u8, x: u32, y: u32) -> Vec<u8> {
    format!("tile {z}/{x}/{y} {}", "padding ".repeat(usize::from(z))).into_bytes()
}

fn unzip(b: &[u8]) -> Vec<u8> {
    gunzip(b, "test", 1 << 20).unwrap()
}

/// Writes every tile of zooms 0..=`max` (distinct bodies except `repeat` ones), optionally
/// copying the file to `$GRIDGOV_KEEP_PMTILES/name` for third-party readers.
fn archive(max: u8, options: WriterOptions, name: &str) -> (Archive, Vec<u8>) {
    let mut w = Writer::with_options(
        serde_json::json!({"name": name, "vector_layers": []}),
        options,
    );
    for z in 0..=max {
        for x in 0..1u32 << z {
            for y in 0..1u32 << z {
                // The lower half of the deepest zoom is all "sea": one content.
                let b = if z == max && y >= 1 << (z - 1) {
                    b"sea".to_vec()
                } else {
                    body(z, x, y)
                };
                w.add_tile(z, x, y, &b).unwrap();
            }
        }
    }
    w.set_bounds([-180.0, -85.0, 180.0, 85.0]);
    let bytes = w.finish().unwrap();
    if let Some(dir) = std::env::var_os("GRIDGOV_KEEP_PMTILES") {
        std::fs::write(std::path::Path::new(&dir).join(name), &bytes).unwrap();
    }
    (Archive::from_bytes(bytes.clone()).unwrap(), bytes)
}

fn check_all(a: &Archive, max: u8) {
    for z in 0..=max {
        for x in 0..1u32 << z {
            for y in 0..1u32 << z {
                let got = unzip(&a.get(z, x, y).unwrap().unwrap());
                let want = if z == max && y >= 1 << (z - 1) {
                    b"sea".to_vec()
                } else {
                    body(z, x, y)
                };
                assert_eq!(got, want, "{z}/{x}/{y}");
            }
        }
    }
    assert_eq!(a.get(max + 1, 0, 0).unwrap(), None);
}

#[test]
fn round_trip_with_a_root_directory_only() {
    let (a, bytes) = archive(5, WriterOptions::default(), "small.pmtiles");
    let h = a.header();
    assert_eq!(&bytes[..7], b"PMTiles");
    assert_eq!(bytes[7], 3);
    assert_eq!(h.root_dir.0, HEADER_LEN as u64);
    assert_eq!(h.leaf_dirs.1, 0, "no leaves needed");
    assert!(a.root().iter().all(|e| !e.is_leaf()));
    assert_eq!((h.min_zoom, h.max_zoom), (0, 5));
    assert_eq!(h.tile_type, TileType::Mvt);
    assert_eq!(h.internal_compression, Compression::Gzip);
    assert_eq!(h.tile_compression, Compression::Gzip);
    assert!(h.clustered);
    let all: u64 = (0..=5).map(|z| 1u64 << (2 * z)).sum();
    assert_eq!(h.addressed_tiles, all);
    // The 512 sea tiles of zoom 5 are one content.
    assert_eq!(h.tile_contents, all - 512 + 1);
    assert!(h.tile_entries < h.addressed_tiles, "runs of sea");
    assert_eq!(a.metadata()["name"], "small.pmtiles");
    check_all(&a, 5);
    // The run lengths add up to the tiles addressed.
    let runs: u64 = a.root().iter().map(|e| u64::from(e.run_length)).sum();
    assert_eq!(runs, all);
}

#[test]
fn round_trip_with_leaf_directories() {
    // 5,461 tiles; a tiny root limit forces leaves (the columns of contiguous tiles compress
    // so well that the whole directory takes a few hundred bytes).
    let options = WriterOptions {
        max_root_bytes: 64,
        leaf_entries: 100,
    };
    let (a, _) = archive(6, options, "leaves.pmtiles");
    let h = a.header();
    assert!(h.leaf_dirs.1 > 0);
    assert!(h.root_dir.1 <= 64);
    assert!(a.root().len() > 1);
    assert!(a
        .root()
        .iter()
        .all(gridgov_basemap::pmtiles::Entry::is_leaf));
    check_all(&a, 6);
    // The default limit keeps 5,461 tiles in one root.
    let (b, _) = archive(6, WriterOptions::default(), "root.pmtiles");
    assert_eq!(b.header().leaf_dirs.1, 0);
    check_all(&b, 6);
}

#[test]
fn tile_data_is_clustered() {
    let (a, _) = archive(4, WriterOptions::default(), "clustered.pmtiles");
    // Offsets grow with the tile id, except for repeats pointing back.
    let mut end = 0;
    for e in a.root() {
        assert!(e.offset <= end, "{e:?}");
        if e.offset == end {
            end += u64::from(e.length);
        }
        assert!(tile_zxy(e.tile_id).is_some());
    }
    assert_eq!(end, a.header().tile_data.1);
}

#[test]
fn writer_refuses_nonsense() {
    let mut w = Writer::new(serde_json::json!({}));
    assert!(matches!(
        w.add_tile(1, 2, 0, b"x"),
        Err(PmtilesError::Tile { .. })
    ));
    assert!(w.add_tile(1, 0, 0, b"").is_err());
    assert!(
        Writer::new(serde_json::json!({})).finish().is_err(),
        "no tiles"
    );
    let mut w = Writer::new(serde_json::json!({}));
    w.add_tile(1, 0, 0, b"a").unwrap();
    w.add_tile(1, 0, 0, b"b").unwrap();
    let e = w.finish().unwrap_err().to_string();
    assert!(e.contains("twice"), "{e}");
}

#[test]
fn broken_archives_are_named() {
    let (_, good) = archive(3, WriterOptions::default(), "good.pmtiles");
    let err = |b: Vec<u8>| Archive::from_bytes(b).unwrap_err().to_string();
    assert!(err(b"hello".to_vec()).contains("not a PMTiles archive"));
    let mut v2 = good.clone();
    v2[7] = 2;
    assert!(err(v2).contains("version 2"));
    assert!(err(good[..100].to_vec()).contains("cut short"));
    assert!(err(good[..200].to_vec()).contains("beyond the end"));
    let mut zstd = good.clone();
    zstd[97] = 4;
    assert!(err(zstd).contains("compression 4"));
    let mut garbled = good.clone();
    for b in &mut garbled[HEADER_LEN..HEADER_LEN + 20] {
        *b = 0x55;
    }
    assert!(err(garbled).contains("broken PMTiles archive"));
    // A tile whose bytes were cut off: the archive opens, the tile is an error.
    let a = Archive::from_bytes(good[..good.len() - 10].to_vec());
    assert!(a.is_err(), "the tile data section no longer fits the file");
}

#[test]
fn a_file_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.pmtiles");
    let mut w = Writer::new(serde_json::json!({"vector_layers": []}));
    w.add_tile(2, 1, 3, b"x").unwrap();
    let n = w.write_to(&path).unwrap();
    assert_eq!(n, std::fs::metadata(&path).unwrap().len());
    let a = Archive::open(&path).unwrap();
    assert_eq!(unzip(&a.get(2, 1, 3).unwrap().unwrap()), b"x");
    assert_eq!(a.get(2, 1, 2).unwrap(), None);
    let missing = Archive::open(&dir.path().join("none.pmtiles")).unwrap_err();
    assert!(missing.to_string().contains("none.pmtiles"), "{missing}");
}
