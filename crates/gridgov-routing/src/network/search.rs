//! Shortest paths: distance and time matrices between snapped points, and single routes with
//! their geometry.
//!
//! Every search is Dijkstra's algorithm on the compressed graph with a binary heap, started
//! from the one or two ends of the source's edge with the partial weights of the edge, and
//! stopped as soon as every node through which a target can be entered is settled. The buffers
//! are allocated once per matrix and reset by stamping, so a source costs only the nodes it
//! settles.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use geo::Coord;

use super::graph::RoadNetwork;
use super::snap::Snap;
use super::weight::Weight;

/// Distances and times between points, row-major (`i * n + j` is from point `i` to point `j`),
/// asymmetric because of one-way streets.
///
/// Each entry is the quickest route (least time; among equally quick ones the shortest), with
/// its time and its length along that same route, so the two always describe one drivable
/// route. [`Matrix::UNREACHABLE`] marks a pair with no legal route (different components).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// The number of points.
    pub n: usize,
    /// Length of the route in whole metres (rounded half up), or [`Matrix::UNREACHABLE`].
    pub distance_m: Vec<u32>,
    /// Time of the route in whole seconds (rounded half up), or [`Matrix::UNREACHABLE`].
    pub time_s: Vec<u32>,
    /// The exact weights as search keys, `u64::MAX` when unreachable.
    keys: Vec<u64>,
}

impl Matrix {
    /// The value of an entry without a route.
    pub const UNREACHABLE: u32 = u32::MAX;

    /// The length from `i` to `j` in metres, `None` when unreachable.
    pub fn distance(&self, i: usize, j: usize) -> Option<u32> {
        Some(self.distance_m[i * self.n + j]).filter(|&d| d != Matrix::UNREACHABLE)
    }

    /// The time from `i` to `j` in seconds, `None` when unreachable.
    pub fn time(&self, i: usize, j: usize) -> Option<u32> {
        Some(self.time_s[i * self.n + j]).filter(|&d| d != Matrix::UNREACHABLE)
    }

    /// The exact weight (centimetres, milliseconds) from `i` to `j`, `None` when unreachable.
    pub fn weight(&self, i: usize, j: usize) -> Option<Weight> {
        let k = self.keys[i * self.n + j];
        (k != u64::MAX).then(|| Weight::from_key(k))
    }

    /// The number of ordered pairs `(i, j)`, `i ≠ j`, without a route.
    pub fn unreachable_pairs(&self) -> usize {
        (0..self.n)
            .flat_map(|i| (0..self.n).map(move |j| (i, j)))
            .filter(|&(i, j)| i != j && self.keys[i * self.n + j] == u64::MAX)
            .count()
    }
}

/// A route between two snapped points.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Its exact weight, equal to the matrix entry for the same two snaps.
    pub weight: Weight,
    /// Its length in whole metres (rounded half up).
    pub distance_m: u32,
    /// Its time in whole seconds (rounded half up).
    pub time_s: u32,
    /// The route drawn along the roads (longitude/latitude), from the first snapped point to
    /// the second.
    pub coords: Vec<Coord<f64>>,
    /// The edges driven on, in order (the first and last only in part).
    pub edges: Vec<usize>,
}

/// How a node was first reached: from the source leaving its edge at the edge's end or start,
/// or over an arc.
const SEED_AT_END: u32 = u32::MAX - 1;
const SEED_AT_START: u32 = u32::MAX - 2;

