//! Times the road network on the Liechtenstein OpenStreetMap extract: building it, snapping
//! 500 seeded random points, and the 500 × 500 distance and time matrix; then the same for the
//! demo county (seed 42) between all its collection points and transfer stations.
//!
//! ```text
//! taskset -c 0 cargo run --release -j1 -p gridgov-routing --example matrix_bench [-- POINTS REPS]
//! ```
//!
//! The extract is read from `$GRIDGOV_SHARED/geodata/osm/` or else `../shared/geodata/osm/`
//! beside the repository.

use std::path::PathBuf;
use std::time::Instant;

use geo::Coord;
use gridgov_routing::network::{Profile, RoadLine, RoadNetwork, Snap, SnapOptions};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn osm_dir() -> PathBuf {
    std::env::var_os("GRIDGOV_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/geodata/osm"),
        |s| PathBuf::from(s).join("geodata/osm"),
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(500), |a| a.parse())?;
    let reps: usize = args.next().map_or(Ok(5), |a| a.parse())?;
    let path = osm_dir().join("liechtenstein-2013-08-03.osm.pbf");
    let t = Instant::now();
    let osm = gridgov_import::read_osm(&path, &mut |_, _| {})?;
    let mut lines = Vec::new();
    for f in &osm.roads {
        let id = f
            .properties
            .get("osm_id")
            .and_then(gridgov_model::Value::as_i64)
            .unwrap_or(0);
        lines.extend(RoadLine::from_parts(
            id,
            f.geometry.as_ref(),
            &f.properties,
        )?);
    }
    println!("read {} road lines in {:.2?}", lines.len(), t.elapsed());
    for profile in [Profile::truck(), Profile::tricycle()] {
        let t = Instant::now();
        let net = RoadNetwork::build(lines.clone(), &profile)?;
        let build = t.elapsed();
        println!(
            "\n{}: built in {build:.2?}: {:?}",
            profile.name(),
            net.stats()
        );
        println!("{}", net.components());
        // Random points in the bounding box of the road points, snapped without a limit.
        let (mut lo, mut hi) = (
            Coord {
                x: f64::MAX,
                y: f64::MAX,
            },
            Coord {
                x: f64::MIN,
                y: f64::MIN,
            },
        );
        for c in lines.iter().flat_map(|l| &l.coords) {
            lo = Coord {
                x: lo.x.min(c.x),
                y: lo.y.min(c.y),
            };
            hi = Coord {
                x: hi.x.max(c.x),
                y: hi.y.max(c.y),
            };
        }
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let points: Vec<Coord<f64>> = (0..n)
            .map(|_| Coord {
                x: rng.gen_range(lo.x..hi.x),
                y: rng.gen_range(lo.y..hi.y),
            })
            .collect();
        let options = SnapOptions {
            max_distance_m: None,
            ..SnapOptions::default()
        };
        let t = Instant::now();
        let snaps: Vec<Snap> = net
            .snap_all(&points, &options)
            .into_iter()
            .collect::<Result<_, _>>()?;
        let snap = t.elapsed();
        let off = snaps.iter().filter(|s| !s.in_main()).count();
        println!("snapped {n} points in {snap:.2?} ({off} off the main network)");
        let mut times = Vec::new();
        let mut unreachable = 0;
        for _ in 0..reps {
            let t = Instant::now();
            let m = net.matrix(&snaps);
            times.push(t.elapsed().as_secs_f64());
            unreachable = m.unreachable_pairs();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{n} x {n} matrix (distance + time): best {:.3} s, median {:.3} s, worst {:.3} s \
             over {reps} runs; {unreachable} pairs unreachable",
            times[0],
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
    demo_county()
}

/// The demo county: every collection point and transfer station, snapped however far.
fn demo_county() -> Result<(), Box<dyn std::error::Error>> {
    use gridgov_model::Layer;
    let demo = gridgov_demo::generate(42).dataset;
    let lines = RoadLine::from_features(&demo.layers[&Layer::Roads])?;
    let points: Vec<Coord<f64>> = [Layer::CollectionPoints, Layer::TransferStations]
        .iter()
        .flat_map(|l| &demo.layers[l])
        .filter_map(|f| match f.geometry {
            Some(geo::Geometry::Point(p)) => Some(p.0),
            _ => None,
        })
        .collect();
    let n = points.len();
    for profile in [Profile::truck(), Profile::tricycle()] {
        let t = Instant::now();
        let net = RoadNetwork::build(lines.clone(), &profile)?;
        let build = t.elapsed();
        let options = SnapOptions {
            max_distance_m: None,
            ..SnapOptions::default()
        };
        let t = Instant::now();
        let snaps: Vec<Snap> = net
            .snap_all(&points, &options)
            .into_iter()
            .collect::<Result<_, _>>()?;
        let snap = t.elapsed();
        let t = Instant::now();
        let m = net.matrix(&snaps);
        println!(
            "\ndemo county, {}: built in {build:.2?} ({} nodes); {n} sites snapped in \
             {snap:.2?}; {n} x {n} matrix in {:.3} s, {} pairs unreachable",
            profile.name(),
            net.stats().nodes,
            t.elapsed().as_secs_f64(),
            m.unreachable_pairs()
        );
    }
    Ok(())
}
