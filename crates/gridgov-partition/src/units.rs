//! Units a person would draw along: the area cut into blocks by roads, water and division lines
//! (villages, villager groups), blocks too populous for one unit cut further by H3 cells, each
//! unit with its households and workload, and the graph of shared boundaries.
//!
//! Two slices of the area: the first by the lines alone gives the blocks; where a block holds
//! more workload than `split_above`, the rings of the H3 cells covering it (at the coarsest
//! resolution whose cells stay under the limit) join the lines for a second slice, and the
//! pieces are grouped back by (block, cell). One slice makes every piece, so neighbouring
//! units share their vertices exactly and grids built from them tile the area exactly.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo::{Area, BoundingRect, Centroid, Contains, Coord, Geometry, InteriorPoint, Intersects};
use geo::{LineString, MultiPolygon, Point, Polygon, Rect};
use gridgov_model::vocab::{DisputeStatus, RoadClass, WaterKind};
use gridgov_model::{Dataset, DivisionCode, DivisionLevel, Feature, Layer};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{LatLng, Resolution};
use i_overlay::i_float::int::point::IntPoint;
use i_overlay::i_shape::int::shape::{IntShape, IntShapes};
use rstar::{RTree, RTreeObject, AABB};

use crate::frame::{plane, Frame};
use crate::graph::{Edge, Graph, Unit, Village};
use crate::shape::{self, Cuts};

/// How much each kind of workload weighs against one household.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Weight of a household (default 1).
    pub households: f64,
    /// Weight of a rental house (出租房屋, default 0).
    pub rental_houses: f64,
    /// Weight of a supervised person (default 0).
    pub supervised: f64,
    /// Weight of an open dispute (default 0).
    pub disputes: f64,
}

impl Default for Workload {
    fn default() -> Self {
        Self {
            households: 1.0,
            rental_houses: 0.0,
            supervised: 0.0,
            disputes: 0.0,
        }
    }
}

/// Lines a grid must not cross.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Barriers {
    /// Road classes that are barriers (e.g. trunk and primary roads).
    pub road_classes: Vec<RoadClass>,
    /// Water kinds that are barriers (e.g. rivers and canals).
    pub water: Vec<WaterKind>,
}

/// What the area is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One village (行政村/社区): grids nest in it.
    Village(DivisionCode),
    /// A township (乡镇): its villages, where the small ones may be merged whole.
    Township(DivisionCode),
}

impl Scope {
    /// The division code.
    pub fn code(&self) -> DivisionCode {
        match self {
            Scope::Village(c) | Scope::Township(c) => *c,
        }
    }
}

/// How units are cut.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitOptions {
    /// Weights of the workload.
    pub workload: Workload,
    /// A block with more workload than this is cut further by H3 cells.
    pub split_above: f64,
    /// Barriers.
    pub barriers: Barriers,
    /// In township mode, villages with less workload than this are taken whole (one unit that
    /// may share a grid with others). Ignored in village mode.
    pub whole_below: f64,
}

impl Default for UnitOptions {
    fn default() -> Self {
        Self {
            workload: Workload::default(),
            split_above: 100.0,
            barriers: Barriers::default(),
            whole_below: 300.0,
        }
    }
}

/// What a unit holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Households.
    pub households: u32,
    /// Rental houses.
    pub rental_houses: u32,
    /// Supervised persons.
    pub supervised: u32,
    /// Disputes not yet finished.
    pub disputes: u32,
    /// Households that already have a grid (a `grid_code`).
    pub settled: u32,
}

/// The units of an area.
#[derive(Debug, Clone)]
pub struct Units {
    /// What the solver sees.
    pub graph: Graph,
    /// The plane the shapes are in.
    pub frame: Frame,
    /// Each unit's exact shape on the millimetre plane.
    pub shapes: Vec<IntShapes>,
    /// Each unit's contents.
    pub counts: Vec<Counts>,
    /// The whole area.
    pub area: IntShapes,
    /// The input's vertices of the area's boundary by the grid point they round to: output
    /// polygons are put back on them.
    pub exact: HashMap<IntPoint, Coord<f64>>,
    /// The input's boundary segments (villages' rings), to put points cut into them back on them.
    boundary: RTree<BoundarySeg>,
    /// The villages, as [`Graph::villages`] lists them.
    pub villages: Vec<DivisionCode>,
    /// Households of the area's villages that lie outside every village polygon (not counted).
    pub outside: usize,
}

