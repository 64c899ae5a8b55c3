//! The atom mesh: a jittered hexagonal tiling of the demo area.
//!
//! Every polygon of the demo (county, townships, villages, villager groups, grids, land use) is
//! a union of these small cells ("atoms", about 120 m across the corners). Building all of them
//! from one mesh is what makes children tile their parents exactly: neighbouring polygons share
//! the very same vertices. Three atoms meet at every vertex, so the boundary of any set of atoms
//! is a set of simple rings that never touch themselves, which keeps the polygons OGC-valid.
//!
//! Atoms are numbered row by row (`row * cols + col`), rows offset by half an atom on odd rows
//! ("pointy-top" hexagons). Vertices live on an integer lattice in units of `√3/2·r` across and
//! `r/2` up, and are jittered by a hash of their lattice position, so the jitter is the same
//! whichever atom asks.

use geo::Coord;
use rand::Rng;

use crate::frame::{dist, orient};
use crate::noise::{hash3, unit};

/// The label of atoms that belong to nothing (outside the county).
pub(crate) const NONE: u32 = u32::MAX;

/// How far a vertex may move, as a share of the atom radius. Below 0.25 every atom stays
/// star-shaped around its centre; at 0.2 every corner also stays convex.
const JITTER: f64 = 0.2;

/// Lattice offsets of an atom's six corners from its centre, counter-clockwise from 30°.
const CORNERS: [(i64, i64); 6] = [(1, 1), (0, 2), (-1, 1), (-1, -1), (0, -2), (1, -1)];

/// The jittered hexagonal mesh.
#[derive(Debug, Clone)]
pub(crate) struct Mesh {
    /// Corner radius of an atom in metres.
    pub(crate) r: f64,
    /// Atoms per row.
    pub(crate) cols: usize,
    /// Rows of atoms.
    pub(crate) rows: usize,
    /// Centre of atom (0, 0).
    origin: Coord<f64>,
    seed: u64,
    /// Width of the vertex lattice.
    vw: usize,
}

impl Mesh {
    /// A mesh covering the square `[-half, half]²` with atoms of corner radius `r`.
    pub(crate) fn new(half: f64, r: f64, seed: u64) -> Self {
        let cols = (2.0 * half / (3f64.sqrt() * r)).ceil() as usize + 2;
        let rows = (2.0 * half / (1.5 * r)).ceil() as usize + 2;
        Self {
            r,
            cols,
            rows,
            origin: Coord { x: -half, y: -half },
            seed,
            vw: 2 * cols + 2,
        }
    }

    /// Number of atoms.
    pub(crate) fn len(&self) -> usize {
        self.cols * self.rows
    }

    /// Number of vertex ids (some unused).
    pub(crate) fn vertex_count(&self) -> usize {
        self.vw * (3 * self.rows + 2)
    }

    fn lattice(&self, ux: i64, uy: i64) -> Coord<f64> {
        Coord {
            x: self.origin.x + ux as f64 * 3f64.sqrt() / 2.0 * self.r,
            y: self.origin.y + uy as f64 * self.r / 2.0,
        }
    }

    fn unit_centre(&self, a: usize) -> (i64, i64) {
        let (col, row) = ((a % self.cols) as i64, (a / self.cols) as i64);
        (2 * col + (row & 1), 3 * row)
    }

    /// The centre of an atom (not jittered; always strictly inside it).
    pub(crate) fn centre(&self, a: usize) -> Coord<f64> {
        let (ux, uy) = self.unit_centre(a);
        self.lattice(ux, uy)
    }

    /// The position of a vertex.
    pub(crate) fn vertex(&self, id: u32) -> Coord<f64> {
        let id = id as usize;
        let ux = (id % self.vw) as i64 - 1;
        let uy = (id / self.vw) as i64 - 2;
        let h = hash3(self.seed, ux, uy);
        let angle = unit(h) * std::f64::consts::TAU;
        let radius = unit(h.rotate_left(29)).sqrt() * JITTER * self.r;
        let base = self.lattice(ux, uy);
        Coord {
            x: base.x + radius * angle.cos(),
            y: base.y + radius * angle.sin(),
        }
    }

    /// The ids of an atom's six corners, counter-clockwise.
    pub(crate) fn ring(&self, a: usize) -> [u32; 6] {
        let (ux, uy) = self.unit_centre(a);
        CORNERS.map(|(dx, dy)| ((uy + dy + 2) as usize * self.vw + (ux + dx + 1) as usize) as u32)
    }

    /// The corner positions of an atom, counter-clockwise.
    pub(crate) fn corners(&self, a: usize) -> [Coord<f64>; 6] {
        self.ring(a).map(|v| self.vertex(v))
    }

    /// The atom across edge `dir` (edge `dir` runs from corner `dir` to corner `dir + 1`).
    pub(crate) fn neighbour(&self, a: usize, dir: usize) -> Option<usize> {
        let (col, row) = ((a % self.cols) as i64, (a / self.cols) as i64);
        let odd = row & 1;
        let (c, r) = match dir {
            0 => (col + odd, row + 1),
            1 => (col - 1 + odd, row + 1),
            2 => (col - 1, row),
            3 => (col - 1 + odd, row - 1),
            4 => (col + odd, row - 1),
            _ => (col + 1, row),
        };
        (c >= 0 && r >= 0 && (c as usize) < self.cols && (r as usize) < self.rows)
            .then(|| r as usize * self.cols + c as usize)
    }

