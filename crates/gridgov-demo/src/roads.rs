//! The road network: one connected, noded network a router can use.
//!
//! Nodes are the hamlets (one per villager group) and a few exits beyond the county boundary.
//! Candidate links form the relative neighbourhood graph of the nodes, which is planar (no two
//! links cross) and connected (it contains the minimum spanning tree). Roads are shortest paths
//! in it, classed from the top down: G326 through the county town, trunk roads between
//! township seats, county roads (县道), township roads from each village centre to its seat
//! (乡道), village roads from each hamlet to its village centre (村道), a few tracks. Each link
//! then gets gentle curves when they cross nothing, and lanes branch off every hamlet. Roads
//! meet only at shared vertices (the nodes), so the network is noded.

use std::collections::{BTreeSet, BinaryHeap, HashMap};

use geo::Coord;
use gridgov_model::vocab::RoadClass;
use gridgov_model::DivisionCode;
use rand::seq::SliceRandom;
use rand::Rng;

use crate::county::{code, COUNTY_CODE};
use crate::frame::{dist, segments_conflict};
use crate::world::World;

/// A road ready to become a feature (local coordinates).
#[derive(Debug, Clone)]
pub(crate) struct Road {
    pub(crate) class: RoadClass,
    pub(crate) name: Option<String>,
    pub(crate) division: DivisionCode,
    pub(crate) points: Vec<Coord<f64>>,
    pub(crate) oneway: bool,
}

/// The generated network.
#[derive(Debug, Clone, Default)]
pub(crate) struct Network {
    pub(crate) roads: Vec<Road>,
    /// Hamlet atoms of rural villages that a trunk or county road passes through.
    pub(crate) arterial_hamlets: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    pos: Coord<f64>,
    /// The villager group whose hamlet this is; `None` for an exit.
    group: Option<usize>,
}

#[derive(Debug, Clone)]
struct Edge {
    a: usize,
    b: usize,
    cost: f64,
    class: Option<RoadClass>,
    /// The drawn line from `a` to `b`.
    line: Vec<Coord<f64>>,
}

/// A run of newly classed links, waiting for its geometry.
#[derive(Debug, Clone)]
struct Pending {
    class: RoadClass,
    name: Option<String>,
    division: DivisionCode,
    nodes: Vec<usize>,
    edges: Vec<usize>,
}

struct Graph {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    adjacent: Vec<Vec<(usize, usize)>>,
}

#[derive(PartialEq)]
struct Visit(f64, usize);
impl Eq for Visit {}
impl PartialOrd for Visit {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Visit {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

/// A path through the graph: its nodes, and the links between them.
type Path = (Vec<usize>, Vec<usize>);

impl Graph {
    /// Gives `class` to the links of `path` that have none yet, and returns each run of such
    /// links, named by `name` and owned by `division` (both asked about the run's first node).
    fn claim(
        &mut self,
        path: Option<Path>,
        class: RoadClass,
        name: &mut dyn FnMut(usize) -> Option<String>,
        division: &dyn Fn(&Graph, usize) -> DivisionCode,
    ) -> Vec<Pending> {
        let mut out = Vec::new();
        let Some((nodes, edges)) = path else {
            return out;
        };
        let mut run: Option<Pending> = None;
        for (i, &e) in edges.iter().enumerate() {
            if self.edges[e].class.is_none() {
                self.edges[e].class = Some(class);
                let r = run.get_or_insert_with(|| Pending {
                    class,
                    name: None,
                    division: division(self, nodes[i]),
                    nodes: vec![nodes[i]],
                    edges: Vec::new(),
                });
                r.nodes.push(nodes[i + 1]);
                r.edges.push(e);
            } else if let Some(r) = run.take() {
                out.push(r);
            }
        }
        out.extend(run);
        for r in &mut out {
            r.name = name(r.nodes[0]);
        }
        out
    }