impl Units {
    /// A unit's polygon(s) in WGS84.
    pub fn polygon(&self, unit: usize) -> MultiPolygon<f64> {
        self.to_lonlat(&self.shapes[unit])
    }

    /// Shapes of the plane in WGS84, on the input's own coordinates where they follow its
    /// boundary: a vertex of the input's boundary comes back as it was, and a point cut into
    /// the boundary (where a road meets it) comes back on the boundary's segment, so grids
    /// tile the area to the last bit rather than to the millimetre.
    pub fn to_lonlat(&self, shapes: &[IntShape]) -> MultiPolygon<f64> {
        shape::to_lonlat_with(shapes, &|p| self.place(p))
    }

    fn place(&self, p: IntPoint) -> Coord<f64> {
        if let Some(c) = self.exact.get(&p) {
            return *c;
        }
        let q = plane(p);
        let env = AABB::from_corners(
            [q[0] - ON_LINE, q[1] - ON_LINE],
            [q[0] + ON_LINE, q[1] + ON_LINE],
        );
        let best = self
            .boundary
            .locate_in_envelope_intersecting(&env)
            .map(|s| (dist_to_segment(q, s.a, s.b), s))
            .filter(|(d, _)| *d <= ON_LINE)
            .min_by(|x, y| x.0.total_cmp(&y.0));
        match best {
            Some((_, s)) => {
                let (dx, dy) = (s.b[0] - s.a[0], s.b[1] - s.a[1]);
                let len2 = dx * dx + dy * dy;
                let t = if len2 > 0.0 {
                    (((q[0] - s.a[0]) * dx + (q[1] - s.a[1]) * dy) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                Coord {
                    x: s.ca.x + t * (s.cb.x - s.ca.x),
                    y: s.ca.y + t * (s.cb.y - s.ca.y),
                }
            }
            None => self.frame.from_int(p),
        }
    }

    /// Area of the whole area in square metres.
    pub fn area_m2(&self) -> f64 {
        self.area.iter().map(shape::area).sum()
    }
}

/// Why units could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitsError {
    /// The division is not in the data.
    #[error("division {0} is not in the data")]
    Unknown(DivisionCode),
    /// The code is of the wrong level for the mode.
    #[error("{code} is a {found} code, not a {wanted} code")]
    WrongLevel {
        /// The code.
        code: DivisionCode,
        /// Its level.
        found: &'static str,
        /// The level wanted.
        wanted: &'static str,
    },
    /// A village without a polygon.
    #[error("village {0} has no polygon")]
    NoPolygon(DivisionCode),
    /// The area is too large for one plane.
    #[error("the area reaches more than 500 km from its centre")]
    TooLarge,
    /// Nothing was left to partition.
    #[error("the area of {0} is empty")]
    Empty(DivisionCode),
}

fn polygons(g: Option<&Geometry<f64>>) -> Vec<Polygon<f64>> {
    match g {
        Some(Geometry::Polygon(p)) => vec![p.clone()],
        Some(Geometry::MultiPolygon(m)) => m.0.clone(),
        _ => Vec::new(),
    }
}

fn code_of(f: &Feature) -> Option<DivisionCode> {
    f.text("code").and_then(|c| c.parse().ok())
}

/// A point of one of the workload layers.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Household,
    /// A household without a grid yet.
    NewHousehold,
    Rental,
    Supervised,
    Dispute,
}

