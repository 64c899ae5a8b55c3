//! The road graph on real OpenStreetMap extracts (Monaco, Liechtenstein 2013): components,
//! matrices equal to the plain reference Dijkstra, route geometry that follows the streets and
//! drives one-way streets forward only, and OSRM's 131.5 m test route in Monaco.
//!
//! The extracts are read from `$GRIDGOV_SHARED/geodata/osm/`, else `../shared/geodata/osm/`
//! beside the repository; a missing file fails the tests.

#![expect(clippy::unwrap_used, reason = "a test fails loudly")]

use std::path::PathBuf;
use std::sync::OnceLock;

use geo::Coord;
use gridgov_model::Value;
use gridgov_routing::network::{
    haversine_m, reference, Path, Profile, RoadLine, RoadNetwork, Snap, SnapOptions,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;

fn osm_file(name: &str) -> PathBuf {
    let dir = std::env::var_os("GRIDGOV_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/geodata/osm"),
        |s| PathBuf::from(s).join("geodata/osm"),
    );
    let path = dir.join(name);
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

fn read_roads(name: &str) -> Vec<RoadLine> {
    let osm = gridgov_import::read_osm(&osm_file(name), &mut |_, _| {}).unwrap();
    assert!(osm.rejected.is_empty() || osm.rejected.len() * 100 < osm.roads.len());
    let mut lines = Vec::new();
    for f in &osm.roads {
        let id = f.properties.get("osm_id").and_then(Value::as_i64).unwrap();
        lines.extend(RoadLine::from_parts(id, f.geometry.as_ref(), &f.properties).unwrap());
    }
    lines
}

fn monaco() -> &'static [RoadLine] {
    static ROADS: OnceLock<Vec<RoadLine>> = OnceLock::new();
    ROADS.get_or_init(|| read_roads("monaco.osm.pbf"))
}

fn liechtenstein() -> &'static [RoadLine] {
    static ROADS: OnceLock<Vec<RoadLine>> = OnceLock::new();
    ROADS.get_or_init(|| read_roads("liechtenstein-2013-08-03.osm.pbf"))
}

/// Metres per degree of latitude on the network's sphere.
const M_PER_DEG: f64 = 6_371_008.8 * std::f64::consts::PI / 180.0;

/// An input road segment in a local plane (metres), with its line and segment index.
type Segment = GeomWithData<Line<[f64; 2]>, (usize, usize)>;

/// The input road segments, to find which roads a path runs on.
struct Segments<'a> {
    lines: &'a [RoadLine],
    kx: f64,
    tree: RTree<Segment>,
}

impl<'a> Segments<'a> {
    fn new(lines: &'a [RoadLine]) -> Self {
        let lat = lines[0].coords[0].y;
        let kx = M_PER_DEG * lat.to_radians().cos();
        let project = |c: Coord<f64>| [c.x * kx, c.y * M_PER_DEG];
        let items = lines
            .iter()
            .enumerate()
            .flat_map(|(l, line)| {
                line.coords.windows(2).enumerate().map(move |(k, w)| {
                    GeomWithData::new(Line::new(project(w[0]), project(w[1])), (l, k))
                })
            })
            .collect();
        Segments {
            lines,
            kx,
            tree: RTree::bulk_load(items),
        }
    }

    fn project(&self, c: Coord<f64>) -> [f64; 2] {
        [c.x * self.kx, c.y * M_PER_DEG]
    }

    /// The road segments within 1 cm of both points, with whether the road's direction goes
    /// from `p` to `q` along it.
    fn joining(&self, p: Coord<f64>, q: Coord<f64>) -> Vec<(usize, bool)> {
        let (pp, qq) = (self.project(p), self.project(q));
        self.tree
            .locate_within_distance(pp, 0.01 * 0.01)
            .filter(|s| rstar::PointDistance::distance_2(s.geom(), &qq) <= 0.01 * 0.01)
            .map(|s| {
                let (a, b) = (s.geom().from, s.geom().to);
                let along =
                    |x: [f64; 2]| (x[0] - a[0]) * (b[0] - a[0]) + (x[1] - a[1]) * (b[1] - a[1]);
                (s.data.0, along(qq) >= along(pp))
            })
            .collect()
    }

    /// Checks a route: every step between consecutive points lies along one input road, in its
    /// direction when the road is one-way. Returns the number of steps on one-way roads.
    fn check(&self, path: &Path) -> usize {
        let mut oneway_steps = 0;
        for w in path.coords.windows(2) {
            let on = self.joining(w[0], w[1]);
            assert!(!on.is_empty(), "{:?} -> {:?} follows no road", w[0], w[1]);
            let legal: Vec<&(usize, bool)> = on
                .iter()
                .filter(|(l, fwd)| *fwd || !self.lines[*l].oneway)
                .collect();
            assert!(
                !legal.is_empty(),
                "{:?} -> {:?} against a one-way street",
                w[0],
                w[1]
            );
            if legal.iter().all(|(l, _)| self.lines[*l].oneway) {
                oneway_steps += 1;
            }
        }
        let drawn: f64 = path
            .coords
            .windows(2)
            .map(|w| haversine_m(w[0], w[1]))
            .sum();
        assert!(
            (drawn - f64::from(path.distance_m)).abs() <= 1.0 + 1e-3 * drawn,
            "drawn {drawn} m, reported {} m",
            path.distance_m
        );
        oneway_steps
    }
}

