//! The problem flattened for speed, time-warp segments and the penalised cost of a route.

use super::problem::Problem;

/// Time-warp segment (Vidal et al. 2013): a visit sequence summarised so that two sequences can
/// be joined in O(1). Times are service-start times.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimeSeg {
    pub first: u32,
    pub last: u32,
    /// Travel, service and unavoidable waiting from the first start to the last end.
    pub duration: i64,
    /// Total lateness (time travelled "back" to meet windows).
    pub time_warp: i64,
    /// Earliest start at the first node without waiting being needed later.
    pub earliest: i64,
    /// Latest start at the first node without adding time warp.
    pub latest: i64,
}

/// Buffers of [`Data::reload_plan`], reused so that evaluating a route does not allocate.
#[derive(Default)]
struct ReloadScratch {
    cum: Vec<i64>,
    f: Vec<i64>,
    pred: Vec<usize>,
    window: std::collections::VecDeque<(usize, i64)>,
}

thread_local! {
    static RELOAD_SCRATCH: std::cell::RefCell<ReloadScratch> = std::cell::RefCell::default();
}

/// What a route costs: distance (with station detours), load excess, time excess.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RouteEval {
    pub dist: i64,
    pub load_excess: i64,
    pub time_excess: i64,
}

impl RouteEval {
    /// The penalised cost under `pen`.
    #[inline]
    pub fn penalised(self, pen: Penalties) -> f64 {
        self.dist as f64 + pen.load * self.load_excess as f64 + pen.time * self.time_excess as f64
    }
}

/// The penalty coefficients of the current search phase.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Penalties {
    /// Per unit of load above capacity.
    pub load: f64,
    /// Per unit of time warp or duration above the limit.
    pub time: f64,
}

/// Flat, solver-friendly copy of a [`Problem`].
pub(crate) struct Data {
    /// Number of nodes, depot included.
    pub n: usize,
    pub dist: Vec<i64>,
    pub time: Vec<i64>,
    pub demand: Vec<i64>,
    pub service: Vec<i64>,
    pub ready: Vec<i64>,
    pub due: Vec<i64>,
    pub capacity: i64,
    pub max_duration: i64,
    /// Whether time windows or a duration limit exist (else time is never computed).
    pub timed: bool,
    /// Whether there are reload stations.
    pub reloading: bool,
    /// Whether moves must be evaluated on the whole new route (time or reloads), not in O(1).
    pub slow: bool,
    /// The clients (nodes that are neither the depot nor a station).
    pub clients: Vec<u32>,
    /// With stations: for each pair `(a, b)`, the extra distance of going from `a` to `b` via
    /// the best station, and that station.
    pub detour: Vec<(i64, u32)>,
    /// Pseudo polar angle of each node around the depot, in `0..65536`, when positions are known.
    pub angle: Option<Vec<i32>>,
    /// Node positions, when all are known.
    pub pos: Option<Vec<[f64; 2]>>,
    /// Granular neighbourhoods: for each client the closest clients.
    pub neighbours: Vec<Vec<u32>>,
    /// Route slots the local search works with.
    pub vehicles: usize,
    pub max_dist: i64,
    pub max_demand: i64,
}

/// A deterministic pseudo-angle (no trigonometry, so identical on every machine) in `0..65536`,
/// monotone in the true polar angle.
pub(crate) fn pseudo_angle(dx: f64, dy: f64) -> i32 {
    if dx == 0.0 && dy == 0.0 {
        return 0;
    }
    let p = dx / (dx.abs() + dy.abs()); // in [-1, 1]
    let a = if dy < 0.0 { 3.0 + p } else { 1.0 - p }; // in [0, 4)
    ((a * 16384.0) as i32).rem_euclid(65536)
}

