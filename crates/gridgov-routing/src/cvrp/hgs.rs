//! The hybrid genetic search (Vidal 2022, HGS-CVRP): population of giant tours, OX crossover,
//! Split, local search, penalised infeasibility with adaptive penalties, biased fitness.

use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::data::{Data, Penalties};
use super::ls::LocalSearch;
use super::problem::{Problem, ProblemError};
use super::solution::Solution;
use super::split::split;

/// Tuning of the genetic search; the defaults are HGS-CVRP's.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// How many nearest neighbours each client's moves consider (Γ).
    pub granular: usize,
    /// Smallest size of each sub-population (μ).
    pub min_population: usize,
    /// How many offspring a sub-population takes before survivor selection (λ).
    pub generation_size: usize,
    /// How many of the best individuals keep their rank whatever their diversity.
    pub elite: usize,
    /// How many closest individuals measure an individual's diversity.
    pub close: usize,
    /// The share of local-search results that should be feasible; penalties adapt to it.
    pub target_feasible: f64,
    /// Offspring without improvement of the best solution before the population restarts.
    pub restart_after: u64,
    /// Probability of repairing an infeasible offspring with ten-fold penalties.
    pub repair_probability: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            granular: 20,
            min_population: 25,
            generation_size: 40,
            elite: 4,
            close: 5,
            target_feasible: 0.2,
            restart_after: 20_000,
            repair_probability: 0.5,
        }
    }
}

/// When to stop and how to search.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Seed of the random generator: the same seed and iteration budget give the same solution.
    pub seed: u64,
    /// Stop after this much wall-clock time (this makes the result depend on the machine).
    pub time_limit: Option<Duration>,
    /// Stop after this many offspring (the initial population counts).
    pub max_iterations: Option<u64>,
    /// Search parameters.
    pub params: Params,
}

impl Default for Options {
    /// Seed 0, no time limit and no iteration budget: the search then stops once
    /// [`Params::restart_after`] offspring in a row brought no improvement.
    fn default() -> Self {
        Self {
            seed: 0,
            time_limit: None,
            max_iterations: None,
            params: Params::default(),
        }
    }
}

/// The state of a running search, as reported to the progress callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Time since the search started.
    pub elapsed: Duration,
    /// Offspring produced so far.
    pub iterations: u64,
    /// The cost of the best feasible solution so far, if any.
    pub best_cost: Option<i64>,
}

struct Individual {
    id: u64,
    giant: Vec<u32>,
    routes: Vec<Vec<u32>>,
    dist: i64,
    load_excess: i64,
    time_excess: i64,
    penalised: f64,
    /// With stations: the routes with the stations of their trip plan.
    expanded: Vec<Vec<u32>>,
    succ: Vec<u32>,
    pred: Vec<u32>,
    /// Broken-pairs distances to the others of its sub-population, closest first.
    prox: Vec<(f64, u64)>,
    biased: f64,
}

impl Individual {
    fn new(data: &Data, pen: Penalties, mut routes: Vec<Vec<u32>>, id: u64) -> Self {
        routes.retain(|r| !r.is_empty());
        if let Some(pos) = &data.pos {
            // Order routes by the direction of their barycentre, as HGS does.
            let key = |r: &Vec<u32>| {
                let (mut x, mut y) = (0.0, 0.0);
                for &c in r {
                    x += pos[c as usize][0];
                    y += pos[c as usize][1];
                }
                let k = r.len() as f64;
                super::data::pseudo_angle(x / k - pos[0][0], y / k - pos[0][1])
            };
            routes.sort_by_cached_key(key);
        }
        let mut ind = Self {
            id,
            giant: routes.concat(),
            routes,
            dist: 0,
            load_excess: 0,
            time_excess: 0,
            penalised: 0.0,
            expanded: Vec::new(),
            succ: vec![0; data.n],
            pred: vec![0; data.n],
            prox: Vec::new(),
            biased: 0.0,
        };
        for r in &ind.routes {
            let e = data.eval_route(r);
            ind.dist += e.dist;
            ind.load_excess += e.load_excess;
            ind.time_excess += e.time_excess;
            if data.reloading {
                ind.expanded.push(data.expand(r));
            }
            let mut prev = 0;
            for &c in r {
                ind.pred[c as usize] = prev;
                if prev != 0 {
                    ind.succ[prev as usize] = c;
                }
                prev = c;
            }
            ind.succ[prev as usize] = 0;
        }
        ind.recost(pen);
        ind
    }

    fn recost(&mut self, pen: Penalties) {
        self.penalised = self.dist as f64
            + pen.load * self.load_excess as f64
            + pen.time * self.time_excess as f64;
    }

