//! Water: a river across the county, streams feeding it, a reservoir on the river, a lake near
//! the county town (the demo's 草海) and ponds in the villages.

use geo::Coord;
use gridgov_model::vocab::WaterKind;
use rand::Rng;

use crate::frame::{dist, in_ring, segments_touch};
use crate::mesh::Mesh;
use crate::names;
use crate::random::normal;
use crate::world::{Outline, World};

/// A star-shaped blob: an ellipse with a wavy rim.
#[derive(Debug, Clone)]
pub(crate) struct Blob {
    pub(crate) centre: Coord<f64>,
    a: f64,
    b: f64,
    rotation: f64,
    wobble: Vec<(f64, f64)>,
}

impl Blob {
    /// A random blob with semi-axes `a` ≥ `b` (metres) around `centre`.
    pub(crate) fn new(
        centre: Coord<f64>,
        a: f64,
        b: f64,
        rotation: f64,
        rng: &mut impl Rng,
    ) -> Self {
        let wobble = (0..6)
            .map(|k| {
                (
                    rng.gen_range(0.02..0.16) / (1.0 + 0.6 * f64::from(k)),
                    rng.gen_range(0.0..std::f64::consts::TAU),
                )
            })
            .collect();
        Self {
            centre,
            a,
            b,
            rotation,
            wobble,
        }
    }

    /// The rim's distance from the centre towards bearing `theta`.
    pub(crate) fn radius(&self, theta: f64) -> f64 {
        let t = theta - self.rotation;
        let ellipse =
            self.a * self.b / ((self.b * t.cos()).powi(2) + (self.a * t.sin()).powi(2)).sqrt();
        let w: f64 = self
            .wobble
            .iter()
            .enumerate()
            .map(|(k, (amp, phi))| amp * ((k as f64 + 2.0) * theta + phi).cos())
            .sum();
        ellipse * (1.0 + w)
    }

    /// Whether `p` lies within `margin` metres outside the rim (or inside it).
    pub(crate) fn covers(&self, p: Coord<f64>, margin: f64) -> bool {
        let (dx, dy) = (p.x - self.centre.x, p.y - self.centre.y);
        dx.hypot(dy) <= self.radius(dy.atan2(dx)) + margin
    }

    /// The rim as a counter-clockwise ring of `n` points (not closed).
    pub(crate) fn ring(&self, n: usize) -> Vec<Coord<f64>> {
        (0..n)
            .map(|i| {
                let t = i as f64 / n as f64 * std::f64::consts::TAU;
                let r = self.radius(t);
                Coord {
                    x: self.centre.x + r * t.cos(),
                    y: self.centre.y + r * t.sin(),
                }
            })
            .collect()
    }

    /// The largest distance of the rim from the centre.
    pub(crate) fn reach(&self) -> f64 {
        self.a * (1.0 + self.wobble.iter().map(|w| w.0).sum::<f64>())
    }
}

/// A lake, reservoir or pond.
#[derive(Debug, Clone)]
pub(crate) struct Area {
    pub(crate) kind: WaterKind,
    pub(crate) name: Option<String>,
    pub(crate) blob: Blob,
    /// The rim, counter-clockwise, not closed.
    pub(crate) ring: Vec<Coord<f64>>,
}

/// A river or stream.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    pub(crate) kind: WaterKind,
    pub(crate) name: String,
    pub(crate) points: Vec<Coord<f64>>,
    /// The atom the line starts from, inside the county (streams only).
    pub(crate) source: Option<usize>,
}

/// All water of the demo.
#[derive(Debug, Clone, Default)]
pub(crate) struct Water {
    pub(crate) lines: Vec<Line>,
    pub(crate) areas: Vec<Area>,
}

impl Water {
    /// Whether `p` lies in a lake, reservoir or pond.
    pub(crate) fn inside(&self, p: Coord<f64>) -> bool {
        self.areas
            .iter()
            .any(|a| a.blob.covers(p, 1.0) && in_ring(&a.ring, p))
    }

