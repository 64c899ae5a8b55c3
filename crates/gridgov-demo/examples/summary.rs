//! Prints what `generate` makes for a seed, and how long it takes:
//! `cargo run -p gridgov-demo --example summary -- 42`.

use std::time::Instant;

use gridgov_model::Layer;

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(42);
    let start = Instant::now();
    let demo = gridgov_demo::generate(seed);
    let took = start.elapsed();
    println!("seed {seed}: generated in {:.2} s", took.as_secs_f64());
    for layer in Layer::ALL {
        println!("{:>20} {:>7}", layer.name(), demo.dataset.count(*layer));
    }
    for c in &demo.clusters {
        println!(
            "cluster {:<17} {:>3} disputes within {:>5} m of ({:.5}, {:.5}) in {} from {} to {}",
            c.category,
            c.count,
            c.radius_m,
            c.center_lon,
            c.center_lat,
            c.village_code,
            c.from,
            c.to
        );
    }
}