/// Builds the units of a village or township from a dataset holding (at least) its divisions,
/// villager groups, roads, water and workload layers.
pub fn build(data: &Dataset, scope: Scope, options: &UnitOptions) -> Result<Units, UnitsError> {
    let empty = Vec::new();
    let layer = |l: Layer| data.layers.get(&l).unwrap_or(&empty);
    let code = scope.code();
    let (wanted, wanted_zh) = match scope {
        Scope::Village(_) => (DivisionLevel::Village, "village"),
        Scope::Township(_) => (DivisionLevel::Township, "township"),
    };
    if code.level() != wanted {
        return Err(UnitsError::WrongLevel {
            code,
            found: level_name(code.level()),
            wanted: wanted_zh,
        });
    }
    // The villages, in code order.
    let mut villages: Vec<(DivisionCode, Vec<Polygon<f64>>)> = layer(Layer::Villages)
        .iter()
        .filter_map(|f| {
            let c = code_of(f)?;
            let inside = match scope {
                Scope::Village(v) => c == v,
                Scope::Township(t) => c.parent() == Some(t),
            };
            inside.then(|| (c, polygons(f.geometry.as_ref())))
        })
        .collect();
    villages.sort_by_key(|(c, _)| *c);
    if villages.is_empty() {
        return Err(UnitsError::Unknown(code));
    }
    if let Some((c, _)) = villages.iter().find(|(_, p)| p.is_empty()) {
        return Err(UnitsError::NoPolygon(*c));
    }
    let bbox = villages
        .iter()
        .flat_map(|(_, ps)| ps.iter().filter_map(BoundingRect::bounding_rect))
        .reduce(|a, b| {
            Rect::new(
                Coord {
                    x: a.min().x.min(b.min().x),
                    y: a.min().y.min(b.min().y),
                },
                Coord {
                    x: a.max().x.max(b.max().x),
                    y: a.max().y.max(b.max().y),
                },
            )
        })
        .ok_or(UnitsError::Empty(code))?;
    let frame = Frame::around(bbox.center());
    // Village shapes and the area (their union).
    let mut village_shapes: Vec<IntShapes> = Vec::new();
    for (_, ps) in &villages {
        let mut shapes = Vec::new();
        for p in ps {
            shapes.push(shape::polygon_to_int(&frame, p).ok_or(UnitsError::TooLarge)?);
        }
        village_shapes.push(shape::union(&shapes));
    }
    let mut exact = HashMap::new();
    for (_, ps) in &villages {
        for p in ps {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for c in &ring.0 {
                    if let Some(i) = frame.to_int(*c) {
                        exact.entry(i).or_insert(*c);
                    }
                }
            }
        }
    }
    let mut boundary = Vec::new();
    for (_, ps) in &villages {
        for p in ps {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for w in ring.0.windows(2) {
                    if w[0] != w[1] {
                        let (a, b) = (frame.to_plane(w[0]), frame.to_plane(w[1]));
                        boundary.push(BoundarySeg {
                            a,
                            b,
                            ca: w[0],
                            cb: w[1],
                        });
                    }
                }
            }
        }
    }
    let boundary = RTree::bulk_load(boundary);
    let all: Vec<IntShape> = village_shapes.iter().flatten().cloned().collect();
    let area = shape::union(&all);
    if area.is_empty() {
        return Err(UnitsError::Empty(code));
    }
    let near = |g: &Option<Geometry<f64>>| {
        g.as_ref()
            .and_then(BoundingRect::bounding_rect)
            .is_some_and(|r| r.intersects(&bbox))
    };
    // The cutting lines, and which of them are barriers.
    let mut cuts = Cuts::default();
    let mut barrier_lines: Vec<Vec<IntPoint>> = Vec::new();
    let mut feature_lines: Vec<Vec<IntPoint>> = Vec::new();
    // Open lines (roads, streams): they cut, lie on features, and may be barriers.
    let mut add_lines = |f: &Feature, barrier: bool| -> Result<(), UnitsError> {
        for line in lines(f.geometry.as_ref()) {
            let p = shape::to_int_path(&frame, &line, false).ok_or(UnitsError::TooLarge)?;
            if p.len() > 1 {
                if barrier {
                    barrier_lines.push(p.clone());
                }
                feature_lines.push(p.clone());
                cuts.paths.push(p);
            }
        }
        Ok(())
    };
    for f in layer(Layer::Roads).iter().filter(|f| near(&f.geometry)) {
        let barrier = f
            .text("class")
            .and_then(|c| c.parse::<RoadClass>().ok())
            .is_some_and(|c| options.barriers.road_classes.contains(&c));
        add_lines(f, barrier)?;
    }
    let water_barrier = |f: &Feature| {
        f.text("kind")
            .and_then(|c| c.parse::<WaterKind>().ok())
            .is_some_and(|c| options.barriers.water.contains(&c))
    };
    for f in layer(Layer::Water).iter().filter(|f| near(&f.geometry)) {
        add_lines(f, water_barrier(f))?;
    }
    for f in layer(Layer::Water).iter().filter(|f| near(&f.geometry)) {
        let barrier = water_barrier(f);
        for poly in polygons(f.geometry.as_ref()) {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                let p = shape::to_int_path(&frame, ring, true).ok_or(UnitsError::TooLarge)?;
                if p.len() > 2 {
                    if barrier {
                        barrier_lines.push(closed(&p));
                    }
                    feature_lines.push(closed(&p));
                    cuts.rings.push(p);
                }
            }
        }
    }
    let village_codes: Vec<DivisionCode> = villages.iter().map(|(c, _)| *c).collect();
    for f in layer(Layer::VillagerGroups)
        .iter()
        .filter(|f| village_codes.contains(&f.division))
    {
        for poly in polygons(f.geometry.as_ref()) {
            let p =
                shape::to_int_path(&frame, poly.exterior(), true).ok_or(UnitsError::TooLarge)?;
            if p.len() > 2 {
                feature_lines.push(closed(&p));
                cuts.rings.push(p);
            }
        }
    }
    for shapes in &village_shapes {
        for s in shapes {
            for ring in s {
                feature_lines.push(closed(ring));
                if village_shapes.len() > 1 {
                    cuts.rings.push(ring.clone());
                }
            }
        }
    }

    // The workload points.
    let mut points: Vec<([f64; 2], Kind, Coord<f64>)> = Vec::new();
    let scope_prefix = code.prefix().to_owned();
    let mut outside_count = 0usize;
    let in_scope = |f: &Feature| f.division.as_str().starts_with(&scope_prefix);
    let mut add_points = |l: Layer, kind: Kind, keep: &dyn Fn(&Feature) -> bool| {
        for f in layer(l).iter().filter(|f| in_scope(f) && keep(f)) {
            let c = match &f.geometry {
                Some(Geometry::Point(p)) => Some(p.0),
                Some(g) => g.interior_point().map(|p| p.0),
                None => None,
            };
            if let Some(c) = c {
                points.push((frame.to_plane(c), kind, c));
            }
        }
    };
    add_points(Layer::Households, Kind::Household, &|f| {
        f.get("grid_code").is_some()
    });
    add_points(Layer::Households, Kind::NewHousehold, &|f| {
        f.get("grid_code").is_none()
    });
    add_points(Layer::RentalHouses, Kind::Rental, &|_| true);
    add_points(Layer::SupervisedPersons, Kind::Supervised, &|_| true);
    add_points(Layer::Disputes, Kind::Dispute, &|f| {
        f.text("status")
            .and_then(|s| s.parse::<DisputeStatus>().ok())
            .is_some_and(|s| !s.is_finished())
    });
    let weight = |k: Kind| match k {
        Kind::Household | Kind::NewHousehold => options.workload.households,
        Kind::Rental => options.workload.rental_houses,
        Kind::Supervised => options.workload.supervised,
        Kind::Dispute => options.workload.disputes,
    };

    // First slice: blocks.
    let blocks = shape::slice(&area, &cuts);
    let block_index = Locator::new(&blocks);
    let mut block_load = vec![0.0; blocks.len()];
    let mut block_points: Vec<Vec<usize>> = vec![Vec::new(); blocks.len()];
    for (i, (p, kind, _)) in points.iter().enumerate() {
        if let Some(b) = block_index.locate(*p) {
            block_load[b] += weight(*kind);
            block_points[b].push(i);
        }
    }
    // Heavy blocks get H3 cells.
    let mut block_res: Vec<Option<Resolution>> = vec![None; blocks.len()];
    // Per heavy block, the cells that hold workload: the pieces of empty cells join the nearest
    // of them, so a unit is a populated cell and the empty land around it.
    let mut block_cells: Vec<Vec<h3o::CellIndex>> = vec![Vec::new(); blocks.len()];
    let mut cell_rings: BTreeSet<h3o::CellIndex> = BTreeSet::new();
    for b in 0..blocks.len() {
        if block_load[b] <= options.split_above {
            continue;
        }
        let mut chosen = Resolution::Thirteen;
        for res in [
            Resolution::Nine,
            Resolution::Ten,
            Resolution::Eleven,
            Resolution::Twelve,
        ] {
            let mut per_cell: BTreeMap<h3o::CellIndex, f64> = BTreeMap::new();
            for &i in &block_points[b] {
                let (_, kind, c) = points[i];
                if let Ok(ll) = LatLng::new(c.y, c.x) {
                    *per_cell.entry(ll.to_cell(res)).or_default() += weight(kind);
                }
            }
            if per_cell.values().all(|w| *w <= options.split_above) {
                chosen = res;
                break;
            }
        }
        block_res[b] = Some(chosen);
        let mut populated: Vec<h3o::CellIndex> = block_points[b]
            .iter()
            .filter(|&&i| weight(points[i].1) > 0.0)
            .filter_map(|&i| LatLng::new(points[i].2.y, points[i].2.x).ok())
            .map(|ll| ll.to_cell(chosen))
            .collect();
        populated.sort_unstable();
        populated.dedup();
        block_cells[b] = populated;
        let poly = shape::to_lonlat(&frame, std::slice::from_ref(&blocks[b]));
        let mut tiler = TilerBuilder::new(chosen)
            .containment_mode(ContainmentMode::Covers)
            .build();
        for p in poly.0 {
            // A block too thin for the tiler still gets the cells of its points below.
            let _ = tiler.add(p);
        }
        for cell in tiler.into_coverage() {
            cell_rings.insert(cell);
        }
        for &i in &block_points[b] {
            let (_, _, c) = points[i];
            if let Ok(ll) = LatLng::new(c.y, c.x) {
                cell_rings.insert(ll.to_cell(chosen));
            }
        }
    }
    // Second slice, then pieces grouped by (block, cell).
    let pieces = if cell_rings.is_empty() {
        blocks.clone()
    } else {
        let mut all_cuts = cuts.clone();
        for cell in &cell_rings {
            let ring: Option<Vec<IntPoint>> = cell
                .vertexes()
                .map(|v| {
                    let ll = LatLng::from(v);
                    frame.to_int(Coord {
                        x: ll.lng(),
                        y: ll.lat(),
                    })
                })
                .collect();
            if let Some(r) = ring {
                all_cuts.rings.push(r);
            }
        }
        shape::slice(&area, &all_cuts)
    };
    let mut groups: BTreeMap<(usize, u64), Vec<IntShape>> = BTreeMap::new();
    for piece in pieces {
        let inner = interior(&piece);
        let Some(b) = block_index.locate(inner) else {
            continue;
        };
        let cell = block_res[b].map_or(0, |res| {
            let c = frame.to_lonlat(inner);
            LatLng::new(c.y, c.x).map_or(0, |ll| {
                let cell = ll.to_cell(res);
                nearest(cell, &block_cells[b]).map_or(0, u64::from)
            })
        });
        groups.entry((b, cell)).or_default().push(piece);
    }
    // Unit shapes: each group's union, one unit per connected polygon.
    let village_index = Locator::new(
        &village_shapes
            .iter()
            .map(|s| s.first().cloned().unwrap_or_default())
            .collect::<Vec<_>>(),
    );
    let village_of_shape = |s: &IntShape| -> usize {
        let p = interior(s);
        (0..village_shapes.len())
            .find(|&v| village_shapes[v].iter().any(|vs| contains(vs, p)))
            .or_else(|| village_index.locate(p))
            .unwrap_or(0)
    };
    let mut unit_shapes: Vec<(usize, IntShapes)> = Vec::new();
    for group in groups.into_values() {
        for s in shape::union(&group) {
            let v = village_of_shape(&s);
            unit_shapes.push((v, vec![s]));
        }
    }
    // Workload per village decides which villages are whole (township mode).
    let whole: Vec<bool> = if village_shapes.len() > 1 {
        let vloc: Vec<Locator> = village_shapes.iter().map(|s| Locator::new(s)).collect();
        let mut load = vec![0.0; village_shapes.len()];
        for (p, kind, _) in &points {
            if let Some(v) = vloc.iter().position(|l| l.locate(*p).is_some()) {
                load[v] += weight(*kind);
            }
        }
        load.iter().map(|w| *w < options.whole_below).collect()
    } else {
        vec![false]
    };
    if whole.iter().any(|w| *w) {
        let mut kept = Vec::new();
        let mut merged: BTreeMap<usize, Vec<IntShape>> = BTreeMap::new();
        for (v, s) in unit_shapes {
            if whole[v] {
                merged.entry(v).or_default().extend(s);
            } else {
                kept.push((v, s));
            }
        }
        for (v, parts) in merged {
            kept.push((v, shape::union(&parts)));
        }
        unit_shapes = kept;
    }
    // A stable order: by village, then north to south, west to east.
    let mut keyed: Vec<(usize, [f64; 2], IntShapes)> = unit_shapes
        .into_iter()
        .map(|(v, s)| {
            let c = centroid(&s);
            (v, c, s)
        })
        .collect();
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.1[1].total_cmp(&a.1[1]))
            .then(a.1[0].total_cmp(&b.1[0]))
    });

    // Points to units.
    let unit_index = Locator::new_multi(&keyed.iter().map(|k| k.2.clone()).collect::<Vec<_>>());
    let mut counts = vec![Counts::default(); keyed.len()];
    let mut load = vec![0.0; keyed.len()];
    for (p, kind, _) in &points {
        let Some(u) = unit_index.locate(*p) else {
            if matches!(kind, Kind::Household | Kind::NewHousehold) {
                outside_count += 1;
            }
            continue;
        };
        load[u] += weight(*kind);
        let c = &mut counts[u];
        match kind {
            Kind::Household => {
                c.households += 1;
                c.settled += 1;
            }
            Kind::NewHousehold => c.households += 1,
            Kind::Rental => c.rental_houses += 1,
            Kind::Supervised => c.supervised += 1,
            Kind::Dispute => c.disputes += 1,
        }
    }
    let shapes: Vec<IntShapes> = keyed.iter().map(|k| k.2.clone()).collect();
    let units: Vec<Unit> = keyed
        .iter()
        .enumerate()
        .map(|(i, (v, c, s))| Unit {
            households: counts[i].households,
            settled: counts[i].settled,
            workload: load[i],
            area: s.iter().map(shape::area).sum(),
            perimeter: s.iter().map(shape::perimeter).sum(),
            centroid: *c,
            village: *v,
        })
        .collect();
    let edges = shared_edges(&shapes, &feature_lines, &barrier_lines);
    let mut shared = vec![0.0; units.len()];
    for e in &edges {
        shared[e.a] += e.length;
        shared[e.b] += e.length;
    }
    let outer = units
        .iter()
        .zip(&shared)
        .map(|(u, s)| (u.perimeter - s).max(0.0))
        .collect();
    let graph = Graph {
        units,
        edges,
        villages: villages
            .iter()
            .zip(&whole)
            .map(|((c, _), w)| Village {
                code: c.as_str().to_owned(),
                whole: *w,
            })
            .collect(),
        outer,
    };
    Ok(Units {
        graph,
        frame,
        shapes,
        counts,
        area,
        exact,
        boundary,
        villages: village_codes,
        outside: outside_count,
    })
}