/// Reusable Dijkstra buffers.
struct Dijkstra {
    dist: Vec<u64>,
    parent: Vec<u32>,
    seen: Vec<u32>,
    done: Vec<u32>,
    stamp: u32,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Dijkstra {
    fn new(nodes: usize) -> Dijkstra {
        Dijkstra {
            dist: vec![u64::MAX; nodes],
            parent: vec![u32::MAX; nodes],
            seen: vec![0; nodes],
            done: vec![0; nodes],
            stamp: 0,
            heap: BinaryHeap::new(),
        }
    }

    fn get(&self, v: u32) -> Option<u64> {
        (self.seen[v as usize] == self.stamp).then(|| self.dist[v as usize])
    }

    /// Runs from `seeds` (node, initial key, parent marker) until `targets` nodes marked in
    /// `is_target` are settled, or everything reachable is.
    fn run(
        &mut self,
        net: &RoadNetwork,
        seeds: &[(u32, u64, u32)],
        is_target: &[bool],
        targets: usize,
    ) {
        if self.stamp == u32::MAX {
            self.seen.fill(0);
            self.done.fill(0);
            self.stamp = 0;
        }
        self.stamp += 1;
        let stamp = self.stamp;
        self.heap.clear();
        for &(v, key, marker) in seeds {
            let vi = v as usize;
            if self.seen[vi] != stamp || key < self.dist[vi] {
                self.seen[vi] = stamp;
                self.dist[vi] = key;
                self.parent[vi] = marker;
                self.heap.push(Reverse((key, v)));
            }
        }
        let mut remaining = targets;
        while let Some(Reverse((key, v))) = self.heap.pop() {
            let vi = v as usize;
            if self.done[vi] == stamp || key > self.dist[vi] {
                continue;
            }
            self.done[vi] = stamp;
            if is_target[vi] {
                remaining -= 1;
                if remaining == 0 {
                    break;
                }
            }
            for a in net.first_out[vi]..net.first_out[vi + 1] {
                let a = a as usize;
                let w = net.arc_head[a] as usize;
                let nk = key + net.arc_key[a];
                if self.seen[w] != stamp || nk < self.dist[w] {
                    self.seen[w] = stamp;
                    self.dist[w] = nk;
                    self.parent[w] = a as u32;
                    self.heap.push(Reverse((nk, w as u32)));
                }
            }
        }
    }
}

impl RoadNetwork {
    /// Where a search from `s` starts: the ends of its edge it may drive to, with the weight of
    /// getting there.
    fn seeds(&self, s: &Snap) -> ([(u32, u64, u32); 2], usize) {
        let ch = &self.chains[s.edge];
        let total = self.cum[(ch.first_point + ch.segs) as usize];
        let mut out = [(0, 0, 0); 2];
        let mut n = 0;
        if ch.forward {
            out[n] = (ch.end, total.minus(s.pos).key(), SEED_AT_END);
            n += 1;
        }
        if ch.backward {
            out[n] = (ch.start, s.pos.key(), SEED_AT_START);
            n += 1;
        }
        (out, n)
    }

    /// Where a search reaches `t`: the ends of its edge it may be entered from (true: from the
    /// start, driving forward), with the weight from there.
    fn entries(&self, t: &Snap) -> ([(u32, u64, bool); 2], usize) {
        let ch = &self.chains[t.edge];
        let total = self.cum[(ch.first_point + ch.segs) as usize];
        let mut out = [(0, 0, false); 2];
        let mut n = 0;
        if ch.forward {
            out[n] = (ch.start, t.pos.key(), true);
            n += 1;
        }
        if ch.backward {
            out[n] = (ch.end, total.minus(t.pos).key(), false);
            n += 1;
        }
        (out, n)
    }

    /// The weight of driving from `s` to `t` along their shared edge without leaving it, when
    /// they share one and the direction is allowed (true: forward).
    fn direct(&self, s: &Snap, t: &Snap) -> Option<(u64, bool)> {
        if s.edge != t.edge {
            return None;
        }
        let ch = &self.chains[s.edge];
        let ahead = (t.seg, t.edge_fraction) >= (s.seg, s.edge_fraction);
        let behind = (t.seg, t.edge_fraction) <= (s.seg, s.edge_fraction);
        if ch.forward && ahead {
            Some((t.pos.minus(s.pos).key(), true))
        } else if ch.backward && behind {
            Some((s.pos.minus(t.pos).key(), false))
        } else {
            None
        }
    }

    /// The distance and time matrix between snapped points (see [`Matrix`]): one Dijkstra per
    /// source, stopped when all targets are settled.
    pub fn matrix(&self, snaps: &[Snap]) -> Matrix {
        let n = snaps.len();
        let nodes = self.node_coords.len();
        let mut is_target = vec![false; nodes];
        let mut targets = 0;
        for t in snaps {
            let (e, m) = self.entries(t);
            for &(v, _, _) in &e[..m] {
                if !is_target[v as usize] {
                    is_target[v as usize] = true;
                    targets += 1;
                }
            }
        }
        let entries: Vec<_> = snaps.iter().map(|t| self.entries(t)).collect();
        let mut keys = vec![u64::MAX; n * n];
        let mut dj = Dijkstra::new(nodes);
        for (i, s) in snaps.iter().enumerate() {
            let (seeds, m) = self.seeds(s);
            dj.run(self, &seeds[..m], &is_target, targets);
            let row = &mut keys[i * n..(i + 1) * n];
            for (j, t) in snaps.iter().enumerate() {
                let (e, m) = &entries[j];
                let mut best = u64::MAX;
                for &(v, add, _) in &e[..*m] {
                    if let Some(d) = dj.get(v) {
                        best = best.min(d + add);
                    }
                }
                if let Some((d, _)) = self.direct(s, t) {
                    best = best.min(d);
                }
                row[j] = best;
            }
            row[i] = 0;
        }
        let unpack = |f: fn(Weight) -> u32| -> Vec<u32> {
            keys.iter()
                .map(|&k| {
                    if k == u64::MAX {
                        Matrix::UNREACHABLE
                    } else {
                        f(Weight::from_key(k))
                    }
                })
                .collect()
        };
        Matrix {
            n,
            distance_m: unpack(Weight::distance_m),
            time_s: unpack(Weight::time_s),
            keys,
        }
    }

