//! Split: the optimal cutting of a giant tour into routes (Prins 2004; Vidal 2016), with the
//! penalised cost so that slightly overloaded routes remain possible.

use super::data::{Data, Penalties, RouteEval};

/// Cuts `tour` (clients) into routes minimising the penalised cost; respects the fleet limit
/// when there is one (then possibly with more penalty).
pub(crate) fn split(data: &Data, pen: Penalties, tour: &[u32]) -> Vec<Vec<u32>> {
    let unlimited = split_unlimited(data, pen, tour);
    // Like HGS, the route slots bound Split even for an unlimited fleet (the local search
    // grows its slots if the bounded Split fails).
    match Some(data.vehicles) {
        Some(k) if unlimited.len() > k => split_limited(data, pen, tour, k, true)
            .or_else(|| split_limited(data, pen, tour, k, false))
            .unwrap_or(unlimited),
        _ => unlimited,
    }
}

/// The penalised cost of the route `tour[start..end]`, extended one client at a time.
struct Extender<'a> {
    data: &'a Data,
    pen: Penalties,
    first: u32,
    last: u32,
    inner: i64,
    load: i64,
    seg: super::data::TimeSeg,
    /// The clients so far, kept only with stations (whose trips need the whole route).
    visits: Vec<u32>,
}

impl<'a> Extender<'a> {
    fn new(data: &'a Data, pen: Penalties, c: u32) -> Self {
        let seg = if data.timed {
            data.merge(&data.node_seg(0), &data.node_seg(c))
        } else {
            data.node_seg(c)
        };
        Self {
            data,
            pen,
            first: c,
            last: c,
            inner: 0,
            load: data.demand[c as usize],
            seg,
            visits: if data.reloading { vec![c] } else { Vec::new() },
        }
    }

    fn push(&mut self, c: u32) {
        self.inner += self.data.d(self.last, c);
        self.load += self.data.demand[c as usize];
        if self.data.timed {
            self.seg = self.data.merge(&self.seg, &self.data.node_seg(c));
        }
        self.last = c;
        if self.data.reloading {
            self.visits.push(c);
        }
    }

    /// Whether the route is long enough that Split should not extend it: 1.5 × capacity, or
    /// with stations twice the average number of clients per vehicle.
    fn full(&self) -> bool {
        let d = self.data;
        if d.reloading {
            self.visits.len() >= (2 * d.clients.len()).div_ceil(d.vehicles.max(1))
        } else {
            self.load > d.capacity.saturating_mul(3) / 2
        }
    }

    fn cost(&self) -> f64 {
        let d = self.data;
        if d.reloading {
            return d.eval_route(&self.visits).penalised(self.pen);
        }
        let dist = d.d(0, self.first) + self.inner + d.d(self.last, 0);
        let excess = if d.timed {
            d.time_excess(&d.merge(&self.seg, &d.node_seg(0)))
        } else {
            0
        };
        let e = RouteEval {
            dist,
            load_excess: d.load_excess(self.load),
            time_excess: excess,
        };
        e.penalised(self.pen)
    }
}

fn split_unlimited(data: &Data, pen: Penalties, tour: &[u32]) -> Vec<Vec<u32>> {
    let n = tour.len();
    let mut pot = vec![f64::INFINITY; n + 1];
    let mut pred = vec![0usize; n + 1];
    pot[0] = 0.0;
    for start in 0..n {
        if pot[start].is_infinite() {
            continue;
        }
        let mut ext = Extender::new(data, pen, tour[start]);
        let mut end = start + 1;
        loop {
            let c = pot[start] + ext.cost();
            if c < pot[end] {
                pot[end] = c;
                pred[end] = start;
            }
            if end == n || ext.full() {
                break;
            }
            ext.push(tour[end]);
            end += 1;
        }
    }
    let mut routes = Vec::new();
    let mut end = n;
    while end > 0 {
        let start = pred[end];
        routes.push(tour[start..end].to_vec());
        end = start;
    }
    routes.reverse();
    routes
}

fn split_limited(
    data: &Data,
    pen: Penalties,
    tour: &[u32],
    k: usize,
    bounded: bool,
) -> Option<Vec<Vec<u32>>> {
    let n = tour.len();
    let w = n + 1;
    let mut pot = vec![f64::INFINITY; (k + 1) * w];
    let mut pred = vec![0usize; (k + 1) * w];
    pot[0] = 0.0;
    for r in 0..k {
        for start in r..n {
            let base = pot[r * w + start];
            if base.is_infinite() {
                continue;
            }
            let mut ext = Extender::new(data, pen, tour[start]);
            let mut end = start + 1;
            loop {
                let c = base + ext.cost();
                if c < pot[(r + 1) * w + end] {
                    pot[(r + 1) * w + end] = c;
                    pred[(r + 1) * w + end] = start;
                }
                if end == n || (bounded && ext.full()) {
                    break;
                }
                ext.push(tour[end]);
                end += 1;
            }
        }
    }
    let best = (1..=k).min_by(|&a, &b| pot[a * w + n].total_cmp(&pot[b * w + n]))?;
    if pot[best * w + n].is_infinite() {
        return None;
    }
    let mut routes = Vec::new();
    let mut end = n;
    let mut r = best;
    while r > 0 {
        let start = pred[r * w + end];
        routes.push(tour[start..end].to_vec());
        end = start;
        r -= 1;
    }
    routes.reverse();
    Some(routes)
}
