//! The routing problem as the solver sees it: integer matrices, nodes and the fleet.

use thiserror::Error;

/// A time far in the future, used as the default end of every time window.
///
/// Large enough never to bind, small enough that sums of a few of them cannot overflow `i64`.
pub const HORIZON: i64 = 1 << 50;

/// A square matrix of integer costs (distances or travel times), stored row-major.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matrix {
    dimension: usize,
    data: Vec<i64>,
}

impl Matrix {
    /// A `dimension` × `dimension` matrix of zeros.
    pub fn zeros(dimension: usize) -> Self {
        Self {
            dimension,
            data: vec![0; dimension * dimension],
        }
    }

    /// A matrix whose entry `(from, to)` is `f(from, to)`.
    pub fn from_fn(dimension: usize, mut f: impl FnMut(usize, usize) -> i64) -> Self {
        let mut data = Vec::with_capacity(dimension * dimension);
        for from in 0..dimension {
            for to in 0..dimension {
                data.push(f(from, to));
            }
        }
        Self { dimension, data }
    }

    /// A matrix from its rows laid end to end; fails unless `data.len()` is `dimension²`.
    pub fn from_row_major(dimension: usize, data: Vec<i64>) -> Result<Self, ProblemError> {
        if data.len() != dimension * dimension {
            return Err(ProblemError::MatrixSize {
                dimension,
                len: data.len(),
            });
        }
        Ok(Self { dimension, data })
    }

    /// The number of rows (and columns).
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The entry from `from` to `to`. Panics if either is out of range.
    #[inline]
    pub fn get(&self, from: usize, to: usize) -> i64 {
        self.data[from * self.dimension + to]
    }

    /// Sets the entry from `from` to `to`. Panics if either is out of range.
    pub fn set(&mut self, from: usize, to: usize, value: i64) {
        self.data[from * self.dimension + to] = value;
    }

    /// The entries row by row.
    pub fn as_slice(&self) -> &[i64] {
        &self.data
    }
}

/// One place of the problem: the depot (node 0) or a client (nodes `1..`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node {
    /// The amount to load at this client (zero for the depot).
    pub demand: i64,
    /// Time spent serving the client, in the units of the duration matrix.
    pub service: i64,
    /// The earliest time service may start (for the depot: the earliest departure).
    pub ready: i64,
    /// The latest time service may start (for the depot: the latest return).
    pub due: i64,
    /// Planar coordinates, when known; the solver only uses them to group routes by direction.
    pub position: Option<[f64; 2]>,
    /// Whether this is a reload station (a transfer station) rather than a client: routes may
    /// visit it any number of times to empty the vehicle and go on, so a route can carry more
    /// than the capacity in several trips. Its demand is ignored; its service time is the
    /// time to unload; its time window its opening hours.
    pub station: bool,
}

impl Node {
    /// A client with a demand and no service time or time window.
    pub fn client(demand: i64) -> Self {
        Self {
            demand,
            service: 0,
            ready: 0,
            due: HORIZON,
            position: None,
            station: false,
        }
    }

    /// A reload station with an unloading time.
    pub fn station(unload: i64) -> Self {
        Self {
            service: unload,
            station: true,
            ..Self::client(0)
        }
    }

    /// The depot: no demand, no service, open all the time.
    pub fn depot() -> Self {
        Self::client(0)
    }
}

/// The vehicles: a homogeneous fleet based at the depot.
///
/// Heterogeneous fleets (several of these, each with its own depot, shift and the clients it may
/// serve) are not supported yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fleet {
    /// The capacity of every vehicle.
    pub capacity: i64,
    /// How many vehicles there are; `None` for as many as needed.
    pub vehicles: Option<usize>,
    /// The longest a route may take, depot to depot, including service and waiting; `None` for
    /// no limit.
    pub max_duration: Option<i64>,
}

/// A vehicle-routing problem: one depot (node 0), then clients and reload stations
/// ([`Node::station`]), and integer matrices.
///
/// Costs are the sum of the distance-matrix entries along each route; time windows, service
/// times and the duration limit are checked with the duration matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Travel costs between nodes; the objective.
    pub distance: Matrix,
    /// Travel times between nodes (often equal to the distances).
    pub duration: Matrix,
    /// The depot at index 0, then the clients and stations, in any order.
    pub nodes: Vec<Node>,
    /// The vehicles.
    pub fleet: Fleet,
    /// How many matrix units make one unit of the source data (e.g. 10 when distances were
    /// multiplied by ten and truncated); divide costs by it to display them.
    pub scale: u32,
}

