//! The demo county's basemap: each layer appears from its lowest zoom on and not before,
//! attributes are the basemap's, labels carry the Chinese names, and the archive reads back.

use std::collections::{BTreeMap, BTreeSet};

use gridgov_basemap::build::road_min_zoom;
use gridgov_basemap::{build, Archive, Basemap, BuildOptions, MapLayer};
use gridgov_tiles::AttrValue;

#[test]
fn demo_county_basemap() {
    let demo = gridgov_demo::generate(42);
    let basemap = Basemap::from_dataset(&demo.dataset);
    assert_eq!(
        basemap.features(MapLayer::Roads).len(),
        demo.dataset.count(gridgov_model::Layer::Roads)
    );
    let divisions = [
        gridgov_model::Layer::Counties,
        gridgov_model::Layer::Townships,
        gridgov_model::Layer::Villages,
    ]
    .map(|l| demo.dataset.count(l))
    .iter()
    .sum::<usize>();
    assert_eq!(basemap.features(MapLayer::Boundaries).len(), divisions);
    assert_eq!(
        basemap.features(MapLayer::Places).len(),
        divisions,
        "every division is named"
    );

    let options = BuildOptions {
        max_zoom: 14,
        ..BuildOptions::default()
    };
    let (writer, stats) = build(&basemap, &options, &mut |_, _, _| {}).unwrap();
    let bytes = writer.finish().unwrap();
    let archive = Archive::from_bytes(bytes.clone()).unwrap();
    eprintln!(
        "demo basemap: {} bytes, tiles per zoom {:?}, {} empty tiles skipped",
        bytes.len(),
        stats.tiles_per_zoom,
        stats.empty
    );

    // Per zoom: the layers present and the road classes drawn.
    let mut layers: BTreeMap<u8, BTreeSet<String>> = BTreeMap::new();
    let mut classes: BTreeMap<u8, BTreeSet<String>> = BTreeMap::new();
    let mut place_names = BTreeSet::new();
    let bounds = basemap.bounds().unwrap();
    for z in 0..=14u8 {
        for t in gridgov_tiles::tiles_covering(bounds, z) {
            let Some(mvt) = archive.get_decompressed(z, t.x(), t.y()).unwrap() else {
                continue;
            };
            let tile = gridgov_tiles::decode(&mvt).unwrap();
            for l in &tile.layers {
                layers.entry(z).or_default().insert(l.name.clone());
                for f in &l.features {
                    let attr = |k: &str| f.attributes.get(k);
                    if l.name == "roads" {
                        let Some(AttrValue::Str(c)) = attr("class") else {
                            panic!("a road without class");
                        };
                        assert!(road_min_zoom(c) <= z, "{c} road at z{z}");
                        classes.entry(z).or_default().insert(c.clone());
                    }
                    if l.name == "places" {
                        if let Some(AttrValue::Str(n)) = attr("name") {
                            place_names.insert(n.clone());
                        }
                    }
                }
            }
        }
    }
    assert_eq!(layers[&0], BTreeSet::from(["boundaries".to_owned()]));
    for l in ["landuse", "water", "roads", "boundaries", "places"] {
        assert!(layers[&14].contains(l), "{l} at z14");
    }
    assert!(!layers[&9].contains("landuse"), "land use from z10");
    // Minor roads only from z12.
    assert!(!classes.get(&11).is_some_and(|c| c.contains("village")));
    assert!(classes[&14].len() > classes.get(&10).map_or(0, BTreeSet::len));
    // Every division's name is on the map somewhere, in Chinese.
    let names: BTreeSet<String> = [
        gridgov_model::Layer::Counties,
        gridgov_model::Layer::Townships,
        gridgov_model::Layer::Villages,
    ]
    .iter()
    .flat_map(|l| &demo.dataset.layers[l])
    .filter_map(|f| f.text("name").map(str::to_owned))
    .collect();
    assert_eq!(place_names, names);
    assert!(place_names.iter().all(|n| !n.is_ascii()));
    // Nothing outside the data's extent.
    assert_eq!(archive.get(14, 0, 0).unwrap(), None);
    assert!(bytes.len() < 20 << 20, "the demo package stays small");
}
