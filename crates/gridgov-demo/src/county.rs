//! The administrative tree: the county's outline, its townships, villages and villager groups,
//! each a connected set of atoms grown from seeds inside its parent.

use std::collections::VecDeque;

use geo::Coord;
use gridgov_model::{DivisionCode, GroupCode};
use rand::Rng;

use crate::frame::dist;
use crate::mesh::{Mesh, NONE};
use crate::names::{self, Namer};
use crate::partition::{members, relax, Grower, Seed, Warp};
use crate::water::{self, Water};
use crate::world::{Group, Outline, Township, Village, World};

/// Corner radius of the mesh's atoms in metres.
const ATOM_RADIUS: f64 = 120.0;
/// Number of townships.
const TOWNSHIPS: usize = 8;
/// The county's code prefix.
pub(crate) const COUNTY_CODE: &str = "520526000000";

/// Parses a code this module built from digits under the county's valid prefix.
pub(crate) fn code(s: &str) -> DivisionCode {
    s.parse()
        .unwrap_or_else(|e| unreachable!("the generator built an invalid code {s}: {e}"))
}

/// Builds the mesh, the county, its water bodies and its administrative tree down to villager
/// groups (households and grids come later).
pub(crate) fn build(seed: u64, rng: &mut impl Rng) -> World {
    let outline = Outline {
        r0: rng.gen_range(22_500.0..24_500.0),
        rim: crate::noise::Field::new(crate::noise::mix(seed ^ 0x0072_696d), 7_000.0),
        harmonics: (0..5)
            .map(|k| {
                (
                    rng.gen_range(0.025..0.075) / (1.0 + 0.5 * f64::from(k)),
                    rng.gen_range(0.0..std::f64::consts::TAU),
                )
            })
            .collect(),
    };
    let half = outline.r0 * 1.3 + 3_000.0;
    let mesh = Mesh::new(half, ATOM_RADIUS, crate::noise::mix(seed ^ 0x6d65_7368));
    let in_county = county_atoms(&mesh, &outline);
    let county_atoms: Vec<usize> = (0..mesh.len()).filter(|&a| in_county[a]).collect();
    let water: Water = water::plan(&outline, rng);
    let mut wet = vec![false; mesh.len()];
    for area in &water.areas {
        water::mark_wet(&mesh, area, &mut wet);
    }
    let n = mesh.len();
    let mut world = World {
        seed,
        mesh,
        outline,
        county_atoms,
        in_county,
        wet,
        water,
        township_of: vec![NONE; n],
        village_of: vec![NONE; n],
        group_of: vec![NONE; n],
        grid_of: vec![NONE; n],
        patch_of: vec![NONE; n],
        land: vec![None; n],
        townships: Vec::new(),
        villages: Vec::new(),
        groups: Vec::new(),
        households: Vec::new(),
        grids: Vec::new(),
        patches: Vec::new(),
    };
    townships(&mut world, rng);
    villages(&mut world, rng);
    groups(&mut world, rng);
    world
}

/// The atoms inside the outline: the connected piece around the town, with holes filled.
fn county_atoms(mesh: &Mesh, outline: &Outline) -> Vec<bool> {
    let raw: Vec<bool> = (0..mesh.len())
        .map(|a| {
            let c = mesh.centre(a);
            c.x.hypot(c.y) < outline.radius_towards(c)
        })
        .collect();
    let start = mesh
        .locate(Coord { x: 0.0, y: 0.0 })
        .unwrap_or(mesh.len() / 2);
    let flood = |member: &dyn Fn(usize) -> bool, from: &[usize]| {
        let mut seen = vec![false; mesh.len()];
        let mut queue: VecDeque<usize> = from.iter().copied().filter(|&a| member(a)).collect();
        for &a in &queue {
            seen[a] = true;
        }
        while let Some(a) = queue.pop_front() {
            for nb in mesh.neighbours(a) {
                if !seen[nb] && member(nb) {
                    seen[nb] = true;
                    queue.push_back(nb);
                }
            }
        }
        seen
    };
    let main = flood(&|a| raw[a], &[start]);
    let border: Vec<usize> = (0..mesh.len())
        .filter(|&a| {
            let (c, r) = (a % mesh.cols, a / mesh.cols);
            c == 0 || r == 0 || c + 1 == mesh.cols || r + 1 == mesh.rows
        })
        .collect();
    let outside = flood(&|a| !main[a], &border);
    (0..mesh.len()).map(|a| !outside[a]).collect()
}