    /// The nodes and edges of the shortest path from `src` to `dst` (exits are never passed
    /// through, only started or ended at).
    fn path(&self, src: usize, dst: usize) -> Option<Path> {
        let n = self.nodes.len();
        let mut best = vec![f64::INFINITY; n];
        let mut via: Vec<Option<(usize, usize)>> = vec![None; n];
        let mut heap = BinaryHeap::from([Visit(0.0, src)]);
        best[src] = 0.0;
        while let Some(Visit(d, u)) = heap.pop() {
            if u == dst {
                break;
            }
            if d > best[u] || (u != src && self.nodes[u].group.is_none()) {
                continue;
            }
            for &(v, e) in &self.adjacent[u] {
                let nd = d + self.edges[e].cost;
                if nd < best[v] {
                    best[v] = nd;
                    via[v] = Some((u, e));
                    heap.push(Visit(nd, v));
                }
            }
        }
        if !best[dst].is_finite() {
            return None;
        }
        let (mut nodes, mut edges) = (vec![dst], Vec::new());
        let mut at = dst;
        while let Some((u, e)) = via[at] {
            nodes.push(u);
            edges.push(e);
            at = u;
        }
        nodes.reverse();
        edges.reverse();
        Some((nodes, edges))
    }
}

/// A uniform grid of segments for crossing tests.
struct SegmentIndex {
    cell: f64,
    cells: HashMap<(i64, i64), Vec<usize>>,
    segments: Vec<(Coord<f64>, Coord<f64>, usize, bool)>,
}

impl SegmentIndex {
    fn new(cell: f64) -> Self {
        Self {
            cell,
            cells: HashMap::new(),
            segments: Vec::new(),
        }
    }

    fn keys(&self, p: Coord<f64>, q: Coord<f64>) -> Vec<(i64, i64)> {
        let (x0, x1) = (
            (p.x.min(q.x) / self.cell).floor() as i64,
            (p.x.max(q.x) / self.cell).floor() as i64,
        );
        let (y0, y1) = (
            (p.y.min(q.y) / self.cell).floor() as i64,
            (p.y.max(q.y) / self.cell).floor() as i64,
        );
        (x0..=x1)
            .flat_map(|x| (y0..=y1).map(move |y| (x, y)))
            .collect()
    }

    fn insert(&mut self, p: Coord<f64>, q: Coord<f64>, owner: usize) {
        let id = self.segments.len();
        self.segments.push((p, q, owner, true));
        for k in self.keys(p, q) {
            self.cells.entry(k).or_default().push(id);
        }
    }

    fn retire(&mut self, owner: usize) {
        for s in &mut self.segments {
            if s.2 == owner {
                s.3 = false;
            }
        }
    }

    fn conflicts(&self, from: Coord<f64>, to: Coord<f64>, owner: usize) -> bool {
        self.keys(from, to).into_iter().any(|cell| {
            self.cells.get(&cell).is_some_and(|ids| {
                ids.iter().any(|&id| {
                    let (start, end, other, alive) = self.segments[id];
                    alive && other != owner && segments_conflict(from, to, start, end)
                })
            })
        })
    }