    fn feasible(&self) -> bool {
        self.load_excess == 0 && self.time_excess == 0
    }

    fn broken_pairs(&self, other: &Self) -> f64 {
        let n = self.succ.len();
        let mut diff = 0usize;
        for j in 1..n {
            if self.succ[j] != other.succ[j] && self.succ[j] != other.pred[j] {
                diff += 1;
            }
            if self.pred[j] == 0 && other.pred[j] != 0 && other.succ[j] != 0 {
                diff += 1;
            }
        }
        diff as f64 / (n - 1).max(1) as f64
    }

    fn avg_closest(&self, k: usize) -> f64 {
        let m = k.min(self.prox.len());
        if m == 0 {
            return 1.0;
        }
        self.prox[..m].iter().map(|p| p.0).sum::<f64>() / m as f64
    }
}

#[derive(Default)]
struct SubPop {
    /// Sorted by penalised cost.
    inds: Vec<Individual>,
}

impl SubPop {
    fn add(&mut self, ind: Individual) {
        let mut ind = ind;
        for other in &mut self.inds {
            let d = ind.broken_pairs(other);
            let at = other.prox.partition_point(|p| p.0 <= d);
            other.prox.insert(at, (d, ind.id));
            let at = ind.prox.partition_point(|p| p.0 <= d);
            ind.prox.insert(at, (d, other.id));
        }
        let at = self.inds.partition_point(|o| o.penalised <= ind.penalised);
        self.inds.insert(at, ind);
    }

    fn remove(&mut self, idx: usize) {
        let gone = self.inds.remove(idx);
        for other in &mut self.inds {
            if let Some(p) = other.prox.iter().position(|p| p.1 == gone.id) {
                other.prox.remove(p);
            }
        }
    }

    fn update_biased(&mut self, params: &Params) {
        let size = self.inds.len();
        if size <= 1 {
            if let Some(only) = self.inds.first_mut() {
                only.biased = 0.0;
            }
            return;
        }
        let mut ranking: Vec<(f64, usize)> = self
            .inds
            .iter()
            .enumerate()
            .map(|(i, ind)| (-ind.avg_closest(params.close), i))
            .collect();
        ranking.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let denom = (size - 1) as f64;
        for (div_rank, &(_, i)) in ranking.iter().enumerate() {
            let div = div_rank as f64 / denom;
            let fit = i as f64 / denom;
            self.inds[i].biased = if size <= params.elite {
                fit
            } else {
                fit + (1.0 - params.elite as f64 / size as f64) * div
            };
        }
    }

    fn survivors(&mut self, params: &Params) {
        while self.inds.len() > params.min_population {
            self.update_biased(params);
            let mut worst = 1;
            let mut worst_clone = false;
            let mut worst_fit = -1.0;
            for i in 1..self.inds.len() {
                let clone = self.inds[i].avg_closest(1) < 1e-9;
                if (clone && !worst_clone)
                    || (clone == worst_clone && self.inds[i].biased > worst_fit)
                {
                    worst = i;
                    worst_clone = clone;
                    worst_fit = self.inds[i].biased;
                }
            }
            self.remove(worst);
        }
    }
}

struct Search<'a> {
    data: &'a Data,
    params: Params,
    rng: ChaCha8Rng,
    ls: LocalSearch,
    pen: Penalties,
    feasible: SubPop,
    infeasible: SubPop,
    next_id: u64,
    /// Best feasible of the current run (since the last restart), for the stall counter.
    run_best: f64,
    best: Option<Individual>,
    best_infeasible: Option<Individual>,
    load_ok: Vec<bool>,
    time_ok: Vec<bool>,
}