    /// The (up to six) neighbours of an atom, in edge order.
    pub(crate) fn neighbours(&self, a: usize) -> impl Iterator<Item = usize> + '_ {
        (0..6).filter_map(move |d| self.neighbour(a, d))
    }

    /// Sector coordinates of `p` in the fan triangle `k` (centre, corner k, corner k+1).
    fn sector(c: Coord<f64>, u: Coord<f64>, v: Coord<f64>, p: Coord<f64>) -> (f64, f64) {
        let det = orient(c, u, v);
        let alpha = orient(c, p, v) / det;
        let beta = orient(c, u, p) / det;
        (alpha, beta)
    }

    /// Whether the atom contains `p` (boundary included).
    pub(crate) fn contains(&self, a: usize, p: Coord<f64>) -> bool {
        let c = self.centre(a);
        let k = self.corners(a);
        (0..6).any(|i| {
            let (al, be) = Self::sector(c, k[i], k[(i + 1) % 6], p);
            al >= 0.0 && be >= 0.0 && al + be <= 1.0
        })
    }

    /// The atom containing `p`, if the mesh covers it.
    pub(crate) fn locate(&self, p: Coord<f64>) -> Option<usize> {
        // The regular hexagon containing `p` (cube rounding in axial coordinates); the jittered
        // atom containing it is that one or one of its neighbours.
        let (ux, uy) = (
            (p.x - self.origin.x) / self.r,
            (p.y - self.origin.y) / self.r,
        );
        let axial_q = 3f64.sqrt() / 3.0 * ux - uy / 3.0;
        let axial_r = 2.0 / 3.0 * uy;
        let cube_s = -axial_q - axial_r;
        let (mut rq, mut rr, rs) = (axial_q.round(), axial_r.round(), cube_s.round());
        let (dq, dr, ds) = (
            (rq - axial_q).abs(),
            (rr - axial_r).abs(),
            (rs - cube_s).abs(),
        );
        if dq > dr && dq > ds {
            rq = -rr - rs;
        } else if dr > ds {
            rr = -rq - rs;
        }
        let (rq, rr) = (rq as i64, rr as i64);
        let (col, row) = (rq + (rr - (rr & 1)) / 2, rr);
        if col < 0 || row < 0 || col as usize >= self.cols || row as usize >= self.rows {
            return None;
        }
        let hex = row as usize * self.cols + col as usize;
        if self.contains(hex, p) {
            return Some(hex);
        }
        let mut around: Vec<(f64, usize)> = self
            .neighbours(hex)
            .map(|a| (dist(self.centre(a), p), a))
            .collect();
        around.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        around
            .into_iter()
            .map(|(_, a)| a)
            .find(|&a| self.contains(a, p))
    }

    /// Moves `p` towards the centre of atom `a` until it lies inside the atom, at most `keep`
    /// (below 1) of the way from the centre to the atom's edge.
    pub(crate) fn clamp(&self, a: usize, p: Coord<f64>, keep: f64) -> Coord<f64> {
        let centre = self.centre(a);
        if p == centre {
            return centre;
        }
        let corners = self.corners(a);
        for i in 0..6 {
            let (from, to) = (corners[i], corners[(i + 1) % 6]);
            let (mut alpha, mut beta) = Self::sector(centre, from, to, p);
            if alpha >= 0.0 && beta >= 0.0 {
                let sum = alpha + beta;
                if sum > keep {
                    alpha *= keep / sum;
                    beta *= keep / sum;
                }
                return Coord {
                    x: centre.x + alpha * (from.x - centre.x) + beta * (to.x - centre.x),
                    y: centre.y + alpha * (from.y - centre.y) + beta * (to.y - centre.y),
                };
            }
        }
        centre
    }

    /// A random point inside atom `a`, at most `keep` of the way from its centre to its edge.
    pub(crate) fn sample(&self, a: usize, keep: f64, rng: &mut impl Rng) -> Coord<f64> {
        let centre = self.centre(a);
        let corners = self.corners(a);
        let areas: Vec<f64> = (0..6)
            .map(|i| orient(centre, corners[i], corners[(i + 1) % 6]))
            .collect();
        let i = crate::random::pick_weighted(rng, &areas);
        let (mut alpha, mut beta): (f64, f64) = (rng.gen(), rng.gen());
        if alpha + beta > 1.0 {
            (alpha, beta) = (1.0 - alpha, 1.0 - beta);
        }
        let (from, to) = (corners[i], corners[(i + 1) % 6]);
        Coord {
            x: centre.x + keep * (alpha * (from.x - centre.x) + beta * (to.x - centre.x)),
            y: centre.y + keep * (alpha * (from.y - centre.y) + beta * (to.y - centre.y)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::stream;

    #[test]
    fn neighbours_share_an_edge_in_opposite_directions() {
        let m = Mesh::new(2_000.0, 120.0, 1);
        for a in [m.cols * 5 + 5, m.cols * 6 + 7] {
            let ra = m.ring(a);
            for d in 0..6 {
                let n = m.neighbour(a, d).unwrap();
                let rn = m.ring(n);
                let back = (d + 3) % 6;
                assert_eq!((ra[d], ra[(d + 1) % 6]), (rn[(back + 1) % 6], rn[back]));
            }
        }
    }

    #[test]
    fn points_are_located_in_the_atom_that_contains_them() {
        let m = Mesh::new(2_000.0, 120.0, 3);
        let mut rng = stream(5, 0);
        for a in [m.cols * 3 + 4, m.cols * 10 + 11, m.cols * 11 + 2] {
            for _ in 0..50 {
                let p = m.sample(a, 0.95, &mut rng);
                assert_eq!(m.locate(p), Some(a));
                let far = Coord {
                    x: p.x + 90.0,
                    y: p.y - 40.0,
                };
                let clamped = m.clamp(a, far, 0.9);
                assert!(m.contains(a, clamped));
            }
        }
    }
}