/// The cell of `cells` nearest to `cell` in grid steps (the smallest index on a tie); `cell`
/// itself when it is one of them.
fn nearest(cell: h3o::CellIndex, cells: &[h3o::CellIndex]) -> Option<h3o::CellIndex> {
    if cells.binary_search(&cell).is_ok() {
        return Some(cell);
    }
    cells
        .iter()
        .map(|&c| (cell.grid_distance(c).unwrap_or(i32::MAX), c))
        .min()
        .map(|(_, c)| c)
}

fn level_name(l: DivisionLevel) -> &'static str {
    match l {
        DivisionLevel::County => "county",
        DivisionLevel::Township => "township",
        DivisionLevel::Village => "village",
        DivisionLevel::VillagerGroup => "villager group",
    }
}

fn lines(g: Option<&Geometry<f64>>) -> Vec<LineString<f64>> {
    match g {
        Some(Geometry::LineString(l)) => vec![l.clone()],
        Some(Geometry::MultiLineString(m)) => m.0.clone(),
        _ => Vec::new(),
    }
}

fn closed(ring: &[IntPoint]) -> Vec<IntPoint> {
    let mut r = ring.to_vec();
    if let Some(&first) = ring.first() {
        r.push(first);
    }
    r
}

/// A point inside a shape, in plane metres.
fn interior(s: &IntShape) -> [f64; 2] {
    let poly = shape::to_plane_polygon(s);
    poly.interior_point()
        .or_else(|| poly.centroid())
        .map_or([0.0, 0.0], |p: Point<f64>| [p.x(), p.y()])
}

