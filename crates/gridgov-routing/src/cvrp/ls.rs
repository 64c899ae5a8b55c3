//! Granular local search (Vidal 2022, HGS-CVRP): relocate, swap, 2-opt and 2-opt* moves between
//! a client and its closest neighbours, SWAP* between routes in overlapping sectors, with
//! "when last modified" bookkeeping so unchanged route pairs are not tested twice.
#![expect(
    clippy::many_single_char_names,
    reason = "the moves use HGS's notation: u, x = next(u), v, y = next(v) at positions i, j"
)]

use rand::seq::SliceRandom;
use rand::Rng;

use super::data::{Data, Penalties};

const EPS: f64 = 1e-6;

/// A circle sector in pseudo-angle units `0..65536`.
#[derive(Clone, Copy, Debug, Default)]
struct Sector {
    start: i32,
    end: i32,
}

#[inline]
fn pmod(i: i32) -> i32 {
    i.rem_euclid(65536)
}

impl Sector {
    fn encloses(self, p: i32) -> bool {
        pmod(p - self.start) <= pmod(self.end - self.start)
    }

    fn extend(&mut self, p: i32) {
        if !self.encloses(p) {
            if pmod(p - self.end) <= pmod(self.start - p) {
                self.end = p;
            } else {
                self.start = p;
            }
        }
    }

    fn overlaps(self, o: Sector) -> bool {
        pmod(o.start - self.start) <= pmod(self.end - self.start)
            || pmod(self.start - o.start) <= pmod(o.end - o.start)
    }
}

#[derive(Clone, Default)]
struct Route {
    /// Depot, clients, depot.
    visits: Vec<u32>,
    cum_dist: Vec<i64>,
    cum_rev: Vec<i64>,
    cum_load: Vec<i64>,
    dist: i64,
    load: i64,
    excess: i64,
    penalty: f64,
    modified: u64,
    sector: Sector,
}

impl Route {
    fn clients(&self) -> usize {
        self.visits.len() - 2
    }
}

/// The three cheapest places to insert a client into a route (SWAP* preprocessing).
#[derive(Clone, Copy)]
struct BestInsert {
    cost: [f64; 3],
    after: [u32; 3],
    when: i64,
}

impl BestInsert {
    const EMPTY: Self = Self {
        cost: [f64::MAX; 3],
        after: [0; 3],
        when: -1,
    };

