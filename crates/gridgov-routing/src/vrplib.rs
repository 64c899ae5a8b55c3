//! Reading VRPLIB (CVRPLIB) instances, Solomon VRPTW instances and `.sol` solution files.
//!
//! Supported: `EDGE_WEIGHT_TYPE` `EUC_2D` (integer or float coordinates) and `EXPLICIT` with
//! `EDGE_WEIGHT_FORMAT` `FULL_MATRIX`, `LOWER_ROW`, `LOWER_DIAG_ROW`, `UPPER_ROW` or
//! `UPPER_DIAG_ROW`; `CAPACITY`, `DISTANCE` (route length limit), `SERVICE_TIME`, `VEHICLES`,
//! `NODE_COORD_SECTION`, `DEMAND_SECTION`, `DEPOT_SECTION` (one depot), `SERVICE_TIME_SECTION`,
//! `TIME_WINDOW_SECTION`, `EDGE_WEIGHT_SECTION`; and the Solomon text format (`VEHICLE` /
//! `CUSTOMER` blocks). Numbers become integers when converting to a [`Problem`], by a
//! [`Rounding`]: CVRPLIB's convention is the nearest integer ([`Rounding::NINT`]), Solomon's
//! (and DIMACS's) is truncation after one decimal ([`Rounding::SOLOMON`], costs in tenths).
//!
//! The depot becomes node 0 and the clients keep their file order, so client numbers in
//! `.sol` files (1 for the first non-depot node) are node indices of the [`Problem`].

use std::path::Path;

use thiserror::Error;

use crate::cvrp::{Fleet, Matrix, Node, Problem, HORIZON};

/// A file that cannot be read or understood.
#[derive(Debug, Error)]
pub enum VrplibError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file's content is not a valid instance or solution.
    #[error("{file}{}: {problem}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file (or the source name given to the parser).
        file: String,
        /// The 1-based line, when the problem is on one line.
        line: Option<usize>,
        /// What is wrong.
        problem: String,
    },
}

/// How real distances and times become the integers the solver works with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    /// Multiply by 10^`decimals` and round to the nearest integer.
    Round {
        /// Decimal places kept.
        decimals: u32,
    },
    /// Multiply by 10^`decimals` and truncate.
    Truncate {
        /// Decimal places kept.
        decimals: u32,
    },
}

impl Rounding {
    /// CVRPLIB / TSPLIB `nint`: the nearest integer.
    pub const NINT: Self = Self::Round { decimals: 0 };
    /// The Solomon / DIMACS convention: tenths, truncated.
    pub const SOLOMON: Self = Self::Truncate { decimals: 1 };

    /// The factor applied before rounding, `10^decimals`.
    pub fn scale(self) -> u32 {
        match self {
            Self::Round { decimals } | Self::Truncate { decimals } => 10u32.pow(decimals),
        }
    }

    /// Applies the rounding to a real value.
    pub fn apply(self, value: f64) -> i64 {
        let v = value * f64::from(self.scale());
        match self {
            Self::Round { .. } => v.round() as i64,
            Self::Truncate { .. } => v.floor() as i64,
        }
    }
}

/// Which text format an instance came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// VRPLIB / TSPLIB keyword format.
    Vrplib,
    /// Solomon's VRPTW table format.
    Solomon,
}

/// How the travel costs are given.
#[derive(Clone, Debug, PartialEq)]
pub enum EdgeWeights {
    /// Euclidean distances between the node coordinates.
    Euclidean,
    /// An explicit full matrix, row-major, depot first.
    Explicit(Vec<f64>),
}

/// An instance as read, with real numbers; the depot is node 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// The instance name.
    pub name: String,
    /// The format it was read from.
    pub format: Format,
    /// Number of nodes, depot included.
    pub dimension: usize,
    /// Vehicle capacity.
    pub capacity: i64,
    /// Number of vehicles, when the file limits it.
    pub vehicles: Option<usize>,
    /// Route length (duration) limit, when given (`DISTANCE`).
    pub distance_limit: Option<f64>,
    /// Node coordinates, when given.
    pub coords: Option<Vec<[f64; 2]>>,
    /// How travel costs are given.
    pub edge_weights: EdgeWeights,
    /// Demand of each node (0 for the depot).
    pub demands: Vec<i64>,
    /// Service time of each node.
    pub service_times: Vec<f64>,
    /// Time window `[ready, due]` of each node, when given.
    pub time_windows: Option<Vec<[f64; 2]>>,
}