/// Area-weighted centre of shapes, in plane metres.
fn centroid(shapes: &[IntShape]) -> [f64; 2] {
    let mut sx = 0.0;
    let mut sy = 0.0;
    let mut sa = 0.0;
    for s in shapes {
        let poly = shape::to_plane_polygon(s);
        let a = poly.unsigned_area();
        if let Some(c) = poly.centroid() {
            sx += c.x() * a;
            sy += c.y() * a;
            sa += a;
        }
    }
    if sa > 0.0 {
        [sx / sa, sy / sa]
    } else {
        shapes.first().map_or([0.0, 0.0], interior)
    }
}

fn contains(s: &IntShape, p: [f64; 2]) -> bool {
    let poly = shape::to_plane_polygon(s);
    let pt = Point::new(p[0], p[1]);
    poly.contains(&pt) || poly.intersects(&pt)
}

/// Finds which of a list of shapes holds a point (the first, on a shared boundary).
struct Locator {
    tree: RTree<Boxed>,
    polys: Vec<Vec<Polygon<f64>>>,
}

struct Boxed {
    index: usize,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for Boxed {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl Locator {
    fn new(shapes: &[IntShape]) -> Self {
        Self::build(
            shapes
                .iter()
                .map(|s| vec![shape::to_plane_polygon(s)])
                .collect(),
        )
    }

    fn new_multi(shapes: &[IntShapes]) -> Self {
        Self::build(
            shapes
                .iter()
                .map(|ss| ss.iter().map(shape::to_plane_polygon).collect())
                .collect(),
        )
    }

    fn build(polys: Vec<Vec<Polygon<f64>>>) -> Self {
        let boxes = polys
            .iter()
            .enumerate()
            .filter_map(|(index, ps)| {
                let rect = ps
                    .iter()
                    .filter_map(BoundingRect::bounding_rect)
                    .reduce(|a, b| {
                        Rect::new(
                            Coord {
                                x: a.min().x.min(b.min().x),
                                y: a.min().y.min(b.min().y),
                            },
                            Coord {
                                x: a.max().x.max(b.max().x),
                                y: a.max().y.max(b.max().y),
                            },
                        )
                    })?;
                Some(Boxed {
                    index,
                    envelope: AABB::from_corners(
                        [rect.min().x, rect.min().y],
                        [rect.max().x, rect.max().y],
                    ),
                })
            })
            .collect();
        Self {
            tree: RTree::bulk_load(boxes),
            polys,
        }
    }

    fn locate(&self, p: [f64; 2]) -> Option<usize> {
        let pt = Point::new(p[0], p[1]);
        let mut hits: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point(p))
            .map(|b| b.index)
            .collect();
        hits.sort_unstable();
        hits.iter()
            .copied()
            .find(|&i| self.polys[i].iter().any(|poly| poly.contains(&pt)))
            .or_else(|| {
                hits.iter()
                    .copied()
                    .find(|&i| self.polys[i].iter().any(|poly| poly.intersects(&pt)))
            })
    }
}

/// A boundary segment of a unit.
struct Seg {
    unit: usize,
    a: [f64; 2],
    b: [f64; 2],
}

impl RTreeObject for Seg {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(self.a, self.b)
    }
}