/// Picks `count` atoms among `candidates` by best-candidate sampling: each new one the farthest
/// (in `score`) from those already chosen, out of a handful of random tries.
fn spread(
    candidates: &[usize],
    chosen: &mut Vec<usize>,
    count: usize,
    score: impl Fn(usize, &[usize]) -> f64,
    rng: &mut impl Rng,
) {
    if candidates.is_empty() {
        return;
    }
    for _ in 0..count {
        let mut best: Option<(f64, usize)> = None;
        for _ in 0..30 {
            let a = candidates[rng.gen_range(0..candidates.len())];
            if chosen.contains(&a) {
                continue;
            }
            let s = score(a, chosen);
            if best.is_none_or(|(bs, _)| s > bs) {
                best = Some((s, a));
            }
        }
        if let Some((_, a)) = best {
            chosen.push(a);
        }
    }
}

fn nearest_distance(mesh: &Mesh, a: usize, others: &[usize]) -> f64 {
    let p = mesh.centre(a);
    others
        .iter()
        .map(|&o| dist(mesh.centre(o), p))
        .fold(f64::INFINITY, f64::min)
}

fn townships(world: &mut World, rng: &mut impl Rng) {
    let mesh = &world.mesh;
    let town = mesh
        .locate(Coord { x: 0.0, y: 0.0 })
        .filter(|&a| world.dry(a))
        .unwrap_or(world.county_atoms[0]);
    let dry: Vec<usize> = world
        .county_atoms
        .iter()
        .copied()
        .filter(|&a| world.dry(a))
        .collect();
    let outline = &world.outline;
    let mut chosen = vec![town];
    spread(
        &dry,
        &mut chosen,
        TOWNSHIPS - 1,
        |a, chosen| {
            let c = mesh.centre(a);
            let edge = outline.radius_towards(c) - c.x.hypot(c.y);
            let d = nearest_distance(mesh, a, chosen);
            if edge < 5_000.0 {
                d * 0.4
            } else {
                d
            }
        },
        rng,
    );
    let mut seeds: Vec<Seed> = chosen
        .iter()
        .map(|&atom| Seed { atom, weight: 1.0 })
        .collect();
    let in_county = &world.in_county;
    let wet = &world.wet;
    let warp = Warp::new(world.seed ^ 1, 9_000.0, 3_500.0);
    let mut grower = Grower::new(mesh, &warp, |a| in_county[a]);
    for round in 0..4 {
        grower.grow(mesh, |a| in_county[a], &seeds, &mut world.township_of, 0);
        if round < 3 {
            let regions = members(&world.township_of, &world.county_atoms, 0, seeds.len());
            relax(mesh, &regions, &mut seeds, &[0], |a| !wet[a]);
        }
    }
    let regions = members(&world.township_of, &world.county_atoms, 0, seeds.len());
    let names = names::townships(rng, seeds.len());
    world.townships = seeds
        .iter()
        .zip(regions)
        .zip(names)
        .enumerate()
        .map(|(i, ((s, atoms), name))| Township {
            code: code(&format!("520526{}000", 101 + i)),
            name: format!("{name}镇"),
            seat: s.atom,
            villages: Vec::new(),
            atoms,
        })
        .collect();
}

