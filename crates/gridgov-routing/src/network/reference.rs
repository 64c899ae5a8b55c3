//! A plain Dijkstra on the uncompressed road segments, to check the network's searches
//! against: no chains, no packed keys, no early stop, one search per source over every
//! segment of every usable line.
//!
//! It shares only the rules with [`RoadNetwork`](super::RoadNetwork): points join when equal
//! after rounding to 1e-7°, a segment weighs [`Profile::segment_weight`], one-way lines are
//! driven in their drawing direction, and a snapped point splits its segment into the
//! [`Snap::before`] and [`Snap::after`] parts. Its answers must equal
//! [`Matrix::weight`](super::Matrix::weight) exactly. Slow by design; for tests.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use geo::Coord;

use super::line::RoadLine;
use super::profile::Profile;
use super::snap::Snap;
use super::weight::Weight;

/// The quickest route (least time, then least length) between every ordered pair of snapped
/// points, row-major; `None` where there is none. `lines` must be the lines the snaps' network
/// was built from, in the same order.
pub fn matrix(lines: &[RoadLine], profile: &Profile, snaps: &[Snap]) -> Vec<Option<Weight>> {
    let mut ids: HashMap<(i64, i64), usize> = HashMap::new();
    let mut id = |c: Coord<f64>| {
        let k = ((c.x * 1e7).round() as i64, (c.y * 1e7).round() as i64);
        let n = ids.len();
        (
            *ids.entry(k).or_insert(n),
            Coord {
                x: k.0 as f64 / 1e7,
                y: k.1 as f64 / 1e7,
            },
        )
    };
    // Per line, the graph vertex of each point.
    let mut vertex: Vec<Vec<usize>> = Vec::with_capacity(lines.len());
    let mut arcs: Vec<(usize, usize, (u64, u64))> = Vec::new();
    for line in lines {
        let vs: Vec<(usize, Coord<f64>)> = line.coords.iter().map(|&c| id(c)).collect();
        for w in vs.windows(2) {
            if w[0].0 == w[1].0 {
                continue;
            }
            if let Some(sw) = profile.segment_weight(line.class, w[0].1, w[1].1) {
                let cost = (sw.time_ms, sw.distance_cm);
                arcs.push((w[0].0, w[1].0, cost));
                if !line.oneway {
                    arcs.push((w[1].0, w[0].0, cost));
                }
            }
        }
        vertex.push(vs.into_iter().map(|v| v.0).collect());
    }
    let n = ids.len();
    let mut out_arcs: Vec<Vec<(usize, (u64, u64))>> = vec![Vec::new(); n];
    for (a, b, c) in arcs {
        out_arcs[a].push((b, c));
    }
    let ends = |s: &Snap| {
        let v = &vertex[s.road];
        (v[s.segment], v[s.segment + 1], lines[s.road].oneway)
    };
    let add = |a: (u64, u64), w: Weight| (a.0 + w.time_ms, a.1 + w.distance_cm);
    let mut result = Vec::with_capacity(snaps.len() * snaps.len());
    for s in snaps {
        let (sa, sb, s_oneway) = ends(s);
        let mut dist: Vec<Option<(u64, u64)>> = vec![None; n];
        let mut heap = BinaryHeap::new();
        let mut seed = |v: usize, c: (u64, u64), dist: &mut Vec<Option<(u64, u64)>>| {
            if dist[v].is_none_or(|d| c < d) {
                dist[v] = Some(c);
                heap.push(Reverse((c, v)));
            }
        };
        seed(sb, add((0, 0), s.after), &mut dist);
        if !s_oneway {
            seed(sa, add((0, 0), s.before), &mut dist);
        }
        while let Some(Reverse((c, v))) = heap.pop() {
            if dist[v].is_some_and(|d| c > d) {
                continue;
            }
            for &(w, wc) in &out_arcs[v] {
                let nc = (c.0 + wc.0, c.1 + wc.1);
                if dist[w].is_none_or(|d| nc < d) {
                    dist[w] = Some(nc);
                    heap.push(Reverse((nc, w)));
                }
            }
        }
        for t in snaps {
            let (ta, tb, t_oneway) = ends(t);
            let mut best: Option<(u64, u64)> = None;
            let mut consider = |c: Option<(u64, u64)>| {
                if let Some(c) = c {
                    if best.is_none_or(|b| c < b) {
                        best = Some(c);
                    }
                }
            };
            consider(dist[ta].map(|d| add(d, t.before)));
            if !t_oneway {
                consider(dist[tb].map(|d| add(d, t.after)));
            }
            if s.road == t.road && s.segment == t.segment {
                if t.fraction >= s.fraction {
                    let w = t.before.minus(s.before);
                    consider(Some((w.time_ms, w.distance_cm)));
                }
                if !s_oneway && t.fraction <= s.fraction {
                    let w = s.before.minus(t.before);
                    consider(Some((w.time_ms, w.distance_cm)));
                }
            }
            result.push(best.map(|(time_ms, distance_cm)| Weight {
                distance_cm,
                time_ms,
            }));
        }
    }
    result
}