/// A segment of the input's boundary, in the plane and as given.
#[derive(Debug, Clone)]
struct BoundarySeg {
    a: [f64; 2],
    b: [f64; 2],
    ca: Coord<f64>,
    cb: Coord<f64>,
}

impl RTreeObject for BoundarySeg {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(self.a, self.b)
    }
}

/// A line segment of a feature (road, water, division line).
struct LineSeg {
    a: [f64; 2],
    b: [f64; 2],
    barrier: bool,
}

impl RTreeObject for LineSeg {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_corners(self.a, self.b)
    }
}

/// How close (metres) a boundary must run to a line to lie on it: rounding to the millimetre
/// grid moves points by at most 0.7 mm.
const ON_LINE: f64 = 0.003;

fn dist_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (a[0] + t * dx, a[1] + t * dy);
    (p[0] - qx).hypot(p[1] - qy)
}

/// The boundaries units share, found geometrically: collinear overlapping segments of two
/// units (vertices need not match), each overlap tested against the feature lines.
fn shared_edges(
    shapes: &[IntShapes],
    feature_lines: &[Vec<IntPoint>],
    barrier_lines: &[Vec<IntPoint>],
) -> Vec<Edge> {
    let mut segs = Vec::new();
    for (unit, ss) in shapes.iter().enumerate() {
        for s in ss {
            for ring in s {
                let n = ring.len();
                for i in 0..n {
                    let (a, b) = (ring[i], ring[(i + 1) % n]);
                    if a != b {
                        let (a, b) = (plane(a), plane(b));
                        segs.push(Seg { unit, a, b });
                    }
                }
            }
        }
    }
    let mut lines = Vec::new();
    let mut push_line = |pts: &[IntPoint], barrier: bool| {
        for w in pts.windows(2) {
            if w[0] != w[1] {
                let (a, b) = (plane(w[0]), plane(w[1]));
                lines.push(LineSeg { a, b, barrier });
            }
        }
    };
    for l in feature_lines {
        push_line(l, false);
    }
    for l in barrier_lines {
        push_line(l, true);
    }
    let line_tree = RTree::bulk_load(lines);
    let on = |p: [f64; 2]| -> (bool, bool) {
        let env = AABB::from_corners(
            [p[0] - ON_LINE, p[1] - ON_LINE],
            [p[0] + ON_LINE, p[1] + ON_LINE],
        );
        let mut feature = false;
        let mut barrier = false;
        for l in line_tree.locate_in_envelope_intersecting(&env) {
            if dist_to_segment(p, l.a, l.b) <= ON_LINE {
                feature = true;
                barrier |= l.barrier;
            }
        }
        (feature, barrier)
    };
    let tree = RTree::bulk_load(segs);
    let mut acc: BTreeMap<(usize, usize), (f64, f64, bool)> = BTreeMap::new();
    for s in &tree {
        let env = AABB::from_corners(
            [s.a[0].min(s.b[0]) - ON_LINE, s.a[1].min(s.b[1]) - ON_LINE],
            [s.a[0].max(s.b[0]) + ON_LINE, s.a[1].max(s.b[1]) + ON_LINE],
        );
        let (dx, dy) = (s.b[0] - s.a[0], s.b[1] - s.a[1]);
        let len = dx.hypot(dy);
        for t in tree.locate_in_envelope_intersecting(&env) {
            if t.unit <= s.unit {
                continue;
            }
            if dist_to_segment(t.a, s.a, s.b) > ON_LINE || dist_to_segment(t.b, s.a, s.b) > ON_LINE
            {
                continue;
            }
            // Overlap of t's projection on s.
            let proj = |p: [f64; 2]| ((p[0] - s.a[0]) * dx + (p[1] - s.a[1]) * dy) / len;
            let (t0, t1) = (proj(t.a), proj(t.b));
            let lo = t0.min(t1).max(0.0);
            let hi = t0.max(t1).min(len);
            if hi - lo <= ON_LINE {
                continue;
            }
            let mid = f64::midpoint(lo, hi) / len;
            let m = [s.a[0] + mid * dx, s.a[1] + mid * dy];
            let (feature, barrier) = on(m);
            let e = acc.entry((s.unit, t.unit)).or_insert((0.0, 0.0, false));
            e.0 += hi - lo;
            if feature {
                e.1 += hi - lo;
            }
            e.2 |= barrier;
        }
    }
    acc.into_iter()
        .map(|((a, b), (length, on_feature, barrier))| Edge {
            a,
            b,
            length,
            on_feature,
            barrier,
        })
        .collect()
}