fn villages(world: &mut World, rng: &mut impl Rng) {
    let mut namer = Namer::excluding(
        world
            .townships
            .iter()
            .map(|t| t.name.trim_end_matches('镇')),
    );
    let mean_area = world.county_atoms.len() as f64 / world.townships.len() as f64;
    let warp = Warp::new(world.seed ^ 2, 2_500.0, 900.0);
    let mut grower = Grower::new(&world.mesh, &warp, |a| world.in_county[a]);
    for t in 0..world.townships.len() {
        let township = &world.townships[t];
        let mesh = &world.mesh;
        let seat = township.seat;
        let is_town = t == 0;
        let dry: Vec<usize> = township
            .atoms
            .iter()
            .copied()
            .filter(|&a| world.dry(a))
            .collect();
        // Communities: the seat, and in the county town a ring of three or four more.
        let mut chosen = vec![seat];
        if is_town {
            let extra = rng.gen_range(3..=4);
            let turn = rng.gen_range(0.0..std::f64::consts::TAU);
            for k in 0..extra {
                let theta = turn + f64::from(k) * std::f64::consts::TAU / f64::from(extra);
                let r = rng.gen_range(1_300.0..1_900.0);
                let c = mesh.centre(seat);
                let p = Coord {
                    x: c.x + r * theta.cos(),
                    y: c.y + r * theta.sin(),
                };
                if let Some(a) = dry
                    .iter()
                    .copied()
                    .min_by(|&a, &b| dist(mesh.centre(a), p).total_cmp(&dist(mesh.centre(b), p)))
                {
                    if !chosen.contains(&a) {
                        chosen.push(a);
                    }
                }
            }
        }
        let communities = chosen.len();
        let share = township.atoms.len() as f64 / mean_area;
        let rural = ((share * 8.5).round() as usize).clamp(6, 11) - if is_town { 2 } else { 0 };
        spread(
            &dry,
            &mut chosen,
            rural,
            |a, chosen| {
                let d_seat = dist(mesh.centre(a), mesh.centre(seat));
                let d = nearest_distance(mesh, a, chosen);
                if d_seat < 2_500.0 {
                    d * 0.3
                } else {
                    d
                }
            },
            rng,
        );
        let mut seeds: Vec<Seed> = chosen
            .iter()
            .enumerate()
            .map(|(i, &atom)| Seed {
                atom,
                weight: if i < communities { 0.45 } else { 1.0 },
            })
            .collect();
        let fixed: Vec<usize> = (0..communities).collect();
        let base = world.villages.len() as u32;
        let township_of = &world.township_of;
        let wet = &world.wet;
        for round in 0..3 {
            grower.grow(
                mesh,
                |a| township_of[a] == t as u32,
                &seeds,
                &mut world.village_of,
                base,
            );
            if round < 2 {
                let regions = members(&world.village_of, &township.atoms, base, seeds.len());
                relax(mesh, &regions, &mut seeds, &fixed, |a| !wet[a]);
            }
        }
        let regions = members(&world.village_of, &township.atoms, base, seeds.len());
        // Codes: communities 001…, villages 201… by distance from the seat.
        let seat_xy = mesh.centre(seat);
        let mut order: Vec<usize> = (communities..seeds.len()).collect();
        order.sort_by(|&a, &b| {
            dist(mesh.centre(seeds[a].atom), seat_xy)
                .total_cmp(&dist(mesh.centre(seeds[b].atom), seat_xy))
        });
        let order: Vec<usize> = (0..communities).chain(order).collect();
        let mut relabel = vec![0u32; seeds.len()];
        let prefix = &township.code.as_str()[..9];
        let mut new_villages = Vec::new();
        for (rank, &i) in order.iter().enumerate() {
            relabel[i] = base + rank as u32;
            let community = i < communities;
            let (number, name) = if community {
                let stem = if is_town {
                    namer.town_community(rng)
                } else if i == 0 {
                    // A township's seat community takes the township's name: 炉山社区.
                    township.name.trim_end_matches('镇').to_owned()
                } else {
                    namer.village(rng)
                };
                (1 + rank, format!("{stem}社区"))
            } else {
                (
                    201 + rank - communities,
                    format!("{}村", namer.village(rng)),
                )
            };
            new_villages.push(Village {
                code: code(&format!("{prefix}{number:03}")),
                name,
                community,
                town: community && is_town,
                township: t,
                centre: seeds[i].atom,
                groups: Vec::new(),
                atoms: regions[i].clone(),
                planned: 0,
                households: Vec::new(),
                grids: Vec::new(),
            });
        }
        for &a in &township.atoms {
            let l = world.village_of[a];
            if l != NONE {
                world.village_of[a] = relabel[(l - base) as usize];
            }
        }
        let ids: Vec<usize> = (0..new_villages.len()).map(|k| base as usize + k).collect();
        world.villages.extend(new_villages);
        world.townships[t].villages = ids;
    }
}

