//! Building the graph: vertices at shared coordinates, degree-2 chains compressed into edges,
//! one-way streets as single arcs.

use std::collections::HashMap;

use geo::Coord;
use gridgov_model::vocab::RoadClass;
use rstar::primitives::{GeomWithData, Line};
use rstar::RTree;

use super::components::{strong_components, Components};
use super::error::NetworkError;
use super::line::RoadLine;
use super::profile::Profile;
use super::weight::{Plane, Weight};

/// Coordinates are quantised to this many units per degree (1e-7°, about 1 cm): two road
/// points join exactly when their quantised coordinates are equal.
pub(crate) const UNITS_PER_DEGREE: f64 = 1e7;

/// What is kept of each input road line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineInfo {
    pub(crate) id: i64,
    pub(crate) class: RoadClass,
    pub(crate) oneway: bool,
}

/// An edge of the network: a chain of road segments between two nodes with no junction in
/// between, kept with its full geometry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Chain {
    /// The node it starts at.
    pub(crate) start: u32,
    /// The node it ends at.
    pub(crate) end: u32,
    /// May be driven from start to end.
    pub(crate) forward: bool,
    /// May be driven from end to start.
    pub(crate) backward: bool,
    /// Index of its first point in the per-point arrays (`segs + 1` points).
    pub(crate) first_point: u32,
    /// Index of its first segment in the per-segment arrays.
    pub(crate) first_seg: u32,
    /// Number of segments.
    pub(crate) segs: u32,
}

/// Where a chain segment comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SegSource {
    /// Index of the input line.
    pub(crate) line: u32,
    /// Index of the segment in that line: from `coords[seg]` to `coords[seg + 1]`.
    pub(crate) seg: u32,
    /// The chain runs against the line's direction here.
    pub(crate) reversed: bool,
}

/// An R-tree item: a chain segment in the local plane, with its global segment index.
pub(crate) type SegItem = GeomWithData<Line<[f64; 2]>, u32>;

/// A road graph for one vehicle profile: build it once from the road lines, then snap points
/// onto it and ask for matrices and paths (see the module documentation).
#[derive(Debug, Clone)]
pub struct RoadNetwork {
    pub(crate) profile: Profile,
    pub(crate) lines: Vec<LineInfo>,
    pub(crate) chains: Vec<Chain>,
    /// Per chain point: its coordinates (quantised) and the weight from the chain's start.
    pub(crate) points: Vec<Coord<f64>>,
    pub(crate) cum: Vec<Weight>,
    /// Per chain segment: its chain and its source.
    pub(crate) seg_chain: Vec<u32>,
    pub(crate) seg_source: Vec<SegSource>,
    /// Nodes: coordinates, and arcs in compressed sparse rows.
    pub(crate) node_coords: Vec<Coord<f64>>,
    pub(crate) first_out: Vec<u32>,
    pub(crate) arc_head: Vec<u32>,
    pub(crate) arc_key: Vec<u64>,
    /// Per arc: `chain << 1 | backward`.
    pub(crate) arc_chain: Vec<u32>,
    /// Per node: its strongly connected component, numbered as in `components`.
    pub(crate) node_component: Vec<u32>,
    pub(crate) components: Components,
    pub(crate) plane: Plane,
    pub(crate) rtree: RTree<SegItem>,
    pub(crate) stats: BuildStats,
}

/// Counts from building a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BuildStats {
    /// Road lines given.
    pub lines: usize,
    /// Lines left out because the profile may not use their class.
    pub forbidden_lines: usize,
    /// Lines left out because they have fewer than two distinct points.
    pub degenerate_lines: usize,
    /// Distinct road points (after quantising to 1e-7°) on usable lines.
    pub vertices: usize,
    /// Usable road segments (between consecutive distinct points).
    pub segments: usize,
    /// Graph nodes: junctions, dead ends, and points where one-way rules change.
    pub nodes: usize,
    /// Edges (chains of segments between nodes, each drawable with its full geometry).
    pub edges: usize,
    /// Directed arcs (a two-way edge gives two, a one-way edge one).
    pub arcs: usize,
}