/// Random points in the bounding box of the roads.
fn random_points(lines: &[RoadLine], n: usize, seed: u64) -> Vec<Coord<f64>> {
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
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| Coord {
            x: rng.gen_range(lo.x..hi.x),
            y: rng.gen_range(lo.y..hi.y),
        })
        .collect()
}

/// Builds, reports, and checks matrices against the reference and routes against the roads.
fn check_extract(name: &str, lines: &[RoadLine], points: usize) {
    let segments = Segments::new(lines);
    for (k, profile) in [Profile::truck(), Profile::tricycle()]
        .into_iter()
        .enumerate()
    {
        let net = RoadNetwork::build(lines.iter().cloned(), &profile).unwrap();
        let comps = net.components();
        println!("{name}, {}: {:?}\n  {comps}", profile.name(), net.stats());
        let main = comps.main().unwrap();
        let all: f64 = comps.pieces.iter().map(|p| p.length_m).sum();
        assert!(main.length_m > 0.9 * all, "{comps}");
        // Half the points snapped by preference to the main network, half to the nearest road.
        let nearest = SnapOptions {
            max_distance_m: None,
            prefer_main: false,
        };
        let preferred = SnapOptions {
            max_distance_m: None,
            prefer_main: true,
        };
        let snaps: Vec<Snap> = random_points(lines, points, 7 + k as u64)
            .iter()
            .enumerate()
            .map(|(i, &p)| {
                net.snap_with(p, if i % 2 == 0 { &preferred } else { &nearest })
                    .unwrap()
            })
            .collect();
        let off_main = snaps.iter().filter(|s| !s.in_main()).count();
        let m = net.matrix(&snaps);
        let want = reference::matrix(lines, &profile, &snaps);
        let n = snaps.len();
        for i in 0..n {
            for j in 0..n {
                assert_eq!(
                    m.weight(i, j),
                    want[i * n + j],
                    "{name} {} {i} -> {j}",
                    profile.name()
                );
            }
        }
        println!(
            "  {n} random points, {off_main} off the main network, {} of {} pairs unreachable",
            m.unreachable_pairs(),
            n * (n - 1)
        );
        // Routes between the points: drawn along the roads, one-way streets forward.
        let mut oneway_steps = 0;
        let mut routes = 0;
        for i in 0..n {
            for j in [(i + 1) % n, (i + n / 2) % n] {
                if let Some(p) = net.path(&snaps[i], &snaps[j]) {
                    assert_eq!(Some(p.weight), m.weight(i, j));
                    oneway_steps += segments.check(&p);
                    routes += 1;
                }
            }
        }
        println!("  {routes} routes checked, {oneway_steps} steps on one-way streets");
        assert!(routes > n && oneway_steps > 0);
    }
}

#[test]
fn monaco_matrices_and_routes() {
    check_extract("monaco", monaco(), 60);
}

#[test]
fn liechtenstein_matrices_and_routes() {
    check_extract("liechtenstein", liechtenstein(), 40);
}

/// OSRM's `test_route_snapping` (`test/python/test_route.py`) routes a car between these two
/// points with `snapping="any"` (the nearest road, whatever its component) and expects
/// 131.5 m. Our truck profile is the nearest thing to OSRM's car.
#[test]
fn osrm_monaco_route_of_131_5_m() {
    let net = RoadNetwork::build(monaco().iter().cloned(), &Profile::truck()).unwrap();
    let any = SnapOptions {
        max_distance_m: None,
        prefer_main: false,
    };
    let a = net
        .snap_with(
            Coord {
                x: 7.448_205_209_414_596,
                y: 43.754_001_097_311_544,
            },
            &any,
        )
        .unwrap();
    let b = net
        .snap_with(
            Coord {
                x: 7.447_122_039_202_185,
                y: 43.753_061_568_113_68,
            },
            &any,
        )
        .unwrap();
    let p = net.path(&a, &b).unwrap();
    println!(
        "OSRM's Monaco route: {} m, {} s; snapped {:.1} m and {:.1} m, components {:?} {:?}",
        p.distance_m, p.time_s, a.distance_m, b.distance_m, a.component, b.component
    );
    Segments::new(monaco()).check(&p);
    assert!(
        (f64::from(p.distance_m) - 131.5).abs() <= 5.0,
        "{} m",
        p.distance_m
    );
}
