//! Encoding tiles of the demo county: the combined (`all`) tile at the county's centre at
//! zooms 9, 12, 14 and 16 (the features reaching each tile are picked beforehand, as the
//! index hands them over).
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly on bad data")]
#![expect(
    missing_docs,
    reason = "criterion_group! makes an undocumented function"
)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use geo::{BoundingRect, Intersects, Rect};
use gridgov_model::{Feature, Layer};
use gridgov_tiles::{encode, search_area, tiled_layers, tiles_covering, TileId};

fn county() -> (Rect<f64>, Vec<(Layer, Vec<Feature>)>) {
    let demo = gridgov_demo::generate(42);
    let layers: Vec<(Layer, Vec<Feature>)> = demo.dataset.layers.into_iter().collect();
    let rect = layers
        .iter()
        .find(|(l, _)| *l == Layer::Counties)
        .and_then(|(_, fs)| fs[0].geometry.as_ref()?.bounding_rect())
        .unwrap();
    (rect, layers)
}

fn bench(c: &mut Criterion) {
    let (rect, layers) = county();
    let centre = Rect::new(rect.center(), rect.center());
    let mut group = c.benchmark_group("encode_all");
    for z in [9_u8, 12, 14, 16] {
        let tile: TileId = tiles_covering(centre, z).next().unwrap();
        let area = search_area(tile);
        let picked: Vec<(Layer, Vec<&Feature>)> = tiled_layers()
            .map(|layer| {
                let features = layers
                    .iter()
                    .find(|(l, _)| *l == layer)
                    .map(|(_, fs)| {
                        fs.iter()
                            .filter(|f| {
                                f.geometry
                                    .as_ref()
                                    .and_then(BoundingRect::bounding_rect)
                                    .is_some_and(|r| r.intersects(&area))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (layer, features)
            })
            .collect();
        let bytes = encode(tile, picked.iter().map(|(l, fs)| (*l, fs.iter().copied()))).unwrap();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(tile), &picked, |b, picked| {
            b.iter(|| encode(tile, picked.iter().map(|(l, fs)| (*l, fs.iter().copied()))).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
