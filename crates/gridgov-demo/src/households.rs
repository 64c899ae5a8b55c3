//! Households: clustered around the hamlets of each villager group, denser in the communities
//! of township seats, never in a lake, reservoir or pond.

use geo::Coord;
use rand::Rng;

use crate::random::{apportion, normal, pick_weighted};
use crate::world::{Household, World};

/// Shares of household sizes 1 to 7.
const SIZES: [f64; 7] = [8.0, 18.0, 22.0, 24.0, 15.0, 9.0, 4.0];

/// Places every household and numbers them (by village, group, and house number within the
/// group, counted round the hamlet).
pub(crate) fn place(world: &mut World, rng: &mut impl Rng) {
    let planned: Vec<f64> = world
        .villages
        .iter()
        .map(|v| {
            if v.town {
                rng.gen_range(1_000.0..1_500.0)
            } else if v.community {
                rng.gen_range(500.0..800.0)
            } else {
                rng.gen_range(200.0..360.0)
            }
        })
        .collect();
    let total = rng.gen_range(27_000..=29_000);
    let counts = apportion(total, &planned);
    for (v, &n) in counts.iter().enumerate() {
        world.villages[v].planned = n;
    }
    let mut placed: Vec<Household> = Vec::with_capacity(total);
    let mesh = &world.mesh;
    for v in 0..world.villages.len() {
        let village = &world.villages[v];
        let weights: Vec<f64> = village
            .groups
            .iter()
            .enumerate()
            .map(|(i, _)| match (i, village.community) {
                (0, false) => 2.0,
                (0, true) => 1.3,
                _ => rng.gen_range(0.6..1.4),
            })
            .collect();
        let per_group = apportion(village.planned, &weights);
        for (&g, &n) in village.groups.iter().zip(&per_group) {
            let sigma = if village.community {
                rng.gen_range(170.0..280.0)
            } else {
                rng.gen_range(110.0..200.0)
            };
            let hamlet = world.groups[g].hamlet;
            let dry: Vec<usize> = world.groups[g]
                .atoms
                .iter()
                .copied()
                .filter(|&a| world.dry(a))
                .collect();
            for _ in 0..n {
                // Most houses stand in the hamlet; in the countryside some stand alone (散居).
                let scattered = !village.community && !dry.is_empty() && rng.gen_bool(0.15);
                let (atom, pos) = if scattered {
                    let a = dry[rng.gen_range(0..dry.len())];
                    (a, mesh.sample(a, 0.9, rng))
                } else {
                    spot(world, v, hamlet, sigma, rng)
                };
                placed.push(Household {
                    pos,
                    atom,
                    village: v,
                    group: world.group_of[atom] as usize,
                    grid: 0,
                    number: 0,
                    size: pick_weighted(rng, &SIZES) as i64 + 1,
                });
            }
        }
    }
    number(world, placed);
}

/// A spot for a house near a hamlet, inside village `v`, on dry land.
fn spot(
    world: &World,
    v: usize,
    hamlet: usize,
    sigma: f64,
    rng: &mut impl Rng,
) -> (usize, Coord<f64>) {
    let mesh = &world.mesh;
    let centre = mesh.centre(hamlet);
    for _ in 0..40 {
        let p = Coord {
            x: centre.x + sigma * normal(rng),
            y: centre.y + sigma * normal(rng),
        };
        if let Some(a) = mesh.locate(p) {
            if world.dry(a) && world.village_of[a] == v as u32 && !world.water.inside(p) {
                return (a, mesh.clamp(a, p, 0.92));
            }
        }
    }
    (hamlet, mesh.sample(hamlet, 0.8, rng))
}

/// Orders households by village, group and bearing round the hamlet, and numbers them.
fn number(world: &mut World, mut placed: Vec<Household>) {
    let mesh = &world.mesh;
    let groups = &world.groups;
    let key = |h: &Household| {
        let c = mesh.centre(groups[h.group].hamlet);
        let bearing = (h.pos.x - c.x).atan2(h.pos.y - c.y);
        (h.village, h.group, bearing)
    };
    placed.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.cmp(&kb.1))
            .then(ka.2.total_cmp(&kb.2))
    });
    let mut last_group = usize::MAX;
    let mut n = 0;
    for (i, h) in placed.iter_mut().enumerate() {
        if h.group != last_group {
            last_group = h.group;
            n = 0;
        }
        n += 1;
        h.number = n;
        world.villages[h.village].households.push(i);
    }
    world.households = placed;
}