impl Search<'_> {
    fn make(&mut self, routes: &[Vec<u32>], pen: Penalties) -> Individual {
        let routes = self.ls.run(self.data, routes, pen, &mut self.rng);
        self.next_id += 1;
        Individual::new(self.data, self.pen, routes, self.next_id)
    }

    /// Adds an individual; true if it is a new best feasible of the current run.
    fn add(&mut self, ind: Individual) -> bool {
        let improved = ind.feasible() && ind.penalised < self.run_best - 1e-6;
        if ind.feasible() {
            if improved {
                self.run_best = ind.penalised;
            }
            if self.best.as_ref().is_none_or(|b| ind.dist < b.dist) {
                self.best = Some(clone_ind(&ind));
            }
            self.feasible.add(ind);
            if self.feasible.inds.len() > self.params.min_population + self.params.generation_size {
                self.feasible.survivors(&self.params);
            }
        } else {
            if self
                .best_infeasible
                .as_ref()
                .is_none_or(|b| ind.penalised < b.penalised)
            {
                self.best_infeasible = Some(clone_ind(&ind));
            }
            self.infeasible.add(ind);
            if self.infeasible.inds.len() > self.params.min_population + self.params.generation_size
            {
                self.infeasible.survivors(&self.params);
            }
        }
        improved
    }

    /// Local search, feasibility statistics, insertion and repair of one new giant tour.
    fn offspring(&mut self, giant: &[u32]) -> bool {
        let routes = split(self.data, self.pen, giant);
        let ind = self.make(&routes, self.pen);
        self.load_ok.push(ind.load_excess == 0);
        self.time_ok.push(ind.time_excess == 0);
        let feasible = ind.feasible();
        let repair_routes = if feasible {
            None
        } else {
            Some(ind.routes.clone())
        };
        let mut improved = self.add(ind);
        if let Some(routes) = repair_routes {
            if self.rng.gen_bool(self.params.repair_probability) {
                let strong = Penalties {
                    load: self.pen.load * 10.0,
                    time: self.pen.time * 10.0,
                };
                let repaired = self.make(&routes, strong);
                if repaired.feasible() {
                    improved |= self.add(repaired);
                }
            }
        }
        improved
    }

    fn random_giant(&mut self) -> Vec<u32> {
        let mut g = self.data.clients.clone();
        g.shuffle(&mut self.rng);
        g
    }

    fn tournament(&mut self) -> usize {
        let total = self.feasible.inds.len() + self.infeasible.inds.len();
        let a = self.rng.gen_range(0..total);
        let b = self.rng.gen_range(0..total);
        let fit = |s: &Self, i: usize| {
            if i < s.feasible.inds.len() {
                s.feasible.inds[i].biased
            } else {
                s.infeasible.inds[i - s.feasible.inds.len()].biased
            }
        };
        if fit(self, a) < fit(self, b) {
            a
        } else {
            b
        }
    }

    fn giant_of(&self, i: usize) -> &[u32] {
        if i < self.feasible.inds.len() {
            &self.feasible.inds[i].giant
        } else {
            &self.infeasible.inds[i - self.feasible.inds.len()].giant
        }
    }

    #[expect(
        clippy::many_single_char_names,
        reason = "the usual notation of OX crossover"
    )]
    fn crossover(&mut self) -> Vec<u32> {
        self.feasible.update_biased(&self.params);
        self.infeasible.update_biased(&self.params);
        let a = self.tournament();
        let b = self.tournament();
        let n = self.data.clients.len();
        if n < 2 {
            return self.giant_of(a).to_vec();
        }
        let start = self.rng.gen_range(0..n);
        let mut end = self.rng.gen_range(0..n);
        while end == start {
            end = self.rng.gen_range(0..n);
        }
        let (p1, p2) = (self.giant_of(a), self.giant_of(b));
        let mut child = vec![0u32; n];
        let mut taken = vec![false; self.data.n];
        let mut j = start;
        while j % n != (end + 1) % n {
            child[j % n] = p1[j % n];
            taken[p1[j % n] as usize] = true;
            j += 1;
        }
        for i in 1..=n {
            let c = p2[(end + i) % n];
            if !taken[c as usize] {
                child[j % n] = c;
                j += 1;
            }
        }
        child
    }

    fn manage_penalties(&mut self) {
        let adapt = |ok: &[bool], value: f64, target: f64| {
            if ok.is_empty() {
                return value;
            }
            let frac = ok.iter().filter(|&&b| b).count() as f64 / ok.len() as f64;
            if frac < target - 0.05 {
                (value * 1.2).min(100_000.0)
            } else if frac > target + 0.05 {
                (value * 0.85).max(0.1)
            } else {
                value
            }
        };
        self.pen.load = adapt(&self.load_ok, self.pen.load, self.params.target_feasible);
        if self.data.timed {
            self.pen.time = adapt(&self.time_ok, self.pen.time, self.params.target_feasible);
        }
        self.load_ok.clear();
        self.time_ok.clear();
        let pen = self.pen;
        for ind in &mut self.infeasible.inds {
            ind.recost(pen);
        }
        self.infeasible
            .inds
            .sort_by(|a, b| a.penalised.total_cmp(&b.penalised));
    }
}