    /// The quickest route from `from` to `to` with its geometry, `None` when there is none.
    /// Its weight equals the matrix entry for the same snaps.
    pub fn path(&self, from: &Snap, to: &Snap) -> Option<Path> {
        let nodes = self.node_coords.len();
        let mut dj = Dijkstra::new(nodes);
        let (seeds, seed_count) = self.seeds(from);
        let (entries, me) = self.entries(to);
        let mut is_target = vec![false; nodes];
        let mut targets = 0;
        for &(node, _, _) in &entries[..me] {
            if !is_target[node as usize] {
                is_target[node as usize] = true;
                targets += 1;
            }
        }
        dj.run(self, &seeds[..seed_count], &is_target, targets);
        // The best way in: (key, entry node and direction) or the shared edge.
        let mut best: Option<(u64, Option<(u32, bool)>)> = None;
        for &(node, add, fwd) in &entries[..me] {
            if let Some(d) = dj.get(node) {
                if best.is_none_or(|b| d + add < b.0) {
                    best = Some((d + add, Some((node, fwd))));
                }
            }
        }
        let direct = self.direct(from, to);
        if let Some((d, _)) = direct {
            if best.is_none_or(|b| d <= b.0) {
                best = Some((d, None));
            }
        }
        let (key, via) = best?;
        let weight = Weight::from_key(key);
        let mut coords = vec![from.snapped];
        let mut edges = vec![from.edge];
        match via {
            None => {
                let forward = direct.is_some_and(|d| d.1);
                let (ks, kt) = (self.seg_in_edge(from), self.seg_in_edge(to));
                if forward {
                    coords.extend((ks + 1..=kt).map(|k| self.point(from.edge, k)));
                } else {
                    coords.extend((kt + 1..=ks).rev().map(|k| self.point(from.edge, k)));
                }
            }
            Some((entry, entered_forward)) => {
                let mut arcs = Vec::new();
                let mut v = entry;
                let marker = loop {
                    let p = dj.parent[v as usize];
                    if p == SEED_AT_END || p == SEED_AT_START {
                        break p;
                    }
                    arcs.push(p);
                    let c = self.arc_chain[p as usize];
                    let ch = &self.chains[(c >> 1) as usize];
                    v = if c & 1 == 1 { ch.end } else { ch.start };
                };
                let ks = self.seg_in_edge(from);
                let segs = self.chains[from.edge].segs as usize;
                if marker == SEED_AT_END {
                    coords.extend((ks + 1..=segs).map(|k| self.point(from.edge, k)));
                } else {
                    coords.extend((0..=ks).rev().map(|k| self.point(from.edge, k)));
                }
                for &a in arcs.iter().rev() {
                    let c = self.arc_chain[a as usize];
                    let e = (c >> 1) as usize;
                    let g = self.edge_geometry(e);
                    if c & 1 == 0 {
                        coords.extend_from_slice(g);
                    } else {
                        coords.extend(g.iter().rev());
                    }
                    edges.push(e);
                }
                let kt = self.seg_in_edge(to);
                let segs = self.chains[to.edge].segs as usize;
                if entered_forward {
                    coords.extend((0..=kt).map(|k| self.point(to.edge, k)));
                } else {
                    coords.extend((kt + 1..=segs).rev().map(|k| self.point(to.edge, k)));
                }
                edges.push(to.edge);
            }
        }
        coords.push(to.snapped);
        coords.dedup();
        edges.dedup();
        Some(Path {
            weight,
            distance_m: weight.distance_m(),
            time_s: weight.time_s(),
            coords,
            edges,
        })
    }

    /// The index within its edge of the segment a snap lies on.
    fn seg_in_edge(&self, s: &Snap) -> usize {
        (s.seg - self.chains[s.edge].first_seg) as usize
    }

    /// Point `k` of an edge's geometry.
    fn point(&self, edge: usize, k: usize) -> Coord<f64> {
        self.points[self.chains[edge].first_point as usize + k]
    }
}