/// A raw usable segment before compression.
struct RawSeg {
    a: u32,
    b: u32,
    line: u32,
    seg: u32,
    weight: Weight,
}

fn quantise(c: Coord<f64>) -> (i64, i64) {
    (
        (c.x * UNITS_PER_DEGREE).round() as i64,
        (c.y * UNITS_PER_DEGREE).round() as i64,
    )
}

fn dequantise(k: (i64, i64)) -> Coord<f64> {
    Coord {
        x: k.0 as f64 / UNITS_PER_DEGREE,
        y: k.1 as f64 / UNITS_PER_DEGREE,
    }
}

impl RoadNetwork {
    /// Builds the network of the roads `profile` may use.
    ///
    /// Road points join when their coordinates agree after rounding to 1e-7° (about 1 cm): roads
    /// meeting at a shared point are connected, roads crossing without one (bridges, tunnels,
    /// or simply undrawn junctions) are not. Segment lengths are haversine distances between the
    /// rounded points; see [`Profile::segment_weight`] for the weights.
    ///
    /// Fails when a line has a point that is not a longitude/latitude, or when no road is left.
    pub fn build(
        lines: impl IntoIterator<Item = RoadLine>,
        profile: &Profile,
    ) -> Result<RoadNetwork, NetworkError> {
        let mut stats = BuildStats::default();
        let mut infos = Vec::new();
        let mut vertex_of: HashMap<(i64, i64), u32> = HashMap::new();
        let mut vertex_coords: Vec<Coord<f64>> = Vec::new();
        let mut raw: Vec<RawSeg> = Vec::new();
        for line in lines {
            stats.lines += 1;
            for c in &line.coords {
                if !(c.x.is_finite() && c.y.is_finite() && c.x.abs() <= 180.0 && c.y.abs() <= 90.0)
                {
                    return Err(NetworkError::BadRoad {
                        id: line.id,
                        reason: format!("({}, {}) is not a longitude/latitude", c.x, c.y),
                    });
                }
            }
            let index = infos.len() as u32;
            infos.push(LineInfo {
                id: line.id,
                class: line.class,
                oneway: line.oneway,
            });
            if profile.speed_kmh(line.class).is_none() {
                stats.forbidden_lines += 1;
                continue;
            }
            let keys: Vec<(i64, i64)> = line.coords.iter().map(|&c| quantise(c)).collect();
            let before = raw.len();
            for (i, w) in keys.windows(2).enumerate() {
                if w[0] == w[1] {
                    continue;
                }
                let mut vertex = |k: (i64, i64)| {
                    *vertex_of.entry(k).or_insert_with(|| {
                        vertex_coords.push(dequantise(k));
                        (vertex_coords.len() - 1) as u32
                    })
                };
                let (a, b) = (vertex(w[0]), vertex(w[1]));
                let weight = profile
                    .segment_weight(line.class, dequantise(w[0]), dequantise(w[1]))
                    .unwrap_or_default();
                raw.push(RawSeg {
                    a,
                    b,
                    line: index,
                    seg: i as u32,
                    weight,
                });
            }
            if raw.len() == before {
                stats.degenerate_lines += 1;
            }
        }
        if raw.is_empty() {
            return Err(NetworkError::Empty {
                profile: profile.name().to_owned(),
            });
        }
        stats.vertices = vertex_coords.len();
        stats.segments = raw.len();
        let nv = vertex_coords.len();

        // Incidence lists of the vertices, in compressed rows.
        let mut inc_start = vec![0u32; nv + 1];
        for s in &raw {
            inc_start[s.a as usize + 1] += 1;
            inc_start[s.b as usize + 1] += 1;
        }
        for v in 0..nv {
            inc_start[v + 1] += inc_start[v];
        }
        let mut fill = inc_start.clone();
        let mut incident = vec![0u32; 2 * raw.len()];
        for (i, s) in raw.iter().enumerate() {
            for v in [s.a, s.b] {
                incident[fill[v as usize] as usize] = i as u32;
                fill[v as usize] += 1;
            }
        }
        let oneway = |s: &RawSeg| infos[s.line as usize].oneway;
        // A vertex is passed through (not a node) when exactly two segments meet there and one
        // can drive on from one into the other in both directions, or — both one-way — in one.
        let mut is_node: Vec<bool> = (0..nv)
            .map(|v| {
                let inc = &incident[inc_start[v] as usize..inc_start[v + 1] as usize];
                if inc.len() != 2 {
                    return true;
                }
                let (s, t) = (&raw[inc[0] as usize], &raw[inc[1] as usize]);
                match (oneway(s), oneway(t)) {
                    (false, false) => false,
                    (true, true) => (s.b as usize == v) == (t.b as usize == v),
                    _ => true,
                }
            })
            .collect();

        // Walk the chains from every node; then break the cycles that have no node.
        let mut used = vec![false; raw.len()];
        let mut chain_walks: Vec<(u32, Vec<u32>)> = Vec::new();
        let walk = |start: u32, first: u32, used: &mut Vec<bool>, is_node: &Vec<bool>| {
            let mut segs = vec![first];
            let mut at = start;
            let mut seg = first;
            loop {
                used[seg as usize] = true;
                let s = &raw[seg as usize];
                let next_v = if s.a == at { s.b } else { s.a };
                if is_node[next_v as usize] {
                    break;
                }
                let inc = &incident
                    [inc_start[next_v as usize] as usize..inc_start[next_v as usize + 1] as usize];
                let next = if inc[0] == seg { inc[1] } else { inc[0] };
                if used[next as usize] {
                    break;
                }
                segs.push(next);
                at = next_v;
                seg = next;
            }
            (start, segs)
        };
        for v in 0..nv {
            if !is_node[v] {
                continue;
            }
            for k in inc_start[v]..inc_start[v + 1] {
                let s = incident[k as usize];
                if !used[s as usize] {
                    chain_walks.push(walk(v as u32, s, &mut used, &is_node));
                }
            }
        }
        for v in 0..nv {
            for k in inc_start[v]..inc_start[v + 1] {
                let s = incident[k as usize];
                if !used[s as usize] {
                    is_node[v] = true;
                    chain_walks.push(walk(v as u32, s, &mut used, &is_node));
                }
            }
        }

        // Number the nodes.
        let mut node_of = vec![u32::MAX; nv];
        let mut node_coords = Vec::new();
        for v in 0..nv {
            if is_node[v] {
                node_of[v] = node_coords.len() as u32;
                node_coords.push(vertex_coords[v]);
            }
        }

        // Lay out the chains.
        let mut chains = Vec::with_capacity(chain_walks.len());
        let mut points = Vec::with_capacity(raw.len() + chain_walks.len());
        let mut cum = Vec::with_capacity(raw.len() + chain_walks.len());
        let mut seg_chain = Vec::with_capacity(raw.len());
        let mut seg_source = Vec::with_capacity(raw.len());
        for (start, segs) in &chain_walks {
            let c = chains.len() as u32;
            let first_point = points.len() as u32;
            let first_seg = seg_source.len() as u32;
            let (mut forward, mut backward) = (true, true);
            let mut at = *start;
            let mut total = Weight::ZERO;
            points.push(vertex_coords[at as usize]);
            cum.push(total);
            for &si in segs {
                let s = &raw[si as usize];
                let reversed = s.a != at;
                if oneway(s) {
                    if reversed {
                        forward = false;
                    } else {
                        backward = false;
                    }
                }
                at = if reversed { s.a } else { s.b };
                total = total.plus(s.weight);
                points.push(vertex_coords[at as usize]);
                cum.push(total);
                seg_chain.push(c);
                seg_source.push(SegSource {
                    line: s.line,
                    seg: s.seg,
                    reversed,
                });
            }
            chains.push(Chain {
                start: node_of[*start as usize],
                end: node_of[at as usize],
                forward,
                backward,
                first_point,
                first_seg,
                segs: segs.len() as u32,
            });
        }

        // Arcs in compressed rows.
        let nn = node_coords.len();
        let mut arcs: Vec<(u32, u32, u64, u32)> = Vec::new();
        for (c, ch) in chains.iter().enumerate() {
            let key = cum[(ch.first_point + ch.segs) as usize].key();
            if ch.forward {
                arcs.push((ch.start, ch.end, key, (c as u32) << 1));
            }
            if ch.backward {
                arcs.push((ch.end, ch.start, key, (c as u32) << 1 | 1));
            }
        }
        arcs.sort_unstable_by_key(|a| (a.0, a.2, a.1));
        let mut first_out = vec![0u32; nn + 1];
        for a in &arcs {
            first_out[a.0 as usize + 1] += 1;
        }
        for v in 0..nn {
            first_out[v + 1] += first_out[v];
        }
        let arc_head: Vec<u32> = arcs.iter().map(|a| a.1).collect();
        let arc_key: Vec<u64> = arcs.iter().map(|a| a.2).collect();
        let arc_chain: Vec<u32> = arcs.iter().map(|a| a.3).collect();

        let (node_component, components) = strong_components(&first_out, &arc_head, &chains, &cum);

        // The R-tree of segments, in a plane at the network's mean latitude.
        let lat = node_coords.iter().map(|c| c.y).sum::<f64>() / nn.max(1) as f64;
        let plane = Plane::at_latitude(lat);
        let items: Vec<SegItem> = chains
            .iter()
            .flat_map(|ch| {
                (0..ch.segs).map(move |k| ((ch.first_point + k) as usize, ch.first_seg + k))
            })
            .map(|(p, s)| {
                GeomWithData::new(
                    Line::new(plane.project(points[p]), plane.project(points[p + 1])),
                    s,
                )
            })
            .collect();
        let rtree = RTree::bulk_load(items);

        stats.nodes = nn;
        stats.edges = chains.len();
        stats.arcs = arc_head.len();
        Ok(RoadNetwork {
            profile: profile.clone(),
            lines: infos,
            chains,
            points,
            cum,
            seg_chain,
            seg_source,
            node_coords,
            first_out,
            arc_head,
            arc_key,
            arc_chain,
            node_component,
            components,
            plane,
            rtree,
            stats,
        })
    }