fn clone_ind(ind: &Individual) -> Individual {
    Individual {
        id: ind.id,
        giant: ind.giant.clone(),
        routes: ind.routes.clone(),
        dist: ind.dist,
        load_excess: ind.load_excess,
        time_excess: ind.time_excess,
        penalised: ind.penalised,
        expanded: ind.expanded.clone(),
        succ: ind.succ.clone(),
        pred: ind.pred.clone(),
        prox: Vec::new(),
        biased: 0.0,
    }
}

/// Runs the hybrid genetic search on a validated problem.
pub(crate) fn run(
    problem: &Problem,
    options: &Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Solution, ProblemError> {
    problem.validate()?;
    let started = Instant::now();
    let params = options.params.clone();
    let data = Data::new(problem, params.granular);
    let initial_load = (data.max_dist as f64 / data.max_demand.max(1) as f64).clamp(0.1, 1000.0);
    let mut s = Search {
        data: &data,
        ls: LocalSearch::new(&data),
        rng: ChaCha8Rng::seed_from_u64(options.seed),
        pen: Penalties {
            load: initial_load,
            time: 1.0,
        },
        feasible: SubPop::default(),
        infeasible: SubPop::default(),
        next_id: 0,
        run_best: f64::INFINITY,
        best: None,
        best_infeasible: None,
        load_ok: Vec::new(),
        time_ok: Vec::new(),
        params,
    };
    let mut iterations = 0u64;
    let mut stall = 0u64;
    let mut since_penalties = 0u32;
    let mut last_report = started;
    let report_every = Duration::from_millis(250);
    let stop = |it: u64, stall: u64| {
        if options.max_iterations.is_some_and(|m| it >= m)
            || options.time_limit.is_some_and(|t| started.elapsed() >= t)
        {
            return true;
        }
        options.max_iterations.is_none()
            && options.time_limit.is_none()
            && stall >= s_restart(options)
    };
    let mut initialised = false;
    loop {
        if stop(iterations, stall) {
            break;
        }
        if !initialised {
            // Initial population: 4μ random giant tours.
            for _ in 0..4 * s.params.min_population {
                if stop(iterations, stall) {
                    break;
                }
                let giant = s.random_giant();
                s.offspring(&giant);
                iterations += 1;
            }
            initialised = true;
            continue;
        }
        let child = s.crossover();
        let improved = s.offspring(&child);
        iterations += 1;
        stall = if improved { 0 } else { stall + 1 };
        since_penalties += 1;
        if since_penalties == 100 {
            since_penalties = 0;
            s.manage_penalties();
        }
        if (options.max_iterations.is_some() || options.time_limit.is_some())
            && stall >= s.params.restart_after
        {
            s.feasible = SubPop::default();
            s.infeasible = SubPop::default();
            s.run_best = f64::INFINITY;
            stall = 0;
            initialised = false;
        }
        if last_report.elapsed() >= report_every {
            last_report = Instant::now();
            progress(&Progress {
                elapsed: started.elapsed(),
                iterations,
                best_cost: s.best.as_ref().map(|b| b.dist),
            });
        }
    }
    if s.best.is_none() {
        // Nothing feasible within the budget: a last repair of the least infeasible solution
        // with ever stronger penalties.
        if let Some(routes) = s.best_infeasible.as_ref().map(|b| b.routes.clone()) {
            for factor in [10.0, 100.0, 1000.0, 10_000.0] {
                let strong = Penalties {
                    load: s.pen.load * factor,
                    time: s.pen.time * factor,
                };
                let repaired = s.make(&routes, strong);
                if repaired.feasible() {
                    s.best = Some(repaired);
                    break;
                }
            }
        }
    }
    progress(&Progress {
        elapsed: started.elapsed(),
        iterations,
        best_cost: s.best.as_ref().map(|b| b.dist),
    });
    let (ind, feasible) = match (s.best, s.best_infeasible) {
        (Some(b), _) => (b, true),
        (None, Some(b)) => (b, false),
        (None, None) => {
            // No offspring at all (a zero budget): one Split of the identity tour, with
            // penalties high enough to avoid any excess Split can avoid.
            let tour = data.clients.clone();
            let strong = Penalties {
                load: 1e9,
                time: 1e9,
            };
            let routes = split(&data, strong, &tour);
            let ind = Individual::new(&data, s.pen, routes, 0);
            let f = ind.feasible();
            (ind, f)
        }
    };
    let routes = if data.reloading {
        &ind.expanded
    } else {
        &ind.routes
    };
    Ok(Solution {
        routes: routes
            .iter()
            .map(|r| r.iter().map(|&c| c as usize).collect())
            .collect(),
        cost: ind.dist,
        feasible,
        iterations,
    })
}

fn s_restart(options: &Options) -> u64 {
    options.params.restart_after
}