    /// Whether the segment `p-q` touches a lake or reservoir (ponds are small enough to skirt).
    pub(crate) fn crossed_by(&self, p: Coord<f64>, q: Coord<f64>) -> bool {
        self.areas
            .iter()
            .filter(|a| a.kind != WaterKind::Pond)
            .any(|a| {
                let reach = a.blob.reach();
                let mid = Coord {
                    x: f64::midpoint(p.x, q.x),
                    y: f64::midpoint(p.y, q.y),
                };
                if dist(mid, a.blob.centre) > reach + dist(p, q) / 2.0 {
                    return false;
                }
                in_ring(&a.ring, p)
                    || in_ring(&a.ring, q)
                    || (0..a.ring.len())
                        .any(|i| segments_touch(p, q, a.ring[i], a.ring[(i + 1) % a.ring.len()]))
            })
    }
}

/// A wavy line from `a` to `b` by midpoint displacement: `depth` halvings, each midpoint moved
/// sideways by up to about `amp` times the piece's length.
pub(crate) fn meander(
    a: Coord<f64>,
    b: Coord<f64>,
    depth: u32,
    amp: f64,
    rng: &mut impl Rng,
) -> Vec<Coord<f64>> {
    let mut pts = vec![a, b];
    for _ in 0..depth {
        let mut next = Vec::with_capacity(pts.len() * 2);
        for w in pts.windows(2) {
            let (p, q) = (w[0], w[1]);
            let (dx, dy) = (q.x - p.x, q.y - p.y);
            let shift = (normal(rng) * amp).clamp(-2.0 * amp, 2.0 * amp);
            next.push(p);
            next.push(Coord {
                x: f64::midpoint(p.x, q.x) - dy * shift,
                y: f64::midpoint(p.y, q.y) + dx * shift,
            });
        }
        next.push(pts[pts.len() - 1]);
        pts = next;
    }
    pts
}

fn polar(r: f64, theta: f64) -> Coord<f64> {
    Coord {
        x: r * theta.cos(),
        y: r * theta.sin(),
    }
}

/// The river (entering from the west, leaving to the east, north of the county town), the
/// reservoir on it and the lake south-west of the town.
pub(crate) fn plan(outline: &Outline, rng: &mut impl Rng) -> Water {
    let deg = std::f64::consts::PI / 180.0;
    let t_in = rng.gen_range(150.0..172.0) * deg;
    let t_out = rng.gen_range(6.0..28.0) * deg;
    let start = polar(outline.radius(t_in) + 1_500.0, t_in);
    let end = polar(outline.radius(t_out) + 1_500.0, t_out);
    let dam = Coord {
        x: rng.gen_range(4_000.0..10_000.0),
        y: rng.gen_range(7_500.0..10_500.0),
    };
    let mut river = meander(start, dam, 6, 0.11, rng);
    river.pop();
    river.extend(meander(dam, end, 6, 0.11, rng));
    let along = (end.y - start.y).atan2(end.x - start.x);
    let reservoir = Blob::new(
        dam,
        rng.gen_range(1_600.0..2_200.0),
        rng.gen_range(650.0..950.0),
        along + rng.gen_range(-0.3..0.3),
        rng,
    );
    let lake_centre = Coord {
        x: rng.gen_range(-5_200.0..-4_200.0),
        y: rng.gen_range(-3_600.0..-2_800.0),
    };
    let lake = Blob::new(
        lake_centre,
        rng.gen_range(2_000.0..2_500.0),
        rng.gen_range(1_200.0..1_500.0),
        rng.gen_range(-0.6..0.6),
        rng,
    );
    let river_name = format!("{}河", names::water_stem(rng));
    let reservoir_name = format!("{}水库", names::water_stem(rng));
    Water {
        lines: vec![Line {
            kind: WaterKind::River,
            name: river_name,
            points: river,
            source: None,
        }],
        areas: vec![
            Area {
                kind: WaterKind::Lake,
                name: Some("草海".to_owned()),
                ring: lake.ring(72),
                blob: lake,
            },
            Area {
                kind: WaterKind::Reservoir,
                name: Some(reservoir_name),
                ring: reservoir.ring(64),
                blob: reservoir,
            },
        ],
    }
}

