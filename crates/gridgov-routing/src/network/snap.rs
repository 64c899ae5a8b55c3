//! Putting points (collection points, stations, depots) onto the nearest usable road.

use geo::Coord;

use super::error::SnapError;
use super::graph::RoadNetwork;
use super::weight::{haversine_m, Weight};

/// How points are snapped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SnapOptions {
    /// A point farther than this from every usable road is not snapped
    /// ([`SnapError::TooFar`]); `None` snaps however far. Default 500 m.
    pub max_distance_m: Option<f64>,
    /// Snap to the nearest edge of the main component (see [`crate::network::Components`])
    /// when one lies within `max_distance_m`, passing over nearer fragments (the distance to the
    /// nearest one passed over is kept in [`Snap::passed_over_m`]). Only when the main network
    /// is out of reach is a point put on a fragment, where most routes are unreachable.
    /// Default true; false snaps to the nearest usable edge whatever its component.
    pub prefer_main: bool,
}

impl Default for SnapOptions {
    fn default() -> Self {
        SnapOptions {
            max_distance_m: Some(500.0),
            prefer_main: true,
        }
    }
}

/// A point put on the road network: the foot of the perpendicular on the nearest chosen edge.
///
/// A snap belongs to the network that made it. A point on a one-way edge leaves it forward only
/// and is reached from behind only; a point on a two-way edge leaves and is reached both ways.
#[derive(Debug, Clone, PartialEq)]
pub struct Snap {
    /// The point given (longitude/latitude).
    pub point: Coord<f64>,
    /// The point on the road.
    pub snapped: Coord<f64>,
    /// The haversine distance from `point` to `snapped`, in metres.
    pub distance_m: f64,
    /// The edge snapped onto (see [`RoadNetwork::edge_geometry`]).
    pub edge: usize,
    /// The distance along the edge from its start to `snapped`, in metres.
    pub offset_m: f64,
    /// The input road line snapped onto (its index in the order given to
    /// [`RoadNetwork::build`]).
    pub road: usize,
    /// That road's id.
    pub road_id: i64,
    /// The segment of that road: `snapped` lies between its points `segment` and `segment + 1`.
    pub segment: usize,
    /// Where on that segment, from 0 at point `segment` to 1 at point `segment + 1`.
    pub fraction: f64,
    /// The exact weight from point `segment` to `snapped`, in the road's direction: the
    /// segment's weight ([`crate::network::Profile::segment_weight`]) times `fraction`, each
    /// part rounded.
    pub before: Weight,
    /// The exact weight from `snapped` to point `segment + 1`: the segment's weight less
    /// `before`.
    pub after: Weight,
    /// The component the edge lies in (index into [`crate::network::Components::pieces`], 0 the
    /// main network), `None` on a one-way edge between components.
    pub component: Option<usize>,
    /// When a nearer road outside the main network was passed over, its distance in metres.
    pub passed_over_m: Option<f64>,
    /// The global segment index.
    pub(crate) seg: u32,
    /// Weight from the edge's start to `snapped`.
    pub(crate) pos: Weight,
    /// Where on the segment in the edge's direction.
    pub(crate) edge_fraction: f64,
}

impl Snap {
    /// Whether the point lies on the main network.
    pub fn in_main(&self) -> bool {
        self.component == Some(0)
    }
}

impl RoadNetwork {
    /// Snaps a point with the default options (within 500 m, preferring the main network).
    pub fn snap(&self, point: Coord<f64>) -> Result<Snap, SnapError> {
        self.snap_with(point, &SnapOptions::default())
    }