impl Data {
    pub fn new(problem: &Problem, granular: usize) -> Self {
        let n = problem.dimension();
        let dist = problem.distance.as_slice().to_vec();
        let time = problem.duration.as_slice().to_vec();
        let demand: Vec<i64> = problem.nodes.iter().map(|x| x.demand).collect();
        let service = problem.nodes.iter().map(|x| x.service).collect();
        let ready: Vec<i64> = problem.nodes.iter().map(|x| x.ready).collect();
        let due: Vec<i64> = problem.nodes.iter().map(|x| x.due).collect();
        let timed = problem.is_timed();
        let stations = problem.stations();
        let clients: Vec<u32> = (1..n as u32)
            .filter(|&i| problem.is_client(i as usize))
            .collect();
        let reloading = !stations.is_empty();
        let detour = if reloading {
            let mut table = Vec::with_capacity(n * n);
            for a in 0..n {
                for b in 0..n {
                    let direct = dist[a * n + b];
                    let best = stations
                        .iter()
                        .map(|&st| (dist[a * n + st] + dist[st * n + b] - direct, st as u32))
                        .min()
                        .unwrap_or((0, 0));
                    table.push(best);
                }
            }
            table
        } else {
            Vec::new()
        };
        let pos: Option<Vec<[f64; 2]>> = problem.nodes.iter().map(|x| x.position).collect();
        let angle = if problem.nodes.iter().all(|x| x.position.is_some()) {
            let p = |i: usize| problem.nodes[i].position.unwrap_or([0.0, 0.0]);
            let d = p(0);
            Some(
                (0..n)
                    .map(|i| pseudo_angle(p(i)[0] - d[0], p(i)[1] - d[1]))
                    .collect(),
            )
        } else {
            None
        };
        let capacity = problem.fleet.capacity;
        let total: i64 = clients.iter().map(|&c| demand[c as usize]).sum();
        let max_demand = demand.iter().copied().max().unwrap_or(0);
        let max_dist = dist.iter().copied().max().unwrap_or(0);
        let mut data = Self {
            n,
            dist,
            time,
            demand,
            service,
            ready,
            due,
            capacity,
            max_duration: problem.fleet.max_duration.unwrap_or(i64::MAX / 4),
            timed,
            reloading,
            slow: timed || reloading,
            clients,
            detour,
            angle,
            pos,
            neighbours: Vec::new(),
            vehicles: 0,
            max_dist,
            max_demand,
        };
        // Vidal's HGS: ceil(1.3 × total demand / capacity) + 3 route slots when unlimited.
        let estimate = if capacity > 0 {
            ((1.3 * total as f64 / capacity as f64).ceil() as usize) + 3
        } else {
            n
        };
        data.vehicles = match problem.fleet.vehicles {
            Some(k) => k,
            None => estimate.min(n.saturating_sub(1)).max(1),
        };
        data.neighbours = data.granular_neighbours(granular);
        data
    }

    #[inline]
    pub fn d(&self, a: u32, b: u32) -> i64 {
        self.dist[a as usize * self.n + b as usize]
    }

    #[inline]
    pub fn t(&self, a: u32, b: u32) -> i64 {
        self.time[a as usize * self.n + b as usize]
    }

    /// Proximity for the granular neighbourhood: distance, plus (with time windows) the waiting
    /// and lateness forced by visiting `j` right after `i`, as in `PyVRP`.
    fn proximity(&self, i: usize, j: usize) -> f64 {
        let d = self.dist[i * self.n + j] as f64;
        if !self.timed {
            return d;
        }
        let t = self.time[i * self.n + j];
        let wait = (self.ready[j] - t - self.service[i] - self.due[i]).max(0);
        let warp = (self.ready[i] + self.service[i] + t - self.due[j]).max(0);
        d + 0.2 * wait as f64 + warp as f64
    }

    fn granular_neighbours(&self, granular: usize) -> Vec<Vec<u32>> {
        let n = self.n;
        let mut sets: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut order: Vec<(f64, u32)> = Vec::with_capacity(n);
        for &ci in &self.clients {
            let i = ci as usize;
            order.clear();
            for &cj in &self.clients {
                let j = cj as usize;
                if j != i {
                    let p = self.proximity(i, j).min(self.proximity(j, i));
                    order.push((p, cj));
                }
            }
            order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(_, j) in order.iter().take(granular) {
                sets[i].push(j);
                sets[j as usize].push(i as u32);
            }
        }
        for s in &mut sets {
            s.sort_unstable();
            s.dedup();
        }
        sets
    }

    #[inline]
    pub fn node_seg(&self, i: u32) -> TimeSeg {
        let k = i as usize;
        TimeSeg {
            first: i,
            last: i,
            duration: self.service[k],
            time_warp: 0,
            earliest: self.ready[k],
            latest: self.due[k],
        }
    }

    #[inline]
    pub fn merge(&self, a: &TimeSeg, b: &TimeSeg) -> TimeSeg {
        let travel = self.t(a.last, b.first);
        let delta = a.duration - a.time_warp + travel;
        let wait = (b.earliest - delta - a.latest).max(0);
        let warp = (a.earliest + delta - b.latest).max(0);
        TimeSeg {
            first: a.first,
            last: b.last,
            duration: a.duration + b.duration + travel + wait,
            time_warp: a.time_warp + b.time_warp + warp,
            earliest: (b.earliest - delta).max(a.earliest) - wait,
            latest: (b.latest - delta).min(a.latest) + warp,
        }
    }

    /// Time warp plus excess duration of a closed route segment.
    #[inline]
    pub fn time_excess(&self, seg: &TimeSeg) -> i64 {
        seg.time_warp + (seg.duration - self.max_duration).max(0)
    }

    #[inline]
    pub fn load_excess(&self, load: i64) -> i64 {
        (load - self.capacity).max(0)
    }