/// Marks the atoms under or at the shore of an area as wet.
pub(crate) fn mark_wet(mesh: &Mesh, area: &Area, wet: &mut [bool]) {
    let margin = 1.3 * mesh.r;
    let reach = area.blob.reach() + margin;
    let c = area.blob.centre;
    for (a, w) in wet.iter_mut().enumerate() {
        let p = mesh.centre(a);
        if (p.x - c.x).abs() <= reach && (p.y - c.y).abs() <= reach && area.blob.covers(p, margin) {
            *w = true;
        }
    }
}

/// Adds three to five streams running from the hills to the river.
pub(crate) fn add_streams(world: &mut World, rng: &mut impl Rng) {
    let river = world.water.lines[0].points.clone();
    let inland: Vec<Coord<f64>> = river
        .iter()
        .copied()
        .filter(|p| p.x.hypot(p.y) < 0.85 * world.outline.radius_towards(*p))
        .filter(|p| {
            !world.water.inside(*p) && !world.water.areas.iter().any(|a| a.blob.covers(*p, 300.0))
        })
        .collect();
    if inland.is_empty() {
        return;
    }
    let count = rng.gen_range(3..=5);
    let mut tries = 0;
    while world.water.lines.len() < count + 1 && tries < 400 {
        tries += 1;
        let a = world.county_atoms[rng.gen_range(0..world.county_atoms.len())];
        if !world.dry(a) {
            continue;
        }
        let src = world.mesh.centre(a);
        let Some(mouth) = inland
            .iter()
            .copied()
            .min_by(|p, q| dist(*p, src).total_cmp(&dist(*q, src)))
        else {
            continue;
        };
        let length = dist(src, mouth);
        if !(4_000.0..12_000.0).contains(&length) {
            continue;
        }
        let pts = meander(src, mouth, 5, 0.13, rng);
        let wet = pts.windows(2).any(|w| world.water.crossed_by(w[0], w[1]));
        let near_other = world.water.lines[1..]
            .iter()
            .any(|l| dist(l.points[0], src) < 3_000.0);
        if wet || near_other {
            continue;
        }
        let suffix = if length > 8_000.0 { "河" } else { "沟" };
        world.water.lines.push(Line {
            kind: WaterKind::Stream,
            name: format!("{}{suffix}", names::water_stem(rng)),
            points: pts,
            source: Some(a),
        });
    }
}

/// Adds ponds (池塘) in rural villages, away from the hamlets, and marks their atoms wet.
pub(crate) fn add_ponds(world: &mut World, rng: &mut impl Rng) {
    let count = rng.gen_range(6..=10);
    let mut tries = 0;
    let mut made = 0;
    while made < count && tries < 500 {
        tries += 1;
        let v = rng.gen_range(0..world.villages.len());
        let village = &world.villages[v];
        if village.community || village.atoms.is_empty() {
            continue;
        }
        let a = village.atoms[rng.gen_range(0..village.atoms.len())];
        let p = world.mesh.centre(a);
        let clear = village
            .groups
            .iter()
            .all(|&g| dist(world.mesh.centre(world.groups[g].hamlet), p) > 400.0);
        let free = world
            .mesh
            .neighbours(a)
            .all(|n| world.dry(n) && world.village_of[n] == world.village_of[a]);
        if !clear || !free || !world.dry(a) {
            continue;
        }
        let r = rng.gen_range(45.0..95.0);
        let blob = Blob::new(
            p,
            r,
            r * rng.gen_range(0.6..0.9),
            rng.gen_range(0.0..3.1),
            rng,
        );
        let name = rng
            .gen_bool(0.5)
            .then(|| format!("{}塘", names::water_stem(rng)));
        let area = Area {
            kind: WaterKind::Pond,
            name,
            ring: blob.ring(24),
            blob,
        };
        mark_wet(&world.mesh, &area, &mut world.wet);
        world.water.areas.push(area);
        made += 1;
    }
}