fn groups(world: &mut World, rng: &mut impl Rng) {
    let warp = Warp::new(world.seed ^ 3, 1_000.0, 350.0);
    let mut grower = Grower::new(&world.mesh, &warp, |a| world.in_county[a]);
    for v in 0..world.villages.len() {
        let village = &world.villages[v];
        let mesh = &world.mesh;
        let count = if village.town {
            rng.gen_range(8..=10)
        } else if village.community {
            rng.gen_range(6..=9)
        } else {
            rng.gen_range(4..=8)
        };
        let dry: Vec<usize> = village
            .atoms
            .iter()
            .copied()
            .filter(|&a| world.dry(a))
            .collect();
        let mut chosen = vec![village.centre];
        spread(
            &dry,
            &mut chosen,
            count - 1,
            |a, chosen| nearest_distance(mesh, a, chosen),
            rng,
        );
        let mut seeds: Vec<Seed> = chosen
            .iter()
            .map(|&atom| Seed { atom, weight: 1.0 })
            .collect();
        let base = world.groups.len() as u32;
        let village_of = &world.village_of;
        let wet = &world.wet;
        for round in 0..3 {
            grower.grow(
                mesh,
                |a| village_of[a] == v as u32,
                &seeds,
                &mut world.group_of,
                base,
            );
            if round < 2 {
                let regions = members(&world.group_of, &village.atoms, base, seeds.len());
                relax(mesh, &regions, &mut seeds, &[0], |a| !wet[a]);
            }
        }
        let regions = members(&world.group_of, &village.atoms, base, seeds.len());
        // Number the groups from the centre (group 1), then round the centre.
        let c = mesh.centre(village.centre);
        let mut order: Vec<usize> = (1..seeds.len()).collect();
        let bearing = |i: usize| {
            let p = mesh.centre(seeds[i].atom);
            let b = (p.x - c.x).atan2(p.y - c.y);
            if b < 0.0 {
                b + std::f64::consts::TAU
            } else {
                b
            }
        };
        order.sort_by(|&a, &b| bearing(a).total_cmp(&bearing(b)));
        let order: Vec<usize> = std::iter::once(0).chain(order).collect();
        let mut relabel = vec![0u32; seeds.len()];
        let mut hamlets = Namer::default();
        let mut new_groups = Vec::new();
        for (rank, &i) in order.iter().enumerate() {
            relabel[i] = base + rank as u32;
            new_groups.push(Group {
                code: GroupCode::new(village.code, rank as u16 + 1),
                hamlet_name: hamlets.hamlet(rng),
                village: v,
                hamlet: seeds[i].atom,
                atoms: regions[i].clone(),
            });
        }
        for &a in &village.atoms {
            let l = world.group_of[a];
            if l != NONE {
                world.group_of[a] = relabel[(l - base) as usize];
            }
        }
        let ids: Vec<usize> = (0..new_groups.len()).map(|k| base as usize + k).collect();
        world.groups.extend(new_groups);
        world.villages[v].groups = ids;
    }
}
