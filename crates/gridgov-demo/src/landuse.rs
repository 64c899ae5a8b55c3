//! Land use: built-up land around the houses, forest and grassland on the hills (two smooth
//! random fields), farmland elsewhere; cut into connected patches that never cross a village
//! boundary and never overlap.

use gridgov_model::vocab::LandUseKind;

use crate::mesh::NONE;
use crate::noise::{mix, Field};
use crate::partition::components;
use crate::world::{Patch, World};

/// Labels of atoms in a village but in no patch start here (one label per village).
pub(crate) const GAP: u32 = 1 << 31;
/// Patches smaller than this (in atoms) are left as gaps.
const MIN_PATCH: usize = 3;

/// Classifies every atom and cuts the patches.
pub(crate) fn classify(world: &mut World) {
    let mesh = &world.mesh;
    let mut houses = vec![0u32; mesh.len()];
    for h in &world.households {
        houses[h.atom] += 1;
    }
    let mut hamlet = vec![false; mesh.len()];
    for g in &world.groups {
        hamlet[g.hamlet] = true;
    }
    let forest = Field::new(mix(world.seed ^ 0x666f_7265), 4_000.0);
    let grass = Field::new(mix(world.seed ^ 0x6772_6173), 3_000.0);
    let mut land: Vec<Option<LandUseKind>> = vec![None; mesh.len()];
    for &a in &world.county_atoms {
        if world.wet[a] {
            continue;
        }
        let community = world.villages[world.village_of[a] as usize].community;
        let built = hamlet[a] || houses[a] >= 3 || (community && houses[a] >= 1);
        let c = mesh.centre(a);
        land[a] = Some(if built {
            LandUseKind::BuiltUp
        } else if forest.at(c) > 0.1 {
            LandUseKind::Forest
        } else if grass.at(c) > 0.15 {
            LandUseKind::Grassland
        } else if forest.at(c) < -0.55 && grass.at(c) < -0.35 {
            LandUseKind::Orchard
        } else {
            LandUseKind::Farmland
        });
    }
    // One majority pass over the open land to smooth single-atom speckles.
    let smoothed: Vec<Option<LandUseKind>> = (0..mesh.len())
        .map(|a| match land[a] {
            Some(LandUseKind::BuiltUp) | None => land[a],
            Some(kind) => {
                let mut counts: Vec<(LandUseKind, usize)> = Vec::new();
                for n in mesh.neighbours(a) {
                    if world.village_of[n] != world.village_of[a] {
                        continue;
                    }
                    if let Some(k) = land[n].filter(|k| *k != LandUseKind::BuiltUp) {
                        match counts.iter_mut().find(|(c, _)| *c == k) {
                            Some(entry) => entry.1 += 1,
                            None => counts.push((k, 1)),
                        }
                    }
                }
                counts
                    .into_iter()
                    .filter(|(_, n)| *n >= 4)
                    .map(|(k, _)| k)
                    .next()
                    .or(Some(kind))
            }
        })
        .collect();
    world.land = smoothed;
    absorb_specks(world);
    let mesh = &world.mesh;
    let mut member = vec![false; mesh.len()];
    for v in 0..world.villages.len() {
        let atoms = &world.villages[v].atoms;
        for &a in atoms {
            world.patch_of[a] = GAP + v as u32;
        }
        for kind in LandUseKind::ALL {
            for &a in atoms {
                member[a] = world.land[a] == Some(*kind);
            }
            for patch in components(mesh, atoms, &member) {
                if patch.len() < MIN_PATCH {
                    continue;
                }
                let id = world.patches.len() as u32;
                for &a in &patch {
                    world.patch_of[a] = id;
                }
                world.patches.push(Patch {
                    kind: *kind,
                    village: v,
                    atoms: patch,
                });
            }
            for &a in atoms {
                member[a] = false;
            }
        }
    }
    debug_assert!(world
        .patch_of
        .iter()
        .all(|&l| l == NONE || l < GAP + 10_000));
}

/// Gives the atoms of patches too small to keep the land use of their neighbours (within the
/// village), so that land use leaves few gaps.
fn absorb_specks(world: &mut World) {
    let mesh = &world.mesh;
    let mut member = vec![false; mesh.len()];
    for _ in 0..3 {
        let mut changed = false;
        for v in 0..world.villages.len() {
            let atoms = &world.villages[v].atoms;
            for kind in LandUseKind::ALL {
                for &a in atoms {
                    member[a] = world.land[a] == Some(*kind);
                }
                for speck in components(mesh, atoms, &member) {
                    if speck.len() >= MIN_PATCH {
                        continue;
                    }
                    let mut around: Vec<(LandUseKind, usize)> = Vec::new();
                    for &a in &speck {
                        for n in mesh.neighbours(a) {
                            if world.village_of[n] != v as u32 {
                                continue;
                            }
                            if let Some(k) = world.land[n].filter(|k| k != kind) {
                                match around.iter_mut().find(|(c, _)| *c == k) {
                                    Some(e) => e.1 += 1,
                                    None => around.push((k, 1)),
                                }
                            }
                        }
                    }
                    if let Some((k, _)) = around
                        .iter()
                        .max_by_key(|(k, n)| (*n, std::cmp::Reverse(*k)))
                    {
                        for &a in &speck {
                            world.land[a] = Some(*k);
                        }
                        changed = true;
                    }
                }
                for &a in atoms {
                    member[a] = false;
                }
            }
        }
        if !changed {
            break;
        }
    }
}
