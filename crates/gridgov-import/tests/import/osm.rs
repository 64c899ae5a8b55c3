//! (5) OpenStreetMap extracts: Liechtenstein (2013) and Monaco.

use std::collections::BTreeMap;
use std::time::Instant;

use geo::{Geometry, Rect};
use gridgov_import::read_osm;
use gridgov_model::vocab::{LandUseKind, RoadClass, WaterKind};
use gridgov_model::Value;
use osmpbf::{BlobDecode, BlobReader};

/// The bounding box the extract's header declares.
fn header_bbox(path: &std::path::Path) -> Rect<f64> {
    for blob in BlobReader::from_path(path).expect("test setup") {
        if let BlobDecode::OsmHeader(h) = blob.expect("test setup").decode().expect("test setup") {
            let b = h.bbox().expect("the extract declares its bbox");
            return Rect::new((b.left, b.bottom), (b.right, b.top));
        }
    }
    panic!("no header block");
}

fn check(file: &str, min_roads: usize, min_buildings: usize) {
    let path = crate::common::geodata(&format!("osm/{file}"));
    let bbox = header_bbox(&path);
    let started = Instant::now();
    let mut last = (0, 0);
    let osm = read_osm(&path, &mut |d, t| {
        assert!(d <= t && d >= last.0, "progress went backwards");
        last = (d, t);
    })
    .expect("test setup");
    eprintln!(
        "{file}: {} roads, {} buildings, {} rejected in {:?}",
        osm.roads.len(),
        osm.buildings.len(),
        osm.rejected.len(),
        started.elapsed()
    );
    assert_eq!(last.0, last.1);
    assert!(
        osm.roads.len() > min_roads,
        "{file}: {} roads",
        osm.roads.len()
    );
    assert!(
        osm.buildings.len() >= min_buildings,
        "{file}: {} buildings",
        osm.buildings.len()
    );

    // Extracts keep ways whole: a road crossing the border keeps its nodes beyond the declared
    // box. So every road must reach into the box, and no point may lie further out than a
    // margin (about 5 km): coordinates swapped or scaled would fail both.
    let within = |c: geo::Coord<f64>, margin: f64| {
        (bbox.min().x - margin..=bbox.max().x + margin).contains(&c.x)
            && (bbox.min().y - margin..=bbox.max().y + margin).contains(&c.y)
    };
    let inside = |c: geo::Coord<f64>| within(c, 0.0);
    let mut classes = BTreeMap::new();
    for r in &osm.roads {
        let Some(Geometry::LineString(l)) = &r.geometry else {
            panic!("road {} is not a line: {:?}", r.number, r.geometry)
        };
        assert!(l.0.len() >= 2);
        assert!(
            l.0.windows(2).all(|w| w[0] != w[1]),
            "repeated point in road {}",
            r.number
        );
        assert!(
            l.0.iter().any(|c| inside(*c)),
            "{file}: road {} lies outside {bbox:?}",
            r.number
        );
        for c in &l.0 {
            assert!(
                within(*c, 0.05),
                "{file}: road {} has ({}, {}) far outside {bbox:?}",
                r.number,
                c.x,
                c.y
            );
        }
        let class = r.properties["class"].as_str().expect("test setup");
        assert!(class.parse::<RoadClass>().is_ok(), "{class}");
        *classes.entry(class.to_owned()).or_insert(0usize) += 1;
        assert!(matches!(r.properties["oneway"], Value::Bool(_)));
        assert!(r.properties["osm_id"].as_i64().expect("test setup") > 0);
        assert!(r.division.is_none());
    }
    eprintln!("{file}: {classes:?}");
    let oneway = osm
        .roads
        .iter()
        .filter(|r| r.properties["oneway"] == Value::Bool(true))
        .count();
    assert!(
        oneway > 10 && oneway < osm.roads.len() / 2,
        "{file}: {oneway} one-way roads"
    );
    // Plausible: residential streets, service lanes and footpaths are common everywhere.
    for c in ["village", "lane", "path", "secondary"] {
        assert!(
            classes.get(c).copied().unwrap_or(0) > 10,
            "{file}: few {c} roads: {classes:?}"
        );
    }
    for b in &osm.buildings {
        let Some(Geometry::Point(p)) = &b.geometry else {
            panic!("building {} is not a point", b.number)
        };
        assert!(within(p.0, 0.05));
        assert!(!b.properties["address"]
            .as_str()
            .expect("test setup")
            .is_empty());
    }
    // Water and land use: valid kinds, lines for waterways, closed rings for areas, in place.
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for f in osm.water.iter().chain(&osm.land_use) {
        let kind = f.properties["kind"].as_str().expect("test setup");
        let (known, area) = match &f.geometry {
            Some(Geometry::LineString(l)) => (kind.parse::<WaterKind>().is_ok(), l),
            Some(Geometry::Polygon(p)) => (
                kind.parse::<WaterKind>().is_ok() || kind.parse::<LandUseKind>().is_ok(),
                p.exterior(),
            ),
            other => panic!("{file}: {kind} {} is {other:?}", f.number),
        };
        assert!(known, "{kind}");
        if matches!(f.geometry, Some(Geometry::Polygon(_))) {
            assert!(
                area.is_closed() && area.0.len() >= 4,
                "{file}: area {}",
                f.number
            );
        }
        assert!(
            area.0.iter().any(|c| within(*c, 0.05)),
            "{file}: {}",
            f.number
        );
        *kinds.entry(kind.to_owned()).or_default() += 1;
    }
    eprintln!(
        "{file}: {} water, {} land use: {kinds:?}",
        osm.water.len(),
        osm.land_use.len()
    );
    // Every feature's number is unique (a way's position in the file).
    let all = || {
        osm.roads
            .iter()
            .chain(&osm.buildings)
            .chain(&osm.water)
            .chain(&osm.land_use)
    };
    let mut numbers: Vec<usize> = all().map(|f| f.number).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), all().count());
}

#[test]
fn liechtenstein() {
    check("liechtenstein-2013-08-03.osm.pbf", 1_000, 1_000);
}

#[test]
fn liechtenstein_has_the_rhine_its_forests_and_its_towns() {
    let path = crate::common::geodata("osm/liechtenstein-2013-08-03.osm.pbf");
    let osm = read_osm(&path, &mut |_, _| {}).expect("test setup");
    let rhine = osm.water.iter().any(|w| {
        w.properties.get("kind").and_then(Value::as_str) == Some("river")
            && w.properties
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.contains("Rhein"))
    });
    assert!(rhine, "the Rhine runs along Liechtenstein's western border");
    let count = |kind: &str| {
        osm.land_use
            .iter()
            .filter(|f| f.properties.get("kind").and_then(Value::as_str) == Some(kind))
            .count()
    };
    for kind in ["forest", "built_up", "farmland", "grassland"] {
        assert!(count(kind) > 5, "{kind}: {}", count(kind));
    }
}

#[test]
fn monaco() {
    check("monaco.osm.pbf", 1_000, 0);
}

#[test]
fn a_file_that_is_not_pbf_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.osm.pbf");
    std::fs::write(&path, b"<osm version='0.6'></osm>").unwrap();
    let e = read_osm(&path, &mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("x.osm.pbf"), "{e}");
    let e = read_osm(&dir.path().join("missing.pbf"), &mut |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("missing.pbf"), "{e}");
}
