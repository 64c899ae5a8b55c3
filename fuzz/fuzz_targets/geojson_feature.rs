//! GeoJSON features as the write API receives them: any bytes, parsed as JSON, read as a
//! feature of a layer (the first byte picks which), validated, written back out. Nothing may
//! panic, and a feature that was read must write out and read back.
#![no_main]

use gridgov_model::{validate, Feature, Layer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let layer = Layer::ALL[usize::from(pick) % Layer::ALL.len()];
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(rest) else {
        return;
    };
    if let Ok(mut f) = Feature::from_geojson(layer, &json) {
        let _ = validate(layer, &mut f);
        let out = f.to_geojson();
        assert!(
            Feature::from_geojson(layer, &out).is_ok(),
            "a feature read from GeoJSON does not read back from its own GeoJSON: {out}"
        );
    }
});