    /// Snaps a point (longitude/latitude) onto the nearest usable edge, as `options` say.
    ///
    /// "Nearest" is measured in a plane tangent at the network's mean latitude (an
    /// equirectangular projection, off by under 0.5 % within half a degree of it); the reported
    /// [`Snap::distance_m`] is the haversine distance.
    pub fn snap_with(&self, point: Coord<f64>, options: &SnapOptions) -> Result<Snap, SnapError> {
        if !(point.x.is_finite()
            && point.y.is_finite()
            && point.x.abs() <= 180.0
            && point.y.abs() <= 90.0)
        {
            return Err(SnapError::BadPoint {
                x: point.x,
                y: point.y,
            });
        }
        let p = self.plane.project(point);
        let prefer_main = options.prefer_main && !self.components.pieces.is_empty();
        let mut first: Option<u32> = None;
        let mut chosen: Option<u32> = None;
        for (item, d2) in self.rtree.nearest_neighbor_iter_with_distance_2(&p) {
            if options.max_distance_m.is_some_and(|max| d2.sqrt() > max) {
                break;
            }
            first.get_or_insert(item.data);
            let edge = self.seg_chain[item.data as usize] as usize;
            if !prefer_main || self.edge_component(edge) == Some(0) {
                chosen = Some(item.data);
                break;
            }
        }
        let Some(seg) = chosen.or(first) else {
            let nearest = self
                .rtree
                .nearest_neighbor(&p)
                .map_or(f64::INFINITY, |item| self.foot(point, item.data).1);
            return Err(SnapError::TooFar {
                distance_m: nearest,
            });
        };
        let passed_over_m = first
            .filter(|&f| f != seg)
            .map(|f| self.foot(point, f).1)
            .filter(|_| chosen.is_some());
        Ok(self.snap_on(point, seg, passed_over_m))
    }

    /// Snaps every point with the same options.
    pub fn snap_all(
        &self,
        points: &[Coord<f64>],
        options: &SnapOptions,
    ) -> Vec<Result<Snap, SnapError>> {
        points.iter().map(|&p| self.snap_with(p, options)).collect()
    }

    /// The foot of the perpendicular from `point` on global segment `seg`: the fraction along
    /// the segment in the edge's direction, and the haversine distance to it.
    fn foot(&self, point: Coord<f64>, seg: u32) -> (f64, f64, Coord<f64>) {
        let edge = self.seg_chain[seg as usize] as usize;
        let ch = &self.chains[edge];
        let k = (ch.first_point + seg - ch.first_seg) as usize;
        let (a, b) = (self.points[k], self.points[k + 1]);
        let (pa, pb, pp) = (
            self.plane.project(a),
            self.plane.project(b),
            self.plane.project(point),
        );
        let (dx, dy) = (pb[0] - pa[0], pb[1] - pa[1]);
        let len2 = dx * dx + dy * dy;
        let t = if len2 > 0.0 {
            (((pp[0] - pa[0]) * dx + (pp[1] - pa[1]) * dy) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let snapped = Coord {
            x: a.x + t * (b.x - a.x),
            y: a.y + t * (b.y - a.y),
        };
        (t, haversine_m(point, snapped), snapped)
    }

    fn snap_on(&self, point: Coord<f64>, seg: u32, passed_over_m: Option<f64>) -> Snap {
        let (t, distance_m, snapped) = self.foot(point, seg);
        let edge = self.seg_chain[seg as usize] as usize;
        let ch = &self.chains[edge];
        let k = (ch.first_point + seg - ch.first_seg) as usize;
        let w = self.cum[k + 1].minus(self.cum[k]);
        let part = Weight {
            distance_cm: (t * w.distance_cm as f64).round() as u64,
            time_ms: (t * w.time_ms as f64).round() as u64,
        };
        let pos = self.cum[k].plus(part);
        let source = self.seg_source[seg as usize];
        let (fraction, before, after) = if source.reversed {
            (1.0 - t, w.minus(part), part)
        } else {
            (t, part, w.minus(part))
        };
        Snap {
            point,
            snapped,
            distance_m,
            edge,
            offset_m: pos.distance_cm as f64 / 100.0,
            road: source.line as usize,
            road_id: self.lines[source.line as usize].id,
            segment: source.seg as usize,
            fraction,
            before,
            after,
            component: self.edge_component(edge),
            passed_over_m,
            seg,
            pos,
            edge_fraction: t,
        }
    }
}