/// A solution file: routes of client numbers, and the stated cost.
#[derive(Clone, Debug, PartialEq)]
pub struct SolutionFile {
    /// The routes, as client numbers (node indices of the converted problem).
    pub routes: Vec<Vec<usize>>,
    /// The `Cost` line, if present.
    pub cost: Option<f64>,
}

impl Instance {
    /// The rounding the instance's community uses: tenths truncated for Solomon instances,
    /// nearest integer otherwise.
    pub fn default_rounding(&self) -> Rounding {
        match self.format {
            Format::Solomon => Rounding::SOLOMON,
            Format::Vrplib => Rounding::NINT,
        }
    }

    /// The problem with the instance's default rounding.
    pub fn problem(&self) -> Problem {
        self.to_problem(self.default_rounding())
    }

    /// The problem with distances, times and limits rounded by `rounding`.
    pub fn to_problem(&self, rounding: Rounding) -> Problem {
        let n = self.dimension;
        let distance = match &self.edge_weights {
            EdgeWeights::Euclidean => {
                let c = self.coords.as_deref().unwrap_or(&[]);
                Matrix::from_fn(n, |a, b| {
                    let (dx, dy) = (c[a][0] - c[b][0], c[a][1] - c[b][1]);
                    rounding.apply((dx * dx + dy * dy).sqrt())
                })
            }
            EdgeWeights::Explicit(w) => Matrix::from_fn(n, |a, b| rounding.apply(w[a * n + b])),
        };
        let nodes = (0..n)
            .map(|i| {
                let (ready, due) = match &self.time_windows {
                    Some(tw) => (rounding.apply(tw[i][0]), rounding.apply(tw[i][1])),
                    None => (0, HORIZON),
                };
                Node {
                    demand: if i == 0 { 0 } else { self.demands[i] },
                    service: if i == 0 {
                        0
                    } else {
                        rounding.apply(self.service_times[i])
                    },
                    ready,
                    due,
                    position: self.coords.as_ref().map(|c| c[i]),
                    station: false,
                }
            })
            .collect();
        Problem {
            duration: distance.clone(),
            distance,
            nodes,
            fleet: Fleet {
                capacity: self.capacity,
                vehicles: self.vehicles,
                max_duration: self.distance_limit.map(|d| rounding.apply(d)),
            },

            scale: rounding.scale(),
        }
    }
}

/// Reads a VRPLIB or Solomon instance (the format is recognised from the content).
pub fn read_instance(path: &Path) -> Result<Instance, VrplibError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| VrplibError::Io {
        file: file.clone(),
        source,
    })?;
    parse_instance(&text, &file)
}

/// Reads a `.sol` file: `Route #k: c1 c2 ...` lines and a `Cost X` line.
pub fn read_solution(path: &Path) -> Result<SolutionFile, VrplibError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| VrplibError::Io {
        file: file.clone(),
        source,
    })?;
    parse_solution(&text, &file)
}

fn invalid(file: &str, line: Option<usize>, problem: impl Into<String>) -> VrplibError {
    VrplibError::Invalid {
        file: file.to_owned(),
        line,
        problem: problem.into(),
    }
}