    fn line_conflicts(&self, line: &[Coord<f64>], owner: usize) -> bool {
        line.windows(2).any(|w| self.conflicts(w[0], w[1], owner))
    }
}

/// The relative neighbourhood graph of the nodes (candidates: 8 nearest neighbours and the
/// minimum spanning tree), without links between two exits.
fn candidate_links(nodes: &[Node]) -> Vec<(usize, usize)> {
    let n = nodes.len();
    let matrix: Vec<f64> = (0..n * n)
        .map(|k| dist(nodes[k / n].pos, nodes[k % n].pos))
        .collect();
    let d = |i: usize, j: usize| matrix[i * n + j];
    let mut links: BTreeSet<(usize, usize)> = BTreeSet::new();
    for i in 0..n {
        let mut near: Vec<(f64, usize)> =
            (0..n).filter(|&j| j != i).map(|j| (d(i, j), j)).collect();
        let k = near.len().min(8);
        if k < near.len() {
            near.select_nth_unstable_by(k, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        for &(l, j) in &near[..k] {
            let blocked = (0..n).any(|w| w != i && w != j && d(i, w) < l && d(j, w) < l);
            if !blocked {
                links.insert((i.min(j), i.max(j)));
            }
        }
    }
    // Prim's minimum spanning tree keeps the graph connected whatever the k-nearest cut.
    let mut in_tree = vec![false; n];
    let mut best = vec![(f64::INFINITY, 0usize); n];
    best[0].0 = 0.0;
    for _ in 0..n {
        let Some(u) = (0..n)
            .filter(|&u| !in_tree[u])
            .min_by(|&a, &b| best[a].0.total_cmp(&best[b].0).then(a.cmp(&b)))
        else {
            break;
        };
        in_tree[u] = true;
        if u != 0 {
            let p = best[u].1;
            links.insert((u.min(p), u.max(p)));
        }
        for v in 0..n {
            if !in_tree[v] && d(u, v) < best[v].0 {
                best[v] = (d(u, v), u);
            }
        }
    }
    links
        .into_iter()
        .filter(|&(a, b)| nodes[a].group.is_some() || nodes[b].group.is_some())
        .collect()
}

/// Builds the network.
pub(crate) fn build(world: &World, rng: &mut impl Rng) -> Network {
    let mesh = &world.mesh;
    let mut nodes: Vec<Node> = world
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| Node {
            pos: mesh.centre(group.hamlet),
            group: Some(g),
        })
        .collect();
    let deg = std::f64::consts::PI / 180.0;
    let bearings = [
        rng.gen_range(5.0..35.0),
        rng.gen_range(95.0..125.0),
        rng.gen_range(185.0..215.0),
        rng.gen_range(280.0..320.0),
    ];
    let exits: Vec<usize> = bearings
        .iter()
        .map(|b: &f64| {
            let t = b * deg;
            let r = world.outline.radius(t) + 400.0;
            nodes.push(Node {
                pos: Coord {
                    x: r * t.cos(),
                    y: r * t.sin(),
                },
                group: None,
            });
            nodes.len() - 1
        })
        .collect();
    let links = candidate_links(&nodes);
    let edges: Vec<Edge> = links
        .iter()
        .map(|&(a, b)| {
            let (p, q) = (nodes[a].pos, nodes[b].pos);
            let wet = world.water.crossed_by(p, q);
            Edge {
                a,
                b,
                cost: dist(p, q) * if wet { 30.0 } else { 1.0 },
                class: None,
                line: vec![p, q],
            }
        })
        .collect();
    let mut adjacent = vec![Vec::new(); nodes.len()];
    for (e, edge) in edges.iter().enumerate() {
        adjacent[edge.a].push((edge.b, e));
        adjacent[edge.b].push((edge.a, e));
    }
    let mut graph = Graph {
        nodes,
        edges,
        adjacent,
    };
    let pending = classify(world, &mut graph, &exits, rng);
    curve(&mut graph, rng);
    let mut index = SegmentIndex::new(400.0);
    for (e, edge) in graph.edges.iter().enumerate() {
        if edge.class.is_some() {
            for w in edge.line.windows(2) {
                index.insert(w[0], w[1], e);
            }
        }
    }
    let mut roads: Vec<Road> = pending
        .iter()
        .map(|p| Road {
            class: p.class,
            name: p.name.clone(),
            division: p.division,
            points: run_line(&graph, p),
            oneway: false,
        })
        .collect();
    lanes(world, &graph, &mut index, &mut roads, rng);
    let mut arterial = BTreeSet::new();
    for e in &graph.edges {
        if matches!(e.class, Some(RoadClass::Trunk | RoadClass::Primary)) {
            for n in [e.a, e.b] {
                if let Some(g) = graph.nodes[n].group {
                    if !world.villages[world.groups[g].village].community {
                        arterial.insert(world.groups[g].hamlet);
                    }
                }
            }
        }
    }
    Network {
        roads,
        arterial_hamlets: arterial.into_iter().collect(),
    }
}

/// Classes links by walking shortest paths from the top of the hierarchy down, and returns the
/// runs of links each pass newly claimed.
fn classify(world: &World, graph: &mut Graph, exits: &[usize], rng: &mut impl Rng) -> Vec<Pending> {
    let county = code(COUNTY_CODE);
    let node_of_hamlet: HashMap<usize, usize> = world
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| (group.hamlet, g))
        .collect();
    let seat_node: Vec<usize> = world
        .townships
        .iter()
        .map(|t| node_of_hamlet.get(&t.seat).copied().unwrap_or(0))
        .collect();
    let village_of_node =
        |graph: &Graph, n: usize| graph.nodes[n].group.map(|g| world.groups[g].village);
    let mut out = Vec::new();
    let to_county = |_: &Graph, _: usize| county;
    // G326 through the county town, from the west exit to the east exit.
    let town = seat_node[0];
    let west = graph.path(exits[2], town);
    let east = graph.path(town, exits[0]);
    let through = match (west, east) {
        (Some((mut n1, mut e1)), Some((n2, e2))) => {
            n1.extend(n2.into_iter().skip(1));
            e1.extend(e2);
            Some((n1, e1))
        }
        _ => None,
    };
    out.extend(graph.claim(
        through,
        RoadClass::Trunk,
        &mut |_| Some("G326".to_owned()),
        &to_county,
    ));
    // Trunk roads along the minimum spanning tree of the township seats.
    let seats: Vec<Coord<f64>> = seat_node.iter().map(|&n| graph.nodes[n].pos).collect();
    let tree = spanning_tree(&seats);
    let mut provincial = [
        "S209", "S102", "S307", "S210", "S311", "S208", "S103", "S215", "S316",
    ]
    .iter()
    .map(|s| (*s).to_owned());
    for &(i, j) in &tree {
        let name = provincial.next();
        let path = graph.path(seat_node[i], seat_node[j]);
        out.extend(graph.claim(path, RoadClass::Trunk, &mut |_| name.clone(), &to_county));
    }
    // County roads: up to three more seat-to-seat links (Gabriel neighbours), and the other two
    // exits to their nearest seat.
    let mut numbers: Vec<u32> = (1..=60).collect();
    numbers.shuffle(rng);
    let mut numbers = numbers.into_iter();
    let mut extra: Vec<(f64, usize, usize)> = Vec::new();
    for i in 0..seats.len() {
        for j in i + 1..seats.len() {
            if tree.contains(&(i, j)) || tree.contains(&(j, i)) {
                continue;
            }
            let mid = Coord {
                x: f64::midpoint(seats[i].x, seats[j].x),
                y: f64::midpoint(seats[i].y, seats[j].y),
            };
            let r = dist(seats[i], seats[j]) / 2.0;
            if (0..seats.len()).all(|k| k == i || k == j || dist(seats[k], mid) > r) {
                extra.push((2.0 * r, i, j));
            }
        }
    }
    extra.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut county_routes: Vec<(usize, usize)> = extra
        .iter()
        .take(3)
        .map(|&(_, i, j)| (seat_node[i], seat_node[j]))
        .collect();
    for &x in &[exits[1], exits[3]] {
        let p = graph.nodes[x].pos;
        if let Some(&s) = seat_node
            .iter()
            .min_by(|&&a, &&b| dist(graph.nodes[a].pos, p).total_cmp(&dist(graph.nodes[b].pos, p)))
        {
            county_routes.push((x, s));
        }
    }
    for (a, b) in county_routes {
        let number = numbers.next().unwrap_or(99);
        let path = graph.path(a, b);
        out.extend(graph.claim(
            path,
            RoadClass::Primary,
            &mut |_| Some(format!("县道X{number:03}")),
            &to_county,
        ));
    }
    // Township roads: every village centre to its seat.
    let township_of_node = |graph: &Graph, n: usize| {
        village_of_node(graph, n)
            .map_or(county, |v| world.townships[world.villages[v].township].code)
    };
    let mut y = 0u32;
    for (t, township) in world.townships.iter().enumerate() {
        for &v in &township.villages {
            let Some(&centre) = node_of_hamlet.get(&world.villages[v].centre) else {
                continue;
            };
            if centre == seat_node[t] {
                continue;
            }
            let path = graph.path(centre, seat_node[t]);
            out.extend(graph.claim(
                path,
                RoadClass::Secondary,
                &mut |_| {
                    y += 1;
                    Some(format!("乡道Y{y:03}"))
                },
                &township_of_node,
            ));
        }
    }
    // Village roads: every hamlet to its village centre.
    let village_code_of_node = |graph: &Graph, n: usize| {
        village_of_node(graph, n).map_or(county, |v| world.villages[v].code)
    };
    let mut village_name = |n: usize| graph_village_name(world, n);
    for village in &world.villages {
        let Some(&centre) = node_of_hamlet.get(&village.centre) else {
            continue;
        };
        for &g in village.groups.iter().skip(1) {
            let path = graph.path(g, centre);
            out.extend(graph.claim(
                path,
                RoadClass::Village,
                &mut village_name,
                &village_code_of_node,
            ));
        }
    }
    // Tracks: some unused short links between hamlets of one village.
    for e in 0..graph.edges.len() {
        let edge = &graph.edges[e];
        if edge.class.is_some() {
            continue;
        }
        let (va, vb) = (
            village_of_node(graph, edge.a),
            village_of_node(graph, edge.b),
        );
        let short = dist(graph.nodes[edge.a].pos, graph.nodes[edge.b].pos) < 1_500.0;
        if va.is_some() && va == vb && short && edge.cost < 1_500.0 && rng.gen_bool(0.35) {
            let path = Some((vec![edge.a, edge.b], vec![e]));
            out.extend(graph.claim(path, RoadClass::Track, &mut |_| None, &village_code_of_node));
        }
    }
    out
}

/// The name of the village road starting at node `n`: `双龙村村道`, or `海边路` in a community.
fn graph_village_name(world: &World, n: usize) -> Option<String> {
    world.groups.get(n).map(|g| {
        let village = &world.villages[g.village];
        match village.name.strip_suffix("社区") {
            Some(stem) => format!("{stem}路"),
            None => format!("{}村道", village.name),
        }
    })
}

/// Prim's tree over points, as index pairs.
fn spanning_tree(points: &[Coord<f64>]) -> Vec<(usize, usize)> {
    let n = points.len();
    let mut in_tree = vec![false; n];
    let mut best = vec![(f64::INFINITY, 0usize); n];
    let mut tree = Vec::new();
    if n == 0 {
        return tree;
    }
    best[0].0 = 0.0;
    for _ in 0..n {
        let Some(u) = (0..n)
            .filter(|&u| !in_tree[u])
            .min_by(|&a, &b| best[a].0.total_cmp(&best[b].0))
        else {
            break;
        };
        in_tree[u] = true;
        if u != 0 {
            tree.push((best[u].1, u));
        }
        for v in 0..n {
            let d = dist(points[u], points[v]);
            if !in_tree[v] && d < best[v].0 {
                best[v] = (d, u);
            }
        }
    }
    tree
}

/// Bends every used link gently, keeping a bend only when it crosses no other link.
fn curve(graph: &mut Graph, rng: &mut impl Rng) {
    let mut index = SegmentIndex::new(400.0);
    for (e, edge) in graph.edges.iter().enumerate() {
        if edge.class.is_some() {
            for w in edge.line.windows(2) {
                index.insert(w[0], w[1], e);
            }
        }
    }
    for e in 0..graph.edges.len() {
        let edge = &graph.edges[e];
        if edge.class.is_none() {
            continue;
        }
        let (p, q) = (edge.line[0], edge.line[edge.line.len() - 1]);
        let length = dist(p, q);
        if length < 200.0 {
            continue;
        }
        let pieces = ((length / 120.0) as usize).clamp(3, 14);
        let amp = length * rng.gen_range(0.015..0.045);
        let (phase, waves) = (rng.gen_range(0.0..6.3), rng.gen_range(1.0..2.5));
        let normal = ((p.y - q.y) / length, (q.x - p.x) / length);
        let mut line = vec![p];
        for i in 1..pieces {
            let t = i as f64 / pieces as f64;
            let bend = amp
                * (std::f64::consts::PI * t).sin()
                * (0.6 + 0.4 * (std::f64::consts::TAU * waves * t + phase).sin());
            line.push(Coord {
                x: p.x + (q.x - p.x) * t + normal.0 * bend,
                y: p.y + (q.y - p.y) * t + normal.1 * bend,
            });
        }
        line.push(q);
        if !index.line_conflicts(&line, e) {
            index.retire(e);
            for w in line.windows(2) {
                index.insert(w[0], w[1], e);
            }
            graph.edges[e].line = line;
        }
    }
}

/// The points of a run, following each link in the direction travelled.
fn run_line(graph: &Graph, run: &Pending) -> Vec<Coord<f64>> {
    let mut points = vec![graph.nodes[run.nodes[0]].pos];
    for (i, &e) in run.edges.iter().enumerate() {
        let edge = &graph.edges[e];
        let forward = edge.a == run.nodes[i];
        let line: Vec<Coord<f64>> = if forward {
            edge.line.clone()
        } else {
            edge.line.iter().rev().copied().collect()
        };
        points.extend(line.into_iter().skip(1));
    }
    points
}

/// Lanes (巷道) branching off every hamlet into the gaps between its roads.
fn lanes(
    world: &World,
    graph: &Graph,
    index: &mut SegmentIndex,
    roads: &mut Vec<Road>,
    rng: &mut impl Rng,
) {
    let mut heading: Vec<Vec<f64>> = vec![Vec::new(); graph.nodes.len()];
    for e in graph.edges.iter().filter(|e| e.class.is_some()) {
        let (first, last) = (e.line[1], e.line[e.line.len() - 2]);
        let (pa, pb) = (graph.nodes[e.a].pos, graph.nodes[e.b].pos);
        heading[e.a].push((first.y - pa.y).atan2(first.x - pa.x));
        heading[e.b].push((last.y - pb.y).atan2(last.x - pb.x));
    }
    let mut owner = graph.edges.len();
    for (g, group) in world.groups.iter().enumerate() {
        let village = &world.villages[group.village];
        let count = if village.community {
            rng.gen_range(3..=6)
        } else {
            rng.gen_range(1..=3)
        };
        let start = graph.nodes[g].pos;
        for k in 0..count {
            let direction = widest_gap(&heading[g]) + rng.gen_range(-0.25..0.25);
            let mut length = if village.community {
                rng.gen_range(120.0..300.0)
            } else {
                rng.gen_range(80.0..220.0)
            };
            let bends: Vec<f64> = (0..rng.gen_range(2..=3))
                .map(|_| rng.gen_range(-0.5..0.5))
                .collect();
            for _ in 0..2 {
                let mut line = vec![start];
                let mut dir = direction;
                for b in &bends {
                    let last = line[line.len() - 1];
                    let step = length / bends.len() as f64;
                    line.push(Coord {
                        x: last.x + step * dir.cos(),
                        y: last.y + step * dir.sin(),
                    });
                    dir += b;
                }
                owner += 1;
                if index.line_conflicts(&line, owner) {
                    length /= 2.0;
                    continue;
                }
                for w in line.windows(2) {
                    index.insert(w[0], w[1], owner);
                }
                heading[g].push(direction);
                let oneway = rng.gen_bool(if village.community { 0.25 } else { 0.05 });
                let name = village
                    .community
                    .then(|| format!("{}{}巷", group.hamlet_name, k + 1));
                roads.push(Road {
                    class: RoadClass::Lane,
                    name,
                    division: village.code,
                    points: line,
                    oneway,
                });
                break;
            }
        }
    }
}

/// The bearing in the middle of the widest gap between the given bearings.
fn widest_gap(bearings: &[f64]) -> f64 {
    if bearings.is_empty() {
        return 0.0;
    }
    let tau = std::f64::consts::TAU;
    let mut b: Vec<f64> = bearings.iter().map(|x| x.rem_euclid(tau)).collect();
    b.sort_by(f64::total_cmp);
    let mut best = (-1.0, 0.0);
    for i in 0..b.len() {
        let next = if i + 1 < b.len() {
            b[i + 1]
        } else {
            b[0] + tau
        };
        let gap = next - b[i];
        if gap > best.0 {
            best = (gap, b[i] + gap / 2.0);
        }
    }
    best.1
}
