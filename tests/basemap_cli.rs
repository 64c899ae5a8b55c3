//! End-to-end: `gridgov basemap build --from demo` writes a PMTiles package that reads back
//! (header, metadata with `vector_layers`, tiles that decode as MVT with the basemap's layers),
//! and `--from roads` draws the same county from the demo GeoPackage.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

#[expect(
    dead_code,
    reason = "the shared helpers include GDAL readers this test has no use for (GDAL 3.6 has no PMTiles driver)"
)]
mod cli;

use cli::{demo, fails, ok, s};
use gridgov_basemap::pmtiles::{Archive, Compression, TileType};

/// Every layer name found in the tiles of zoom `z` (decoded).
fn layers_at(archive: &Archive, z: u8) -> std::collections::BTreeSet<String> {
    let h = archive.header();
    let mut names = std::collections::BTreeSet::new();
    let west = ((h.bounds[0] + 180.0) / 360.0 * f64::from(1u32 << z)).floor() as u32;
    let east = ((h.bounds[2] + 180.0) / 360.0 * f64::from(1u32 << z)).floor() as u32;
    let row = |lat: f64| {
        let r = lat.to_radians();
        ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * f64::from(1u32 << z))
            .floor() as u32
    };
    for x in west..=east {
        for y in row(h.bounds[3])..=row(h.bounds[1]) {
            if let Some(mvt) = archive.get_decompressed(z, x, y).unwrap() {
                let tile = gridgov_tiles::decode(&mvt).unwrap();
                names.extend(tile.layers.iter().map(|l| l.name.clone()));
            }
        }
    }
    names
}

#[test]
fn demo_basemap_builds_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo.pmtiles");
    let said = ok(&[
        "basemap",
        "build",
        "--from",
        "demo",
        "--seed",
        "42",
        "--out",
        s(&out),
    ]);
    assert!(said.contains("wrote"), "{said}");
    let archive = Archive::open(&out).unwrap();
    let h = archive.header();
    assert_eq!((h.min_zoom, h.max_zoom), (0, 14));
    assert_eq!(h.tile_type, TileType::Mvt);
    assert_eq!(h.tile_compression, Compression::Gzip);
    assert!(h.clustered);
    assert!(h.bounds[0] < h.bounds[2] && h.bounds[1] < h.bounds[3]);
    let layers: Vec<&str> = archive.metadata()["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        layers,
        ["landuse", "water", "roads", "boundaries", "places"]
    );
    // Low zooms: the county outline only (plus trunk roads from 6); high zooms: everything.
    assert_eq!(
        layers_at(&archive, 3).into_iter().collect::<Vec<_>>(),
        ["boundaries"]
    );
    let z14 = layers_at(&archive, 14);
    for l in ["landuse", "water", "roads", "boundaries", "places"] {
        assert!(z14.contains(l), "{l} missing at z14: {z14:?}");
    }
    // A tile outside the county is absent, not an error.
    assert_eq!(archive.get(14, 0, 0).unwrap(), None);

    // Refused: --pbf without --from osm; a missing store.
    let e = fails(&[
        "basemap",
        "build",
        "--from",
        "demo",
        "--pbf",
        "x.osm.pbf",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("--pbf"), "{e}");
    let e = fails(&[
        "basemap",
        "build",
        "--from",
        "demo",
        "--max-zoom",
        "23",
        "--out",
        s(&out),
    ]);
    assert!(e.contains("0..=22"), "{e}");
}

#[test]
fn store_basemap_matches_the_demo() {
    let (gpkg, _) = demo();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("roads.pmtiles");
    ok(&[
        "basemap",
        "build",
        "--from",
        "roads",
        "--store",
        s(gpkg),
        "--max-zoom",
        "12",
        "--out",
        s(&out),
    ]);
    let archive = Archive::open(&out).unwrap();
    assert_eq!(archive.header().max_zoom, 12);
    let z12 = layers_at(&archive, 12);
    for l in ["landuse", "water", "roads", "boundaries", "places"] {
        assert!(z12.contains(l), "{l} missing at z12: {z12:?}");
    }
    let missing = dir.path().join("none.gpkg");
    let e = fails(&[
        "basemap",
        "build",
        "--from",
        "roads",
        "--store",
        s(&missing),
        "--out",
        s(&out),
    ]);
    assert!(e.contains("does not exist"), "{e}");
}

#[test]
fn osm_basemap_of_monaco() {
    let shared = std::env::var_os("GRIDGOV_SHARED").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        std::path::PathBuf::from,
    );
    let pbf = shared.join("geodata/osm/monaco.osm.pbf");
    assert!(
        pbf.exists(),
        "{} is missing: ../shared must be there",
        pbf.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("monaco.pmtiles");
    ok(&[
        "basemap",
        "build",
        "--from",
        "osm",
        "--pbf",
        s(&pbf),
        "--out",
        s(&out),
    ]);
    let archive = Archive::open(&out).unwrap();
    let h = archive.header();
    // Monaco: about 7.41–7.44° E, 43.72–43.75° N.
    assert!(h.bounds[0] > 7.3 && h.bounds[2] < 7.6, "{:?}", h.bounds);
    assert!(h.bounds[1] > 43.6 && h.bounds[3] < 43.9, "{:?}", h.bounds);
    // Roads, water and land use from the extract; no divisions (an extract carries none that
    // gridgov reads).
    let z14 = layers_at(&archive, 14);
    assert_eq!(
        z14.into_iter().collect::<Vec<_>>(),
        ["landuse", "roads", "water"]
    );
    let e = fails(&["basemap", "build", "--from", "osm", "--out", s(&out)]);
    assert!(e.contains("--pbf"), "{e}");
}