/// Why a [`Problem`] cannot be solved as given.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProblemError {
    /// A matrix built from data of the wrong length.
    #[error("a {dimension}x{dimension} matrix needs {} entries, got {len}", dimension * dimension)]
    MatrixSize {
        /// The requested dimension.
        dimension: usize,
        /// The number of entries given.
        len: usize,
    },
    /// The matrices and the node list disagree on the number of nodes.
    #[error("the distance matrix has dimension {distance}, the duration matrix {duration}, and there are {nodes} nodes")]
    DimensionMismatch {
        /// Dimension of the distance matrix.
        distance: usize,
        /// Dimension of the duration matrix.
        duration: usize,
        /// Number of nodes.
        nodes: usize,
    },
    /// There is no client to visit.
    #[error("the problem has no clients (it needs the depot and at least one client)")]
    NoClients,
    /// A negative matrix entry, demand, service time or capacity.
    #[error("negative value: {0}")]
    Negative(String),
    /// A client whose demand exceeds the vehicle capacity can never be served.
    #[error("client {client} has demand {demand}, more than the vehicle capacity {capacity}")]
    DemandExceedsCapacity {
        /// The client's node index.
        client: usize,
        /// Its demand.
        demand: i64,
        /// The capacity.
        capacity: i64,
    },
    /// A time window that closes before it opens.
    #[error("node {node} has an empty time window [{ready}, {due}]")]
    EmptyTimeWindow {
        /// The node index.
        node: usize,
        /// Window start.
        ready: i64,
        /// Window end.
        due: i64,
    },
    /// A fleet of zero vehicles.
    #[error("the fleet has no vehicles")]
    NoVehicles,
    /// The depot (node 0) is marked as a station.
    #[error("the depot (node 0) cannot be a reload station")]
    DepotIsStation,
}

impl Problem {
    /// A plain CVRP: one distance matrix (also used as durations), demands indexed like the
    /// matrix (the depot's, at index 0, is ignored), a capacity and an unlimited fleet.
    pub fn cvrp(distance: Matrix, demands: &[i64], capacity: i64) -> Self {
        let nodes = demands
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                if i == 0 {
                    Node::depot()
                } else {
                    Node::client(d)
                }
            })
            .collect();
        Self {
            duration: distance.clone(),
            distance,
            nodes,
            fleet: Fleet {
                capacity,
                vehicles: None,
                max_duration: None,
            },
            scale: 1,
        }
    }

    /// The number of nodes, depot included.
    pub fn dimension(&self) -> usize {
        self.nodes.len()
    }

    /// The number of clients (nodes other than the depot and the stations).
    pub fn num_clients(&self) -> usize {
        self.nodes.iter().skip(1).filter(|n| !n.station).count()
    }

    /// The reload stations' node indices.
    pub fn stations(&self) -> Vec<usize> {
        (1..self.nodes.len())
            .filter(|&i| self.nodes[i].station)
            .collect()
    }

    /// Whether node `i` is a client (neither the depot nor a station).
    pub fn is_client(&self, i: usize) -> bool {
        i != 0 && self.nodes.get(i).is_some_and(|n| !n.station)
    }

    /// A cost in the units of the source data: `cost / scale`, with as many decimals as the
    /// scale has zeros (`8273` at scale 10 is `"827.3"`).
    ///
    /// ```
    /// # use gridgov_routing::cvrp::{Matrix, Problem};
    /// let mut problem = Problem::cvrp(Matrix::zeros(2), &[0, 1], 1);
    /// assert_eq!(problem.display_cost(784), "784");
    /// problem.scale = 10;
    /// assert_eq!(problem.display_cost(8273), "827.3");
    /// ```
    pub fn display_cost(&self, cost: i64) -> String {
        let decimals = self.scale.max(1).ilog10() as usize;
        if decimals == 0 {
            return cost.to_string();
        }
        format!("{:.*}", decimals, cost as f64 / f64::from(self.scale))
    }

    /// Whether any time window, or a duration limit, constrains the routes.
    pub fn is_timed(&self) -> bool {
        self.fleet.max_duration.is_some()
            || self.nodes.iter().any(|n| n.ready > 0 || n.due < HORIZON)
    }

    /// Checks the problem is consistent and solvable in principle.
    pub fn validate(&self) -> Result<(), ProblemError> {
        let n = self.nodes.len();
        if self.distance.dimension() != n || self.duration.dimension() != n {
            return Err(ProblemError::DimensionMismatch {
                distance: self.distance.dimension(),
                duration: self.duration.dimension(),
                nodes: n,
            });
        }
        if self.nodes.first().is_some_and(|d| d.station) {
            return Err(ProblemError::DepotIsStation);
        }
        if n < 2 || self.num_clients() == 0 {
            return Err(ProblemError::NoClients);
        }
        if self.fleet.vehicles == Some(0) {
            return Err(ProblemError::NoVehicles);
        }
        if self.fleet.capacity < 0 {
            return Err(ProblemError::Negative(format!(
                "capacity {}",
                self.fleet.capacity
            )));
        }
        for (name, m) in [("distance", &self.distance), ("duration", &self.duration)] {
            if let Some(pos) = m.as_slice().iter().position(|&v| v < 0) {
                return Err(ProblemError::Negative(format!(
                    "{name} from {} to {} is {}",
                    pos / n,
                    pos % n,
                    m.as_slice()[pos]
                )));
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if node.demand < 0 || node.service < 0 {
                return Err(ProblemError::Negative(format!(
                    "demand or service time of node {i}"
                )));
            }
            if i > 0 && !node.station && node.demand > self.fleet.capacity {
                return Err(ProblemError::DemandExceedsCapacity {
                    client: i,
                    demand: node.demand,
                    capacity: self.fleet.capacity,
                });
            }
            if node.ready > node.due {
                return Err(ProblemError::EmptyTimeWindow {
                    node: i,
                    ready: node.ready,
                    due: node.due,
                });
            }
        }
        Ok(())
    }
}