    /// Distance (with station detours), load excess and time excess of the route depot →
    /// `visits` → depot; with stations, the trips are cut where the detours are cheapest (and
    /// there is then no load excess).
    pub fn eval_route(&self, visits: &[u32]) -> RouteEval {
        if self.reloading {
            let (detour, cuts) = self.reload_plan(visits, self.timed);
            let load_excess = 0;
            let plain = self.plain_distance(visits);
            let time_excess = if self.timed {
                self.time_with_stations(visits, &cuts)
            } else {
                0
            };
            return RouteEval {
                dist: plain + detour,
                load_excess,
                time_excess,
            };
        }
        let mut dist = 0;
        let mut load = 0;
        let mut prev = 0u32;
        let mut seg = self.node_seg(0);
        for &c in visits {
            dist += self.d(prev, c);
            load += self.demand[c as usize];
            if self.timed {
                seg = self.merge(&seg, &self.node_seg(c));
            }
            prev = c;
        }
        dist += self.d(prev, 0);
        let time_excess = if self.timed {
            self.time_excess(&self.merge(&seg, &self.node_seg(0)))
        } else {
            0
        };
        RouteEval {
            dist,
            load_excess: self.load_excess(load),
            time_excess,
        }
    }

    fn plain_distance(&self, visits: &[u32]) -> i64 {
        let mut prev = 0;
        let mut dist = 0;
        for &c in visits {
            dist += self.d(prev, c);
            prev = c;
        }
        dist + self.d(prev, 0)
    }

    /// Time excess of depot → `visits` → depot with the best station before each cut position.
    fn time_with_stations(&self, visits: &[u32], cuts: &[usize]) -> i64 {
        let mut seg = self.node_seg(0);
        let mut next_cut = cuts.iter().peekable();
        for (p, &c) in visits.iter().enumerate() {
            if next_cut.peek() == Some(&&p) {
                next_cut.next();
                let station = self.detour[visits[p - 1] as usize * self.n + c as usize].1;
                seg = self.merge(&seg, &self.node_seg(station));
            }
            seg = self.merge(&seg, &self.node_seg(c));
        }
        self.time_excess(&self.merge(&seg, &self.node_seg(0)))
    }

    /// The cheapest way to cut `visits` into trips of at most the capacity, separated by
    /// station visits: returns the total detour and (if `with_cuts`) the positions `j` such
    /// that a station comes right before `visits[j]`. A sliding-window minimum makes it O(len).
    pub fn reload_plan(&self, visits: &[u32], with_cuts: bool) -> (i64, Vec<usize>) {
        let k = visits.len();
        if k == 0 {
            return (0, Vec::new());
        }
        let det = |j: usize| {
            if j == 0 {
                0
            } else {
                self.detour[visits[j - 1] as usize * self.n + visits[j] as usize].0
            }
        };
        RELOAD_SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let ReloadScratch {
                cum,
                f,
                pred,
                window,
            } = &mut *scratch;
            cum.clear();
            cum.push(0i64);
            for &c in visits {
                cum.push(cum[cum.len() - 1] + self.demand[c as usize]);
            }
            // f[i]: cheapest detours serving visits[..i] with a trip ending at i; a trip starting
            // at j costs det(j); candidates j (with g = f[j] + det(j)) kept increasing in a deque.
            f.clear();
            f.resize(k + 1, 0);
            pred.clear();
            pred.resize(k + 1, 0);
            window.clear();
            for i in 1..=k {
                let g = f[i - 1] + det(i - 1);
                while window.back().is_some_and(|&(_, b)| b >= g) {
                    window.pop_back();
                }
                window.push_back((i - 1, g));
                // Drop trips over capacity (the newest, a single client, always stays).
                while window.len() > 1
                    && window
                        .front()
                        .is_some_and(|&(j, _)| cum[i] - cum[j] > self.capacity)
                {
                    window.pop_front();
                }
                let (j, best) = window.front().copied().unwrap_or((i - 1, g));
                f[i] = best;
                pred[i] = j;
            }
            let mut cuts = Vec::new();
            if with_cuts {
                let mut i = k;
                while i > 0 {
                    let j = pred[i];
                    if j > 0 {
                        cuts.push(j);
                    }
                    i = j;
                }
                cuts.reverse();
            }
            (f[k], cuts)
        })
    }

    /// `visits` with the stations of the cheapest trip plan inserted (unchanged without
    /// stations).
    pub fn expand(&self, visits: &[u32]) -> Vec<u32> {
        if !self.reloading || visits.is_empty() {
            return visits.to_vec();
        }
        let (_, cuts) = self.reload_plan(visits, true);
        let mut out = Vec::with_capacity(visits.len() + cuts.len() + 1);
        let mut next_cut = cuts.iter().peekable();
        for (p, &c) in visits.iter().enumerate() {
            if next_cut.peek() == Some(&&p) {
                next_cut.next();
                out.push(self.detour[visits[p - 1] as usize * self.n + c as usize].1);
            }
            out.push(c);
        }
        out
    }

    /// Evaluation of a full sequence including both depots.
    pub fn eval_closed(&self, visits: &[u32]) -> RouteEval {
        self.eval_route(&visits[1..visits.len() - 1])
    }
}