    fn add(&mut self, cost: f64, after: u32) {
        if cost >= self.cost[2] {
            return;
        }
        if cost >= self.cost[1] {
            self.cost[2] = cost;
            self.after[2] = after;
        } else if cost >= self.cost[0] {
            self.cost[2] = self.cost[1];
            self.after[2] = self.after[1];
            self.cost[1] = cost;
            self.after[1] = after;
        } else {
            self.cost[2] = self.cost[1];
            self.after[2] = self.after[1];
            self.cost[1] = self.cost[0];
            self.after[1] = self.after[0];
            self.cost[0] = cost;
            self.after[0] = after;
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Move {
    /// Move `len` clients starting at `u` after `v`, reversed or not.
    Relocate { len: usize, rev: bool },
    /// Exchange `lu` clients from `u` with `lv` clients from `v`.
    Swap { lu: usize, lv: usize },
    /// Reverse the clients after `u` up to `v` (same route).
    TwoOpt,
    /// Exchange the tails after `u` and after `v`.
    Star,
    /// Join the head up to `u` with the reversed head up to `v`, and the reversed tails.
    StarRev,
}

pub(crate) struct LocalSearch {
    routes: Vec<Route>,
    route_of: Vec<u32>,
    pos_of: Vec<u32>,
    order: Vec<u32>,
    route_order: Vec<usize>,
    neighbours: Vec<Vec<u32>>,
    last_test_ri: Vec<u64>,
    last_test_star: Vec<u64>,
    best_insert: Vec<BestInsert>,
    removal: Vec<f64>,
    nb_moves: u64,
    pen: Penalties,
    buf_u: Vec<u32>,
    buf_v: Vec<u32>,
    search_completed: bool,
}

impl LocalSearch {
    pub fn new(data: &Data) -> Self {
        let k = data.vehicles;
        Self {
            routes: vec![Route::default(); k],
            route_of: vec![0; data.n],
            pos_of: vec![0; data.n],
            order: data.clients.clone(),
            route_order: (0..k).collect(),
            neighbours: data.neighbours.clone(),
            last_test_ri: vec![0; data.n],
            last_test_star: vec![0; k],
            best_insert: vec![BestInsert::EMPTY; k * data.n],
            removal: vec![0.0; data.n],
            nb_moves: 0,
            pen: Penalties {
                load: 1.0,
                time: 1.0,
            },
            buf_u: Vec::new(),
            buf_v: Vec::new(),
            search_completed: false,
        }
    }

    /// Improves `routes` (at most `data.vehicles` of them) until no move improves the penalised
    /// cost; returns the non-empty routes.
    pub fn run<R: Rng>(
        &mut self,
        data: &Data,
        routes: &[Vec<u32>],
        pen: Penalties,
        rng: &mut R,
    ) -> Vec<Vec<u32>> {
        self.pen = pen;
        self.nb_moves = 0;
        if routes.len() > self.routes.len() {
            let k = routes.len();
            self.routes.resize(k, Route::default());
            self.route_order = (0..k).collect();
            self.last_test_star.resize(k, 0);
            self.best_insert.resize(k * data.n, BestInsert::EMPTY);
        }
        for (r, route) in self.routes.iter_mut().enumerate() {
            route.visits.clear();
            route.visits.push(0);
            if let Some(src) = routes.get(r) {
                route.visits.extend_from_slice(src);
            }
            route.visits.push(0);
        }
        for r in 0..self.routes.len() {
            self.update_route(data, r);
        }
        self.last_test_ri.iter_mut().for_each(|x| *x = 0);
        self.last_test_star.iter_mut().for_each(|x| *x = 0);
        self.best_insert.iter_mut().for_each(|b| b.when = -1);
        self.order.shuffle(rng);
        self.route_order.shuffle(rng);
        for nb in &mut self.neighbours {
            nb.shuffle(rng);
        }
        let use_swap_star = !data.slow && data.angle.is_some();
        self.search_completed = false;
        let mut loop_id = 0u32;
        while !self.search_completed {
            if loop_id > 1 {
                self.search_completed = true;
            }
            for oi in 0..self.order.len() {
                let u = self.order[oi];
                let last_test = self.last_test_ri[u as usize];
                self.last_test_ri[u as usize] = self.nb_moves;
                for ni in 0..self.neighbours[u as usize].len() {
                    let v = self.neighbours[u as usize][ni];
                    let ru = self.route_of[u as usize] as usize;
                    let rv = self.route_of[v as usize] as usize;
                    if loop_id == 0
                        || self.routes[ru].modified.max(self.routes[rv].modified) > last_test
                    {
                        if self.try_client_pair(data, u, v) {
                            continue;
                        }
                        // v is first in its route: also try inserting after the depot.
                        let rv = self.route_of[v as usize] as usize;
                        if self.pos_of[v as usize] == 1 {
                            self.try_depot(data, u, rv, true);
                        }
                    }
                }
                if loop_id > 0 {
                    if let Some(r) = self.routes.iter().position(|r| r.clients() == 0) {
                        self.try_depot(data, u, r, false);
                    }
                }
            }
            if use_swap_star {
                for a in 0..self.route_order.len() {
                    let r1 = self.route_order[a];
                    if self.routes[r1].clients() == 0 {
                        continue;
                    }
                    let last = self.last_test_star[r1];
                    self.last_test_star[r1] = self.nb_moves;
                    for b in 0..self.route_order.len() {
                        let r2 = self.route_order[b];
                        if self.routes[r1].clients() > 0
                            && self.routes[r2].clients() > 0
                            && r2 > r1
                            && (loop_id == 0
                                || self.routes[r1].modified.max(self.routes[r2].modified) > last)
                            && self.routes[r1].sector.overlaps(self.routes[r2].sector)
                        {
                            self.swap_star(data, r1, r2);
                        }
                    }
                }
            }
            loop_id += 1;
        }
        self.routes
            .iter()
            .filter(|r| r.clients() > 0)
            .map(|r| r.visits[1..r.visits.len() - 1].to_vec())
            .collect()
    }

    fn update_route(&mut self, data: &Data, r: usize) {
        self.nb_moves += 1;
        let pen = self.pen;
        let route = &mut self.routes[r];
        let len = route.visits.len();
        route.cum_dist.resize(len, 0);
        route.cum_rev.resize(len, 0);
        route.cum_load.resize(len, 0);
        route.cum_dist[0] = 0;
        route.cum_rev[0] = 0;
        route.cum_load[0] = 0;
        for p in 1..len {
            let a = route.visits[p - 1];
            let b = route.visits[p];
            route.cum_dist[p] = route.cum_dist[p - 1] + data.d(a, b);
            route.cum_rev[p] = route.cum_rev[p - 1] + data.d(b, a);
            route.cum_load[p] = route.cum_load[p - 1] + data.demand[b as usize];
            if p < len - 1 {
                self.route_of[b as usize] = r as u32;
                self.pos_of[b as usize] = p as u32;
            }
        }
        route.dist = route.cum_dist[len - 1];
        route.load = route.cum_load[len - 1];
        if data.slow {
            let e = data.eval_closed(&route.visits);
            route.excess = e.time_excess;
            route.penalty = (e.dist - route.dist) as f64
                + pen.load * e.load_excess as f64
                + pen.time * e.time_excess as f64;
        } else {
            route.excess = 0;
            route.penalty = pen.load * data.load_excess(route.load) as f64;
        }
        route.modified = self.nb_moves;
        if let Some(angle) = &data.angle {
            if len > 2 {
                let a0 = angle[route.visits[1] as usize];
                let mut s = Sector { start: a0, end: a0 };
                for &c in &route.visits[2..len - 1] {
                    s.extend(angle[c as usize]);
                }
                route.sector = s;
            }
        }
    }

    #[inline]
    fn load_pen(&self, data: &Data, load: i64) -> f64 {
        self.pen.load * data.load_excess(load) as f64
    }

    /// Writes the visit sequences after `mv` into `buf_u` (and `buf_v` for two routes).
    fn build(&mut self, mv: Move, ru: usize, i: usize, rv: usize, j: usize) {
        let out_u = &mut self.buf_u;
        let out_v = &mut self.buf_v;
        out_u.clear();
        out_v.clear();
        let u = &self.routes[ru].visits;
        let v = &self.routes[rv].visits;
        match mv {
            Move::Relocate { len, rev } => {
                let seg = &u[i..i + len];
                let push_seg = |out: &mut Vec<u32>| {
                    if rev {
                        out.extend(seg.iter().rev());
                    } else {
                        out.extend_from_slice(seg);
                    }
                };
                if ru == rv {
                    for (p, &c) in u.iter().enumerate() {
                        if p >= i && p < i + len {
                            continue;
                        }
                        out_u.push(c);
                        if p == j {
                            push_seg(out_u);
                        }
                    }
                } else {
                    out_u.extend_from_slice(&u[..i]);
                    out_u.extend_from_slice(&u[i + len..]);
                    out_v.extend_from_slice(&v[..=j]);
                    push_seg(out_v);
                    out_v.extend_from_slice(&v[j + 1..]);
                }
            }
            Move::Swap { lu, lv } => {
                if ru == rv {
                    let mut p = 0;
                    while p < u.len() {
                        if p == i {
                            out_u.extend_from_slice(&u[j..j + lv]);
                            p += lu;
                        } else if p == j {
                            out_u.extend_from_slice(&u[i..i + lu]);
                            p += lv;
                        } else {
                            out_u.push(u[p]);
                            p += 1;
                        }
                    }
                } else {
                    out_u.extend_from_slice(&u[..i]);
                    out_u.extend_from_slice(&v[j..j + lv]);
                    out_u.extend_from_slice(&u[i + lu..]);
                    out_v.extend_from_slice(&v[..j]);
                    out_v.extend_from_slice(&u[i..i + lu]);
                    out_v.extend_from_slice(&v[j + lv..]);
                }
            }
            Move::TwoOpt => {
                out_u.extend_from_slice(&u[..=i]);
                out_u.extend(u[i + 1..=j].iter().rev());
                out_u.extend_from_slice(&u[j + 1..]);
            }
            Move::Star => {
                out_u.extend_from_slice(&u[..=i]);
                out_u.extend_from_slice(&v[j + 1..]);
                out_v.extend_from_slice(&v[..=j]);
                out_v.extend_from_slice(&u[i + 1..]);
            }
            Move::StarRev => {
                out_u.extend_from_slice(&u[..=i]);
                out_u.extend(v[1..=j].iter().rev());
                out_u.push(0);
                out_v.push(0);
                out_v.extend(u[i + 1..u.len() - 1].iter().rev());
                out_v.extend_from_slice(&v[j + 1..]);
            }
        }
    }

    /// Applies `mv`; `dd` is the distance change the move's formula predicted (checked in
    /// debug builds).
    #[expect(clippy::too_many_arguments, reason = "the move's full description")]
    fn apply(&mut self, data: &Data, mv: Move, dd: i64, ru: usize, i: usize, rv: usize, j: usize) {
        let before = self.routes[ru].dist + if ru == rv { 0 } else { self.routes[rv].dist };
        self.build(mv, ru, i, rv, j);
        std::mem::swap(&mut self.routes[ru].visits, &mut self.buf_u);
        self.update_route(data, ru);
        if ru != rv {
            std::mem::swap(&mut self.routes[rv].visits, &mut self.buf_v);
            self.update_route(data, rv);
        }
        let after = self.routes[ru].dist + if ru == rv { 0 } else { self.routes[rv].dist };
        debug_assert_eq!(after - before, dd, "distance change of {mv:?}");
        self.search_completed = false;
    }

    /// Penalised cost of a closed visit sequence.
    fn seq_cost(&self, data: &Data, seq: &[u32]) -> f64 {
        data.eval_closed(seq).penalised(self.pen)
    }

    /// Evaluates (and applies if improving) a move within one route whose distance change is `dd`.
    fn intra(&mut self, data: &Data, mv: Move, dd: i64, ru: usize, i: usize, j: usize) -> bool {
        let delta = if data.slow {
            let (old_dist, old_pen) = (self.routes[ru].dist, self.routes[ru].penalty);
            if dd as f64 >= old_pen - EPS {
                return false;
            }
            self.build(mv, ru, i, ru, j);
            let new = self.seq_cost(data, &self.buf_u);
            new - (old_dist as f64 + old_pen)
        } else {
            dd as f64
        };
        if delta < -EPS {
            self.apply(data, mv, dd, ru, i, ru, j);
            return true;
        }
        false
    }

    /// Evaluates (and applies if improving) a move between two routes, given the distance
    /// changes and the new loads.
    #[expect(
        clippy::too_many_arguments,
        reason = "the move's full description, kept flat for speed"
    )]
    fn inter(
        &mut self,
        data: &Data,
        mv: Move,
        du: i64,
        dv: i64,
        lu: i64,
        lv: i64,
        ru: usize,
        i: usize,
        rv: usize,
        j: usize,
    ) -> bool {
        let old_pen = self.routes[ru].penalty + self.routes[rv].penalty;
        if (du + dv) as f64 >= old_pen - EPS {
            return false;
        }
        let delta = if data.slow {
            let old_dist = self.routes[ru].dist + self.routes[rv].dist;
            self.build(mv, ru, i, rv, j);
            let new = self.seq_cost(data, &self.buf_u) + self.seq_cost(data, &self.buf_v);
            new - (old_dist as f64 + old_pen)
        } else {
            (du + dv) as f64 + self.load_pen(data, lu) + self.load_pen(data, lv) - old_pen
        };
        if delta < -EPS {
            self.apply(data, mv, du + dv, ru, i, rv, j);
            return true;
        }
        false
    }

    /// All moves between client `u` and client `v`, in HGS's order; true once one applied.
    fn try_client_pair(&mut self, data: &Data, u: u32, v: u32) -> bool {
        let ru = self.route_of[u as usize] as usize;
        let rv = self.route_of[v as usize] as usize;
        let i = self.pos_of[u as usize] as usize;
        let j = self.pos_of[v as usize] as usize;
        if self.relocates(data, ru, i, rv, j) || self.swaps(data, ru, i, rv, j) {
            return true;
        }
        if ru == rv {
            self.two_opt(data, ru, i, j)
        } else {
            self.stars(data, ru, i, rv, j)
        }
    }

    /// Moves of `u` after the start depot of route `rv` (moves 1–3, and 2-opt* if `stars`).
    fn try_depot(&mut self, data: &Data, u: u32, rv: usize, with_rev_star: bool) -> bool {
        let ru = self.route_of[u as usize] as usize;
        let i = self.pos_of[u as usize] as usize;
        if self.relocates(data, ru, i, rv, 0) {
            return true;
        }
        if ru != rv {
            if with_rev_star {
                return self.stars(data, ru, i, rv, 0);
            }
            return self.star(data, ru, i, rv, 0);
        }
        false
    }

    fn relocates(&mut self, data: &Data, ru: usize, i: usize, rv: usize, j: usize) -> bool {
        let (uv, vv) = (&self.routes[ru].visits, &self.routes[rv].visits);
        let (pu, u, x) = (uv[i - 1], uv[i], uv[i + 1]);
        let (v, y) = (vv[j], vv[j + 1]);
        let same = ru == rv;
        if same && (j == i || j + 1 == i) {
            return false;
        }
        let qu = data.demand[u as usize];
        let (lu, lv) = (self.routes[ru].load, self.routes[rv].load);
        // Move 1: u after v.
        let du = data.d(pu, x) - data.d(pu, u) - data.d(u, x);
        let dv = data.d(v, u) + data.d(u, y) - data.d(v, y);
        let mv = Move::Relocate { len: 1, rev: false };
        let done = if same {
            self.intra(data, mv, du + dv, ru, i, j)
        } else {
            self.inter(data, mv, du, dv, lu - qu, lv + qu, ru, i, rv, j)
        };
        if done {
            return true;
        }
        if x == 0 || (same && j == i + 1) {
            return false;
        }
        let (uv, vv) = (&self.routes[ru].visits, &self.routes[rv].visits);
        let xx = uv[i + 2];
        let (v, y) = (vv[j], vv[j + 1]);
        let qx = qu + data.demand[x as usize];
        // Move 2: (u, x) after v.
        let du = data.d(pu, xx) - data.d(pu, u) - data.d(x, xx);
        let dv = data.d(v, u) + data.d(x, y) - data.d(v, y);
        let mv = Move::Relocate { len: 2, rev: false };
        let done = if same {
            self.intra(data, mv, du + dv, ru, i, j)
        } else {
            self.inter(data, mv, du, dv, lu - qx, lv + qx, ru, i, rv, j)
        };
        if done {
            return true;
        }
        // Move 3: (x, u) after v.
        let du = data.d(pu, xx) - data.d(pu, u) - data.d(u, x) - data.d(x, xx);
        let dv = data.d(v, x) + data.d(x, u) + data.d(u, y) - data.d(v, y);
        let mv = Move::Relocate { len: 2, rev: true };
        if same {
            self.intra(data, mv, du + dv, ru, i, j)
        } else {
            self.inter(data, mv, du, dv, lu - qx, lv + qx, ru, i, rv, j)
        }
    }

    fn swaps(&mut self, data: &Data, ru: usize, i: usize, rv: usize, j: usize) -> bool {
        let same = ru == rv;
        if j == 0 || (same && (j == i || j == i + 1 || j + 1 == i)) {
            return false;
        }
        let (uv, vv) = (&self.routes[ru].visits, &self.routes[rv].visits);
        let (pu, u, x) = (uv[i - 1], uv[i], uv[i + 1]);
        let (pv, v, y) = (vv[j - 1], vv[j], vv[j + 1]);
        let (qu, qv) = (data.demand[u as usize], data.demand[v as usize]);
        let (lu, lv) = (self.routes[ru].load, self.routes[rv].load);
        // Move 4: swap u and v.
        let du = data.d(pu, v) + data.d(v, x) - data.d(pu, u) - data.d(u, x);
        let dv = data.d(pv, u) + data.d(u, y) - data.d(pv, v) - data.d(v, y);
        let mv = Move::Swap { lu: 1, lv: 1 };
        let done = if same {
            self.intra(data, mv, du + dv, ru, i, j)
        } else {
            self.inter(data, mv, du, dv, lu - qu + qv, lv + qu - qv, ru, i, rv, j)
        };
        if done {
            return true;
        }
        if x == 0 || (same && j == i + 2) {
            return false;
        }
        let xx = self.routes[ru].visits[i + 2];
        let qx = qu + data.demand[x as usize];
        // Move 5: swap (u, x) and v.
        let du = data.d(pu, v) + data.d(v, xx) - data.d(pu, u) - data.d(x, xx);
        let dv = data.d(pv, u) + data.d(x, y) - data.d(pv, v) - data.d(v, y);
        let mv = Move::Swap { lu: 2, lv: 1 };
        let done = if same {
            self.intra(data, mv, du + dv, ru, i, j)
        } else {
            self.inter(data, mv, du, dv, lu - qx + qv, lv + qx - qv, ru, i, rv, j)
        };
        if done {
            return true;
        }
        if y == 0 || (same && j + 2 == i) {
            return false;
        }
        let yy = self.routes[rv].visits[j + 2];
        let qy = qv + data.demand[y as usize];
        // Move 6: swap (u, x) and (v, y).
        let du = data.d(pu, v) + data.d(y, xx) - data.d(pu, u) - data.d(x, xx);
        let dv = data.d(pv, u) + data.d(x, yy) - data.d(pv, v) - data.d(y, yy);
        let mv = Move::Swap { lu: 2, lv: 2 };
        if same {
            self.intra(data, mv, du + dv, ru, i, j)
        } else {
            self.inter(data, mv, du, dv, lu - qx + qy, lv + qx - qy, ru, i, rv, j)
        }
    }

    /// Move 7: reverse the part after `u` up to `v` when `u` comes first.
    fn two_opt(&mut self, data: &Data, ru: usize, i: usize, j: usize) -> bool {
        if j <= i + 1 {
            return false;
        }
        let r = &self.routes[ru];
        let (u, x, v, y) = (r.visits[i], r.visits[i + 1], r.visits[j], r.visits[j + 1]);
        let inner = (r.cum_rev[j] - r.cum_rev[i + 1]) - (r.cum_dist[j] - r.cum_dist[i + 1]);
        let dd = data.d(u, v) + data.d(x, y) - data.d(u, x) - data.d(v, y) + inner;
        self.intra(data, Move::TwoOpt, dd, ru, i, j)
    }

    /// Moves 8 and 9 (2-opt* with and without reversal) between two routes.
    fn stars(&mut self, data: &Data, ru: usize, i: usize, rv: usize, j: usize) -> bool {
        self.star_rev(data, ru, i, rv, j) || self.star(data, ru, i, rv, j)
    }

    fn star_rev(&mut self, data: &Data, ru: usize, i: usize, rv: usize, j: usize) -> bool {
        let (a, b) = (&self.routes[ru], &self.routes[rv]);
        let ka = a.visits.len() - 2;
        let (u, x) = (a.visits[i], a.visits[i + 1]);
        let (v, y) = (b.visits[j], b.visits[j + 1]);
        let new_u = a.cum_dist[i]
            + if j >= 1 {
                data.d(u, v) + (b.cum_rev[j] - b.cum_rev[1]) + data.d(b.visits[1], 0)
            } else {
                data.d(u, 0)
            };
        let new_v = if i < ka {
            data.d(0, a.visits[ka]) + (a.cum_rev[ka] - a.cum_rev[i + 1]) + data.d(x, y)
        } else {
            data.d(0, y)
        } + (b.dist - b.cum_dist[j + 1]);
        let lu = a.cum_load[i] + b.cum_load[j];
        let lv = (a.load - a.cum_load[i]) + (b.load - b.cum_load[j]);
        let (du, dv) = (new_u - a.dist, new_v - b.dist);
        self.inter(data, Move::StarRev, du, dv, lu, lv, ru, i, rv, j)
    }

    fn star(&mut self, data: &Data, ru: usize, i: usize, rv: usize, j: usize) -> bool {
        let (a, b) = (&self.routes[ru], &self.routes[rv]);
        let (u, x) = (a.visits[i], a.visits[i + 1]);
        let (v, y) = (b.visits[j], b.visits[j + 1]);
        let new_u = a.cum_dist[i] + data.d(u, y) + (b.dist - b.cum_dist[j + 1]);
        let new_v = b.cum_dist[j] + data.d(v, x) + (a.dist - a.cum_dist[i + 1]);
        let lu = a.cum_load[i] + b.load - b.cum_load[j];
        let lv = b.cum_load[j] + a.load - a.cum_load[i];
        let (du, dv) = (new_u - a.dist, new_v - b.dist);
        self.inter(data, Move::Star, du, dv, lu, lv, ru, i, rv, j)
    }

    /// Fills the removal gains of route `r1`'s clients and their best insertions into `r2`.
    fn preprocess_insertions(&mut self, data: &Data, r1: usize, r2: usize) {
        let n = data.n;
        let (a, b) = (&self.routes[r1], &self.routes[r2]);
        for p in 1..a.visits.len() - 1 {
            let (pu, u, x) = (a.visits[p - 1], a.visits[p], a.visits[p + 1]);
            self.removal[u as usize] = (data.d(pu, x) - data.d(pu, u) - data.d(u, x)) as f64;
            let slot = &mut self.best_insert[r2 * n + u as usize];
            if slot.when <= b.modified as i64 {
                *slot = BestInsert::EMPTY;
                slot.when = self.nb_moves as i64;
                for q in 0..b.visits.len() - 1 {
                    let (s, t) = (b.visits[q], b.visits[q + 1]);
                    slot.add((data.d(s, u) + data.d(u, t) - data.d(s, t)) as f64, s);
                }
            }
        }
    }

    /// Cheapest insertion of `v` into route `r` when `u` leaves it at the same time; returns
    /// cost and the node to insert after.
    fn cheapest_with_removal(&self, data: &Data, v: u32, r: usize, u: u32) -> (f64, u32) {
        let route = &self.routes[r];
        let p = self.pos_of[u as usize] as usize;
        let (pu, x) = (route.visits[p - 1], route.visits[p + 1]);
        let mut best = ((data.d(pu, v) + data.d(v, x) - data.d(pu, x)) as f64, pu);
        let ins = &self.best_insert[r * data.n + v as usize];
        for k in 0..3 {
            let after = ins.after[k];
            if ins.cost[k] >= best.0 {
                break;
            }
            let q = if after == 0 {
                0
            } else {
                self.pos_of[after as usize] as usize
            };
            if after != u && route.visits[q + 1] != u {
                best = (ins.cost[k], after);
                break;
            }
        }
        best
    }

    /// SWAP* (Vidal 2022): exchange a client of `r1` with one of `r2`, each inserted at its best
    /// place in the other route, not necessarily where the other was; also plain relocations.
    fn swap_star(&mut self, data: &Data, r1: usize, r2: usize) -> bool {
        self.preprocess_insertions(data, r1, r2);
        self.preprocess_insertions(data, r2, r1);
        let (l1, l2) = (self.routes[r1].load, self.routes[r2].load);
        let (pen1, pen2) = (self.routes[r1].penalty, self.routes[r2].penalty);
        let mut best = 0.0;
        // (u, after in r2, v, after in r1), 0 for none; and the predicted distance change.
        let mut chosen: Option<(u32, u32, u32, u32)> = None;
        let mut chosen_dd = 0.0;
        let n = data.n;
        for p in 1..self.routes[r1].visits.len() - 1 {
            let u = self.routes[r1].visits[p];
            let qu = data.demand[u as usize];
            for q in 1..self.routes[r2].visits.len() - 1 {
                let v = self.routes[r2].visits[q];
                let qv = data.demand[v as usize];
                let dpu = self.load_pen(data, l1 - qu + qv) - pen1;
                let dpv = self.load_pen(data, l2 + qu - qv) - pen2;
                if dpu + self.removal[u as usize] + dpv + self.removal[v as usize] <= 0.0 {
                    let (ev, av) = self.cheapest_with_removal(data, v, r1, u);
                    let (eu, au) = self.cheapest_with_removal(data, u, r2, v);
                    let cost =
                        dpu + self.removal[u as usize] + ev + dpv + self.removal[v as usize] + eu;
                    if cost < best - EPS {
                        best = cost;
                        chosen = Some((u, au, v, av));
                        chosen_dd = self.removal[u as usize] + ev + self.removal[v as usize] + eu;
                    }
                }
            }
        }
        // Relocations of one client into the other route.
        for (src, dst, ls, ld) in [(r1, r2, l1, l2), (r2, r1, l2, l1)] {
            let (ps, pd) = (self.routes[src].penalty, self.routes[dst].penalty);
            for p in 1..self.routes[src].visits.len() - 1 {
                let u = self.routes[src].visits[p];
                let qu = data.demand[u as usize];
                let ins = &self.best_insert[dst * n + u as usize];
                let cost = self.removal[u as usize] + ins.cost[0] + self.load_pen(data, ls - qu)
                    - ps
                    + self.load_pen(data, ld + qu)
                    - pd;
                if cost < best - EPS {
                    best = cost;
                    chosen_dd = self.removal[u as usize] + ins.cost[0];
                    chosen = Some(if src == r1 {
                        (u, ins.after[0], 0, 0)
                    } else {
                        (0, 0, u, ins.after[0])
                    });
                }
            }
        }
        let Some((u, au, v, av)) = chosen else {
            return false;
        };
        let before = self.routes[r1].dist + self.routes[r2].dist;
        // Rebuild both routes: r1 loses u and gains v after av; r2 loses v and gains u after au.
        for (r, out_gone, inn, after) in [(r1, u, v, av), (r2, v, u, au)] {
            let buf = &mut self.buf_u;
            buf.clear();
            let visits = &self.routes[r].visits;
            for &c in &visits[..visits.len() - 1] {
                if out_gone != 0 && c == out_gone {
                    continue;
                }
                buf.push(c);
                if inn != 0 && c == after && (c != 0 || buf.len() == 1) {
                    buf.push(inn);
                }
            }
            buf.push(0);
            std::mem::swap(&mut self.routes[r].visits, &mut self.buf_u);
        }
        self.update_route(data, r1);
        self.update_route(data, r2);
        let after = self.routes[r1].dist + self.routes[r2].dist;
        debug_assert_eq!(after - before, chosen_dd as i64, "distance change of SWAP*");
        self.search_completed = false;
        true
    }
}
