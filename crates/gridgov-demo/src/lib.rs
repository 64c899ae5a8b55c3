//! A deterministic synthetic demo county for gridgov: a plausible county around Weining,
//! Guizhou (威宁彝族回族苗族自治县, code 520526), with every layer of the model filled in.
//!
//! [`generate`] builds it from a seed; the same seed always gives the same [`Demo`], on any
//! machine, whatever the date. Nothing in it is real except the county's name, code and rough
//! location: boundaries, names, people, ID-card numbers and phone numbers are invented.
//!
//! # Layout
//! - `frame`: the local plane (metres round the county town) and its affine map to longitude
//!   and latitude; `calendar`: the fixed dates the records run up to.
//! - `mesh`, `partition`, `shapes`: the jittered hexagonal mesh every polygon is built from,
//!   region growing and balanced splitting over it, and polygons with straightened boundaries
//!   that tile their parents exactly.
//! - `county`, `water`, `households`, `grids`, `landuse`, `roads`: the world, from the county
//!   outline down to houses and lanes (`world` holds it).
//! - `features`, `sanitation`, `persons`, `social`, `disputes`: the features of every layer,
//!   numbered by `output`.
//! - `names`, `noise`, `random`: syllable lists, hashing and value noise, seeded streams.
//!
//! # Example
//! ```
//! let demo = gridgov_demo::generate(42);
//! assert!(demo.dataset.count(gridgov_model::Layer::Households) >= 25_000);
//! assert!((4..=6).contains(&demo.clusters.len()));
//! ```

mod calendar;
mod county;
mod disputes;
mod features;
mod frame;
mod grids;
mod households;
mod landuse;
mod mesh;
mod names;
mod noise;
mod output;
mod partition;
mod persons;
mod random;
mod roads;
mod sanitation;
mod shapes;
mod social;
mod water;
mod world;

use chrono::NaiveDate;

use crate::output::Out;
use crate::persons::People;
use crate::random::stream;
use crate::shapes::Shapes;

/// A generated demo county.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Every layer's features, with ids 1, 2, … per layer so references resolve.
    pub dataset: gridgov_model::Dataset,
    /// The dispute clusters planted on purpose (the answers a hotspot analysis should find).
    pub clusters: Vec<PlantedCluster>,
}

/// A cluster of disputes planted in space and time.
#[derive(serde::Serialize, Clone, Debug, PartialEq)]
pub struct PlantedCluster {
    /// Longitude of the centre (degrees, WGS84 / CGCS2000).
    pub center_lon: f64,
    /// Latitude of the centre.
    pub center_lat: f64,
    /// Radius in metres: every planted dispute lies within it.
    pub radius_m: f64,
    /// First day of the cluster.
    pub from: NaiveDate,
    /// Last day of the cluster.
    pub to: NaiveDate,
    /// The planted disputes' category (a `DisputeCategory` token).
    pub category: String,
    /// Number of planted disputes (background disputes nearby come on top).
    pub count: usize,
    /// Code of the village the cluster lies in (all its disputes belong to it).
    pub village_code: String,
}

/// Generates the demo county for `seed`. Runs in about a second in a release build and a few
/// seconds in a debug build.
pub fn generate(seed: u64) -> Demo {
    let mut world = county::build(seed, &mut stream(seed, 1));
    water::add_streams(&mut world, &mut stream(seed, 2));
    water::add_ponds(&mut world, &mut stream(seed, 3));
    households::place(&mut world, &mut stream(seed, 4));
    grids::draw(&mut world);
    landuse::classify(&mut world);
    let shapes = Shapes::new(
        &world.mesh,
        &[&world.group_of, &world.grid_of, &world.patch_of],
    );
    for h in &mut world.households {
        h.pos = shapes.settle(h.atom, h.pos);
    }
    let network = roads::build(&world, &mut stream(seed, 5));
    let mut out = Out::default();
    let villages = features::divisions(&world, &shapes, &mut out);
    features::grid_plan(&world, &shapes, &mut out, &mut stream(seed, 6));
    features::households(&world, &mut out);
    let mut people = People::default();
    sanitation::build(&world, &shapes, &mut out, &mut people, &mut stream(seed, 7));
    features::roads(&network.roads, &mut out);
    features::water(&world, &mut out);
    features::land_use(&world, &shapes, &mut out);
    social::rentals(&world, &mut out, &mut people, &mut stream(seed, 8));
    social::supervision(
        &world,
        &villages,
        &mut out,
        &mut people,
        &mut stream(seed, 9),
    );
    let clusters = disputes::build(&world, &shapes, &network, &mut out, &mut stream(seed, 10));
    Demo {
        dataset: out.dataset,
        clusters,
    }
}
