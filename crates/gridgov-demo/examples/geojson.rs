//! Writes the demo as one GeoJSON `FeatureCollection` per layer into a directory:
//! `cargo run -p gridgov-demo --example geojson -- 42 /tmp/demo`.

use gridgov_model::Layer;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(42);
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "demo-geojson".into()));
    std::fs::create_dir_all(&dir)?;
    let demo = gridgov_demo::generate(seed);
    for layer in Layer::ALL {
        let features: Vec<_> = demo
            .dataset
            .layers
            .get(layer)
            .map(|v| v.iter().map(gridgov_model::Feature::to_geojson).collect())
            .unwrap_or_default();
        let collection = serde_json::json!({"type": "FeatureCollection", "features": features});
        std::fs::write(
            dir.join(format!("{}.geojson", layer.name())),
            serde_json::to_string(&collection)?,
        )?;
    }
    std::fs::write(
        dir.join("clusters.json"),
        serde_json::to_string_pretty(&demo.clusters)?,
    )?;
    Ok(())
}
