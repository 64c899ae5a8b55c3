//! The initial grid plan: each village split into grids of about 300–500 households (one grid
//! when it has fewer than 300), each grid a connected set of atoms.

use gridgov_model::GridCode;

use crate::partition::{members, peel};
use crate::world::{Grid, World};

/// How many grids a village of `n` households gets: as few as keep each at most 500, or one
/// fewer when that keeps them nearer 300–500.
pub(crate) fn grid_count(n: usize) -> usize {
    if n < 300 {
        return 1;
    }
    let k = n.div_ceil(500);
    if k > 1 && n / k < 300 && n / (k - 1) <= 560 {
        k - 1
    } else {
        k
    }
}

/// Draws the grids of every village and assigns households to them.
pub(crate) fn draw(world: &mut World) {
    let mut weight = vec![0u32; world.mesh.len()];
    for h in &world.households {
        weight[h.atom] += 1;
    }
    for v in 0..world.villages.len() {
        let village = &world.villages[v];
        let k = grid_count(village.households.len());
        let base = world.grids.len() as u32;
        peel(
            &world.mesh,
            &village.atoms,
            &weight,
            k,
            &mut world.grid_of,
            base,
        );
        let parts = members(&world.grid_of, &village.atoms, base, k);
        let mut ids = Vec::new();
        for (i, atoms) in parts.into_iter().enumerate() {
            ids.push(world.grids.len());
            world.grids.push(Grid {
                code: GridCode::new(village.code, i as u16 + 1),
                village: v,
                atoms,
                households: 0,
            });
        }
        world.villages[v].grids = ids;
    }
    for h in &mut world.households {
        h.grid = world.grid_of[h.atom] as usize;
        world.grids[h.grid].households += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::grid_count;

    #[test]
    fn grids_hold_about_300_to_500_households() {
        assert_eq!(grid_count(120), 1);
        assert_eq!(grid_count(480), 1);
        assert_eq!(grid_count(520), 1);
        for n in [600, 900, 1_250, 1_800, 2_400] {
            let k = grid_count(n);
            assert!((300..=500).contains(&(n / k)), "{n} in {k}");
        }
    }
}
