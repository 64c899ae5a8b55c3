//! Polygons from sets of atoms, with their boundaries straightened.
//!
//! A raw union of hexagons has a zig-zag boundary. Before any polygon is built, every other
//! vertex along the boundaries is dropped, chosen once for the whole mesh so that neighbouring
//! polygons drop the same vertices and keep sharing their edges exactly. A vertex may go only
//! where, in every partition, the three atoms around it carry at most two labels (it is no
//! junction), and never next to another dropped vertex. Dropping vertex `v` between `u` and `w`
//! replaces the path `u-v-w` by the chord `u-w`, which cuts a small triangle off the one atom
//! whose label differs from the other two; in a nested partition (villages in townships, grids
//! in villages) that is the same atom at every level, so children still tile their parents.
//!
//! Points placed inside an atom must avoid those cut corners: [`Shapes::settle`] moves them.

use geo::{Coord, LineString, Polygon};

use crate::frame::{dist, in_ring, orient, ring_area, to_lonlat};
use crate::mesh::Mesh;

/// A ring of local points, not closed.
type Ring = Vec<Coord<f64>>;

/// The mesh's boundary simplification and the polygons built with it.
#[derive(Debug)]
pub(crate) struct Shapes<'m> {
    mesh: &'m Mesh,
    removed: Vec<bool>,
}

impl<'m> Shapes<'m> {
    /// Chooses the vertices to drop, given every partition that will be turned into polygons
    /// (one label per atom; atoms outside the county share one label).
    pub(crate) fn new(mesh: &'m Mesh, partitions: &[&[u32]]) -> Self {
        let nv = mesh.vertex_count();
        let mut around = vec![[0u32; 3]; nv];
        let mut count = vec![0u8; nv];
        for a in 0..mesh.len() {
            for v in mesh.ring(a) {
                let v = v as usize;
                if count[v] < 3 {
                    around[v][count[v] as usize] = a as u32;
                    count[v] += 1;
                }
            }
        }
        let mut removed = vec![false; nv];
        for v in 0..nv {
            if count[v] != 3 {
                continue;
            }
            let atoms = around[v].map(|a| a as usize);
            let (mut boundary, mut junction) = (false, false);
            for p in partitions {
                let (l0, l1, l2) = (p[atoms[0]], p[atoms[1]], p[atoms[2]]);
                let distinct = 1 + usize::from(l1 != l0) + usize::from(l2 != l0 && l2 != l1);
                boundary |= distinct >= 2;
                junction |= distinct == 3;
            }
            if !boundary || junction {
                continue;
            }
            let blocked = atoms.iter().any(|&a| {
                let ring = mesh.ring(a);
                ring.iter().position(|&x| x as usize == v).is_some_and(|i| {
                    removed[ring[(i + 5) % 6] as usize] || removed[ring[(i + 1) % 6] as usize]
                })
            });
            removed[v] = !blocked;
        }
        Self { mesh, removed }
    }

    /// Whether `p`, a point in atom `a`, lies in (or within a metre of) a corner of `a` that
    /// the simplification cuts off.
    pub(crate) fn in_cut_corner(&self, a: usize, p: Coord<f64>) -> bool {
        let ring = self.mesh.ring(a);
        let corners = self.mesh.corners(a);
        (0..6).any(|i| {
            if !self.removed[ring[i] as usize] {
                return false;
            }
            // The chord replacing the corner; the atom's centre lies to its left.
            let (before, after) = (corners[(i + 5) % 6], corners[(i + 1) % 6]);
            orient(before, after, p) < 1.0 * dist(before, after)
        })
    }

    /// `p` (a point in atom `a`) itself, or, if it lies in a cut corner, moved towards the
    /// atom's centre into the part every polygon built from `a` keeps.
    pub(crate) fn settle(&self, a: usize, p: Coord<f64>) -> Coord<f64> {
        if !self.in_cut_corner(a, p) {
            return p;
        }
        let c = self.mesh.centre(a);
        let d = dist(c, p);
        let keep = 0.25 * self.mesh.r;
        if d <= keep {
            return c;
        }
        Coord {
            x: c.x + (p.x - c.x) * keep / d,
            y: c.y + (p.y - c.y) * keep / d,
        }
    }

    /// The polygons (longitude-latitude) covering `atoms`, where `same(n)` says whether a
    /// neighbouring atom belongs to the same set. A connected set gives one polygon; holes
    /// become interior rings.
    pub(crate) fn polygons(
        &self,
        atoms: &[usize],
        same: impl Fn(usize) -> bool,
    ) -> Vec<Polygon<f64>> {
        let mesh = self.mesh;
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for &a in atoms {
            let ring = mesh.ring(a);
            for d in 0..6 {
                if !mesh.neighbour(a, d).is_some_and(&same) {
                    edges.push((ring[d], ring[(d + 1) % 6]));
                }
            }
        }
        edges.sort_unstable();
        let mut used = vec![false; edges.len()];
        let mut rings: Vec<Vec<Coord<f64>>> = Vec::new();
        for start in 0..edges.len() {
            if used[start] {
                continue;
            }
            let mut ids = Vec::new();
            let mut i = start;
            loop {
                used[i] = true;
                ids.push(edges[i].0);
                let to = edges[i].1;
                match edges.binary_search_by(|e| e.0.cmp(&to)) {
                    Ok(j) if !used[j] => i = j,
                    _ => break,
                }
            }
            let ring: Vec<Coord<f64>> = ids
                .into_iter()
                .filter(|&v| !self.removed[v as usize])
                .map(|v| mesh.vertex(v))
                .collect();
            if ring.len() >= 3 {
                rings.push(ring);
            }
        }
        let (shells, holes): (Vec<_>, Vec<_>) = rings.into_iter().partition(|r| ring_area(r) > 0.0);
        let mut polygons: Vec<(Ring, Vec<Ring>)> =
            shells.into_iter().map(|s| (s, Vec::new())).collect();
        for hole in holes {
            if let Some(p) = polygons.iter_mut().find(|(s, _)| in_ring(s, hole[0])) {
                p.1.push(hole);
            }
        }
        let close = |r: Vec<Coord<f64>>| -> LineString<f64> {
            let mut c: Vec<Coord<f64>> = r.into_iter().map(to_lonlat).collect();
            c.push(c[0]);
            LineString(c)
        };
        polygons.sort_by(|a, b| ring_area(&b.0).total_cmp(&ring_area(&a.0)));
        polygons
            .into_iter()
            .map(|(s, hs)| Polygon::new(close(s), hs.into_iter().map(close).collect()))
            .collect()
    }
}