/// Parses a solution file's text; `file` names it in errors.
pub fn parse_solution(text: &str, file: &str) -> Result<SolutionFile, VrplibError> {
    let mut routes = Vec::new();
    let mut cost = None;
    for (no, line) in text.lines().enumerate() {
        let line = line.trim();
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("route") {
            let Some((_, rest)) = line.split_once(':') else {
                return Err(invalid(file, Some(no + 1), "route line without ':'"));
            };
            let route = rest
                .split_whitespace()
                .map(|t| {
                    t.parse::<usize>().map_err(|_| {
                        invalid(file, Some(no + 1), format!("'{t}' is not a client number"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            routes.push(route);
        } else if lower.starts_with("cost") {
            let t = line[4..].trim().trim_start_matches(':').trim();
            cost =
                Some(t.parse::<f64>().map_err(|_| {
                    invalid(file, Some(no + 1), format!("cost '{t}' is not a number"))
                })?);
        }
    }
    if routes.is_empty() {
        return Err(invalid(file, None, "no 'Route #k:' line"));
    }
    Ok(SolutionFile { routes, cost })
}

/// Parses an instance's text, VRPLIB or Solomon; `file` names it in errors.
pub fn parse_instance(text: &str, file: &str) -> Result<Instance, VrplibError> {
    if text
        .lines()
        .any(|l| l.trim().eq_ignore_ascii_case("CUSTOMER"))
        && !text.contains(':')
    {
        parse_solomon(text, file)
    } else {
        parse_vrplib(text, file)
    }
}

fn number<T: std::str::FromStr>(
    token: &str,
    file: &str,
    line: usize,
    what: &str,
) -> Result<T, VrplibError> {
    token.parse::<T>().map_err(|_| {
        invalid(
            file,
            Some(line),
            format!("{what}: '{token}' is not a valid number"),
        )
    })
}

fn parse_solomon(text: &str, file: &str) -> Result<Instance, VrplibError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    let name = lines.first().map(|l| l.1.to_owned()).unwrap_or_default();
    let find = |key: &str| lines.iter().position(|(_, l)| l.eq_ignore_ascii_case(key));
    let v = find("VEHICLE")
        .ok_or_else(|| invalid(file, None, "Solomon instance without a VEHICLE block"))?;
    let &(vline, vtext) = lines
        .get(v + 2)
        .ok_or_else(|| invalid(file, None, "VEHICLE block without NUMBER and CAPACITY"))?;
    let vt: Vec<&str> = vtext.split_whitespace().collect();
    if vt.len() != 2 {
        return Err(invalid(
            file,
            Some(vline),
            "expected the vehicle NUMBER and CAPACITY",
        ));
    }
    let vehicles: usize = number(vt[0], file, vline, "vehicle number")?;
    let capacity: i64 = number(vt[1], file, vline, "capacity")?;
    let c = find("CUSTOMER")
        .ok_or_else(|| invalid(file, None, "Solomon instance without a CUSTOMER block"))?;
    let mut coords = Vec::new();
    let mut demands = Vec::new();
    let mut service = Vec::new();
    let mut tw = Vec::new();
    for &(no, l) in lines.iter().skip(c + 2) {
        let t: Vec<&str> = l.split_whitespace().collect();
        if t.len() != 7 {
            return Err(invalid(
                file,
                Some(no),
                format!("expected 7 numbers per customer, got {}", t.len()),
            ));
        }
        let id: usize = number(t[0], file, no, "customer number")?;
        if id != coords.len() {
            return Err(invalid(
                file,
                Some(no),
                format!("customer {id} out of order (expected {})", coords.len()),
            ));
        }
        let f = |k: usize, what: &str| number::<f64>(t[k], file, no, what);
        coords.push([f(1, "x")?, f(2, "y")?]);
        demands.push(number::<i64>(t[3], file, no, "demand")?);
        tw.push([f(4, "ready time")?, f(5, "due date")?]);
        service.push(f(6, "service time")?);
    }
    if coords.len() < 2 {
        return Err(invalid(
            file,
            None,
            "a Solomon instance needs the depot (customer 0) and at least one customer",
        ));
    }
    Ok(Instance {
        name,
        format: Format::Solomon,
        dimension: coords.len(),
        capacity,
        vehicles: Some(vehicles),
        distance_limit: None,
        coords: Some(coords),
        edge_weights: EdgeWeights::Euclidean,
        demands,
        service_times: service,
        time_windows: Some(tw),
    })
}

#[derive(PartialEq)]
enum Section {
    None,
    Coords,
    Demand,
    Depot,
    Weights,
    Service,
    Windows,
}

fn parse_vrplib(text: &str, file: &str) -> Result<Instance, VrplibError> {
    let mut name = String::new();
    let mut dimension: Option<usize> = None;
    let mut capacity: Option<i64> = None;
    let mut vehicles = None;
    let mut distance_limit = None;
    let mut service_time = None;
    let mut weight_type: Option<(String, usize)> = None;
    let mut weight_format: Option<(String, usize)> = None;
    let mut coords: Vec<Option<[f64; 2]>> = Vec::new();
    let mut demands: Vec<Option<i64>> = Vec::new();
    let mut services: Vec<Option<f64>> = Vec::new();
    let mut windows: Vec<Option<[f64; 2]>> = Vec::new();
    let mut depots = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    let mut weights_line = 0;
    let mut section = Section::None;
    let need_dim = |dimension: Option<usize>, no: usize, what: &str| {
        dimension.ok_or_else(|| invalid(file, Some(no), format!("{what} before DIMENSION")))
    };
    // A node number in a section, checked against DIMENSION; returns the 0-based index.
    let node = |t: &str, dim: usize, no: usize, what: &str| -> Result<usize, VrplibError> {
        let id: i64 = number(t, file, no, what)?;
        if id < 1 || id as usize > dim {
            return Err(invalid(
                file,
                Some(no),
                format!("{what} on missing node {id} (DIMENSION is {dim})"),
            ));
        }
        Ok(id as usize - 1)
    };
    for (idx, raw) in text.lines().enumerate() {
        let no = idx + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let first = line.split_whitespace().next().unwrap_or("");
        let starts_alpha = first
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic());
        if starts_alpha {
            let (key, value) = match line.split_once(':') {
                Some((k, v)) => (k.trim().to_ascii_uppercase(), Some(v.trim())),
                None => (first.to_ascii_uppercase(), None),
            };
            section = Section::None;
            match (key.as_str(), value) {
                ("EOF", _) => break,
                ("NODE_COORD_SECTION", _) => {
                    coords = vec![None; need_dim(dimension, no, "NODE_COORD_SECTION")?];
                    section = Section::Coords;
                }
                ("DEMAND_SECTION", _) => {
                    demands = vec![None; need_dim(dimension, no, "DEMAND_SECTION")?];
                    section = Section::Demand;
                }
                ("DEPOT_SECTION", _) => section = Section::Depot,
                ("SERVICE_TIME_SECTION", _) => {
                    services = vec![None; need_dim(dimension, no, "SERVICE_TIME_SECTION")?];
                    section = Section::Service;
                }
                ("TIME_WINDOW_SECTION", _) => {
                    windows = vec![None; need_dim(dimension, no, "TIME_WINDOW_SECTION")?];
                    section = Section::Windows;
                }
                ("EDGE_WEIGHT_SECTION", _) => {
                    need_dim(dimension, no, "EDGE_WEIGHT_SECTION")?;
                    weights_line = no;
                    section = Section::Weights;
                }
                ("NAME", Some(v)) => v.clone_into(&mut name),
                ("DIMENSION", Some(v)) => dimension = Some(number(v, file, no, "DIMENSION")?),
                ("CAPACITY", Some(v)) => capacity = Some(number(v, file, no, "CAPACITY")?),
                ("VEHICLES", Some(v)) => vehicles = Some(number(v, file, no, "VEHICLES")?),
                ("DISTANCE", Some(v)) => distance_limit = Some(number(v, file, no, "DISTANCE")?),
                ("SERVICE_TIME", Some(v)) => {
                    service_time = Some(number(v, file, no, "SERVICE_TIME")?);
                }
                ("EDGE_WEIGHT_TYPE", Some(v)) => weight_type = Some((v.to_ascii_uppercase(), no)),
                ("EDGE_WEIGHT_FORMAT", Some(v)) => {
                    weight_format = Some((v.to_ascii_uppercase(), no));
                }
                ("TYPE", Some(v)) => {
                    let v = v.to_ascii_uppercase();
                    if !matches!(v.as_str(), "CVRP" | "VRPTW" | "CVRPTW" | "DCVRP") {
                        return Err(invalid(
                            file,
                            Some(no),
                            format!("unsupported TYPE {v} (expected CVRP or VRPTW)"),
                        ));
                    }
                }
                (k, _) if k.ends_with("_SECTION") => {
                    return Err(invalid(file, Some(no), format!("unsupported section {k}")));
                }
                _ => {} // COMMENT, DISPLAY_DATA_TYPE, NODE_COORD_TYPE and other informative keys.
            }
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let dim = dimension.unwrap_or(0);
        match section {
            Section::None => {
                return Err(invalid(
                    file,
                    Some(no),
                    format!("unexpected data outside any section: '{line}'"),
                ))
            }
            Section::Coords => {
                if tokens.len() != 3 {
                    return Err(invalid(
                        file,
                        Some(no),
                        "a NODE_COORD_SECTION line needs a node and two coordinates",
                    ));
                }
                let i = node(tokens[0], dim, no, "coordinates")?;
                coords[i] = Some([
                    number(tokens[1], file, no, "x")?,
                    number(tokens[2], file, no, "y")?,
                ]);
            }
            Section::Demand => {
                if tokens.len() != 2 {
                    return Err(invalid(
                        file,
                        Some(no),
                        "a DEMAND_SECTION line needs a node and a demand",
                    ));
                }
                let i = node(tokens[0], dim, no, "demand")?;
                demands[i] = Some(number(tokens[1], file, no, "demand")?);
            }
            Section::Service => {
                if tokens.len() != 2 {
                    return Err(invalid(
                        file,
                        Some(no),
                        "a SERVICE_TIME_SECTION line needs a node and a time",
                    ));
                }
                let i = node(tokens[0], dim, no, "service time")?;
                services[i] = Some(number(tokens[1], file, no, "service time")?);
            }
            Section::Windows => {
                if tokens.len() != 3 {
                    return Err(invalid(
                        file,
                        Some(no),
                        "a TIME_WINDOW_SECTION line needs a node and two times",
                    ));
                }
                let i = node(tokens[0], dim, no, "time window")?;
                windows[i] = Some([
                    number(tokens[1], file, no, "ready time")?,
                    number(tokens[2], file, no, "due time")?,
                ]);
            }
            Section::Depot => {
                for t in tokens {
                    if t == "-1" {
                        section = Section::None;
                        break;
                    }
                    depots.push(node(t, dim, no, "depot")?);
                }
            }
            Section::Weights => {
                for t in tokens {
                    weights.push(number(t, file, no, "edge weight")?);
                }
            }
        }
    }
    let n = dimension.ok_or_else(|| invalid(file, None, "missing DIMENSION"))?;
    if n < 2 {
        return Err(invalid(
            file,
            None,
            format!("DIMENSION {n}: an instance needs the depot and at least one client"),
        ));
    }
    let capacity = capacity.ok_or_else(|| invalid(file, None, "missing CAPACITY"))?;
    let depot = match depots.as_slice() {
        [] => 0,
        [d] => *d,
        _ => {
            return Err(invalid(
                file,
                None,
                format!(
                    "{} depots in DEPOT_SECTION; only one is supported",
                    depots.len()
                ),
            ))
        }
    };
    // Node order: depot first, then the others in file order.
    let order: Vec<usize> = std::iter::once(depot)
        .chain((0..n).filter(|&i| i != depot))
        .collect();
    let (wtype, wline) =
        weight_type.ok_or_else(|| invalid(file, None, "missing EDGE_WEIGHT_TYPE"))?;
    let coords = if coords.is_empty() {
        None
    } else {
        let mut out = Vec::with_capacity(n);
        for &i in &order {
            out.push(coords[i].ok_or_else(|| {
                invalid(file, None, format!("node {} has no coordinates", i + 1))
            })?);
        }
        Some(out)
    };
    let edge_weights = match wtype.as_str() {
        "EUC_2D" => {
            if coords.is_none() {
                return Err(invalid(
                    file,
                    Some(wline),
                    "EDGE_WEIGHT_TYPE EUC_2D needs a NODE_COORD_SECTION",
                ));
            }
            EdgeWeights::Euclidean
        }
        "EXPLICIT" => {
            let (fmt, fline) = weight_format.ok_or_else(|| {
                invalid(
                    file,
                    Some(wline),
                    "EDGE_WEIGHT_TYPE EXPLICIT without EDGE_WEIGHT_FORMAT",
                )
            })?;
            let full = explicit_matrix(&fmt, &weights, n).map_err(|p| {
                invalid(
                    file,
                    Some(if weights_line > 0 {
                        weights_line
                    } else {
                        fline
                    }),
                    p,
                )
            })?;
            EdgeWeights::Explicit(
                order
                    .iter()
                    .flat_map(|&a| order.iter().map(move |&b| (a, b)))
                    .map(|(a, b)| full[a * n + b])
                    .collect(),
            )
        }
        other => {
            return Err(invalid(
                file,
                Some(wline),
                format!("unsupported EDGE_WEIGHT_TYPE {other} (supported: EUC_2D, EXPLICIT)"),
            ));
        }
    };
    if demands.is_empty() {
        return Err(invalid(file, None, "missing DEMAND_SECTION"));
    }
    let mut dem = Vec::with_capacity(n);
    for &i in &order {
        dem.push(
            demands[i]
                .ok_or_else(|| invalid(file, None, format!("node {} has no demand", i + 1)))?,
        );
    }
    let service_times = order
        .iter()
        .map(|&i| {
            services
                .get(i)
                .copied()
                .flatten()
                .or(if i == depot { Some(0.0) } else { service_time })
                .unwrap_or(0.0)
        })
        .collect();
    let time_windows = if windows.is_empty() {
        None
    } else {
        let mut out = Vec::with_capacity(n);
        for &i in &order {
            out.push(windows[i].ok_or_else(|| {
                invalid(file, None, format!("node {} has no time window", i + 1))
            })?);
        }
        Some(out)
    };
    Ok(Instance {
        name,
        format: Format::Vrplib,
        dimension: n,
        capacity,
        vehicles,
        distance_limit,
        coords,
        edge_weights,
        demands: dem,
        service_times,
        time_windows,
    })
}

/// Expands an `EDGE_WEIGHT_SECTION` into a full row-major matrix.
fn explicit_matrix(format: &str, w: &[f64], n: usize) -> Result<Vec<f64>, String> {
    let needed = match format {
        "FULL_MATRIX" => n * n,
        "LOWER_ROW" | "UPPER_ROW" => n * (n - 1) / 2,
        "LOWER_DIAG_ROW" | "UPPER_DIAG_ROW" => n * (n + 1) / 2,
        other => return Err(format!("unsupported EDGE_WEIGHT_FORMAT {other}")),
    };
    if w.len() != needed {
        return Err(format!(
            "EDGE_WEIGHT_SECTION has {} numbers; {format} with DIMENSION {n} needs {needed}",
            w.len()
        ));
    }
    let mut m = vec![0.0; n * n];
    let mut k = 0;
    let mut put = |a: usize, b: usize, m: &mut Vec<f64>| {
        m[a * n + b] = w[k];
        m[b * n + a] = w[k];
        k += 1;
    };
    match format {
        "FULL_MATRIX" => m.copy_from_slice(w),
        "LOWER_ROW" => (0..n).for_each(|a| (0..a).for_each(|b| put(a, b, &mut m))),
        "LOWER_DIAG_ROW" => (0..n).for_each(|a| (0..=a).for_each(|b| put(a, b, &mut m))),
        "UPPER_ROW" => (0..n).for_each(|a| (a + 1..n).for_each(|b| put(a, b, &mut m))),
        _ => (0..n).for_each(|a| (a..n).for_each(|b| put(a, b, &mut m))),
    }
    Ok(m)
}