    /// The profile the network was built for.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Counts of lines, points, nodes, edges and arcs.
    pub fn stats(&self) -> BuildStats {
        self.stats
    }

    /// The strongly connected components (see [`Components`]).
    pub fn components(&self) -> &Components {
        &self.components
    }

    /// The number of edges; edges are numbered `0..edge_count()`.
    pub fn edge_count(&self) -> usize {
        self.chains.len()
    }

    /// An edge's full geometry from its start to its end (longitude/latitude, quantised to
    /// 1e-7°), as drawn: following the roads, not just its end points.
    pub fn edge_geometry(&self, edge: usize) -> &[Coord<f64>] {
        let ch = &self.chains[edge];
        &self.points[ch.first_point as usize..=(ch.first_point + ch.segs) as usize]
    }

    /// Whether an edge may be driven from its start to its end, and from its end to its start.
    pub fn edge_directions(&self, edge: usize) -> (bool, bool) {
        let ch = &self.chains[edge];
        (ch.forward, ch.backward)
    }

    /// An edge's length and travel time.
    pub fn edge_weight(&self, edge: usize) -> Weight {
        let ch = &self.chains[edge];
        self.cum[(ch.first_point + ch.segs) as usize]
    }

    /// The component an edge lies in (index into [`Components::pieces`]), or `None` for a
    /// one-way edge leading from one component into another.
    pub fn edge_component(&self, edge: usize) -> Option<usize> {
        let ch = &self.chains[edge];
        let (a, b) = (
            self.node_component[ch.start as usize],
            self.node_component[ch.end as usize],
        );
        (a == b).then(|| self.components.piece_of_scc(a)).flatten()
    }

    /// The id of the input road line with the given index (input order).
    pub fn road_id(&self, road: usize) -> i64 {
        self.lines[road].id
    }
}
