//! Strongly connected components (iterative Tarjan), and what they hold.

use std::fmt;

use super::graph::Chain;
use super::weight::Weight;

/// The strongly connected components of a network: sets of nodes each reachable from every
/// other one by legal driving. A route exists from anywhere to anywhere inside one component;
/// between components at most one way (a one-way street out of a fragment), often none.
#[derive(Debug, Clone, PartialEq)]
pub struct Components {
    /// The components that hold at least one edge, largest total road length first. The first
    /// is the main network: points are snapped to it by preference.
    pub pieces: Vec<Piece>,
    /// Components holding no edge: single nodes joined to the rest by one-way edges in one
    /// direction only, such as the far end of a one-way dead end (entered, never left).
    pub stranded_nodes: usize,
    /// Per strongly connected component (numbered in the order Tarjan's algorithm closes them):
    /// its index in `pieces`, if it has one.
    piece_of: Vec<Option<u32>>,
}

/// One strongly connected component that holds edges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    /// Its nodes.
    pub nodes: usize,
    /// Its edges (both ends inside it).
    pub edges: usize,
    /// The total length of those edges, in metres.
    pub length_m: f64,
}

impl Components {
    /// The main network (largest by road length); `None` only for a network of one-way
    /// edges that form no cycle at all.
    pub fn main(&self) -> Option<&Piece> {
        self.pieces.first()
    }

    /// The index in `pieces` of a strongly connected component, if it holds edges.
    pub(crate) fn piece_of_scc(&self, scc: u32) -> Option<usize> {
        self.piece_of[scc as usize].map(|p| p as usize)
    }
}

impl fmt::Display for Components {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(main) = self.main() else {
            return write!(f, "no two places can be driven between both ways");
        };
        write!(
            f,
            "{} connected pieces; the main one has {} nodes, {} edges, {:.1} km of road",
            self.pieces.len(),
            main.nodes,
            main.edges,
            main.length_m / 1000.0
        )?;
        let rest = &self.pieces[1..];
        if !rest.is_empty() {
            let km: f64 = rest.iter().map(|p| p.length_m).sum::<f64>() / 1000.0;
            write!(f, "; {} fragments hold {km:.1} km", rest.len())?;
            let largest: Vec<String> = rest
                .iter()
                .take(5)
                .map(|p| format!("{:.0} m", p.length_m))
                .collect();
            write!(f, " (largest {})", largest.join(", "))?;
        }
        if self.stranded_nodes > 0 {
            write!(
                f,
                "; {} nodes are joined by one-way edges in one direction only",
                self.stranded_nodes
            )?;
        }
        Ok(())
    }
}

/// Tarjan's algorithm without recursion: the component of every node, and the components
/// summarised.
pub(crate) fn strong_components(
    first_out: &[u32],
    head: &[u32],
    chains: &[Chain],
    cum: &[Weight],
) -> (Vec<u32>, Components) {
    const NONE: u32 = u32::MAX;
    let n = first_out.len() - 1;
    let mut index = vec![NONE; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut comp = vec![NONE; n];
    let mut count = 0u32;
    let mut next_index = 0u32;
    let mut calls: Vec<(u32, u32)> = Vec::new();
    for s in 0..n as u32 {
        if index[s as usize] != NONE {
            continue;
        }
        index[s as usize] = next_index;
        low[s as usize] = next_index;
        next_index += 1;
        stack.push(s);
        on_stack[s as usize] = true;
        calls.push((s, first_out[s as usize]));
        while let Some(&mut (v, ref mut arc)) = calls.last_mut() {
            if *arc < first_out[v as usize + 1] {
                let w = head[*arc as usize];
                *arc += 1;
                if index[w as usize] == NONE {
                    index[w as usize] = next_index;
                    low[w as usize] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    calls.push((w, first_out[w as usize]));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
            } else {
                calls.pop();
                if let Some(&(u, _)) = calls.last() {
                    low[u as usize] = low[u as usize].min(low[v as usize]);
                }
                if low[v as usize] == index[v as usize] {
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        comp[w as usize] = count;
                        if w == v {
                            break;
                        }
                    }
                    count += 1;
                }
            }
        }
    }

    let mut nodes = vec![0usize; count as usize];
    for &c in &comp {
        nodes[c as usize] += 1;
    }
    let mut edges = vec![0usize; count as usize];
    let mut length_cm = vec![0u64; count as usize];
    for ch in chains {
        let (a, b) = (comp[ch.start as usize], comp[ch.end as usize]);
        if a == b {
            edges[a as usize] += 1;
            length_cm[a as usize] += cum[(ch.first_point + ch.segs) as usize].distance_cm;
        }
    }
    let mut order: Vec<u32> = (0..count).filter(|&c| edges[c as usize] > 0).collect();
    order.sort_by(|&a, &b| {
        length_cm[b as usize]
            .cmp(&length_cm[a as usize])
            .then(nodes[b as usize].cmp(&nodes[a as usize]))
            .then(a.cmp(&b))
    });
    let mut piece_of = vec![None; count as usize];
    for (p, &c) in order.iter().enumerate() {
        piece_of[c as usize] = Some(p as u32);
    }
    let pieces = order
        .iter()
        .map(|&c| Piece {
            nodes: nodes[c as usize],
            edges: edges[c as usize],
            length_m: length_cm[c as usize] as f64 / 100.0,
        })
        .collect();
    let stranded_nodes = (0..count as usize).filter(|&c| edges[c] == 0).count();
    (
        comp,
        Components {
            pieces,
            stranded_nodes,
            piece_of,
        },
    )
}
