//! The generator's working state: the mesh, the label of every atom in every partition, and
//! the entities (divisions, settlements, households) before they become features.

use geo::Coord;
use gridgov_model::vocab::LandUseKind;
use gridgov_model::{DivisionCode, GridCode, GroupCode};

use crate::mesh::Mesh;
use crate::noise::Field;
use crate::water::Water;

/// The county's outline: a radius that varies smoothly with the bearing from the county town.
#[derive(Debug, Clone)]
pub(crate) struct Outline {
    /// Mean radius in metres.
    pub(crate) r0: f64,
    /// Amplitude and phase of the harmonics 2, 3, ….
    pub(crate) harmonics: Vec<(f64, f64)>,
    /// Small-scale irregularity of the rim.
    pub(crate) rim: Field,
}

impl Outline {
    /// The county's radius towards bearing `theta` (radians, counter-clockwise from east).
    pub(crate) fn radius(&self, theta: f64) -> f64 {
        let wobble: f64 = self
            .harmonics
            .iter()
            .enumerate()
            .map(|(i, (a, phi))| a * ((i as f64 + 2.0) * theta + phi).cos())
            .sum();
        let on_rim = Coord {
            x: self.r0 * theta.cos(),
            y: self.r0 * theta.sin(),
        };
        self.r0 * (1.0 + wobble + 0.09 * self.rim.at(on_rim))
    }

    /// The radius towards a point.
    pub(crate) fn radius_towards(&self, p: Coord<f64>) -> f64 {
        self.radius(p.y.atan2(p.x))
    }
}

/// A township (镇).
#[derive(Debug, Clone)]
pub(crate) struct Township {
    pub(crate) code: DivisionCode,
    /// Full name, such as `草海镇`.
    pub(crate) name: String,
    /// The seat (镇政府驻地): the centre atom of the seat community.
    pub(crate) seat: usize,
    /// Its villages, communities first.
    pub(crate) villages: Vec<usize>,
    /// Its atoms.
    pub(crate) atoms: Vec<usize>,
}

/// An administrative village (行政村) or community (社区).
#[derive(Debug, Clone)]
pub(crate) struct Village {
    pub(crate) code: DivisionCode,
    /// Full name, such as `双龙村` or `海边社区`.
    pub(crate) name: String,
    /// A community (社区) rather than a village.
    pub(crate) community: bool,
    /// A community of the county town.
    pub(crate) town: bool,
    pub(crate) township: usize,
    /// The village centre (村委会): the hamlet atom of group 1.
    pub(crate) centre: usize,
    pub(crate) groups: Vec<usize>,
    pub(crate) atoms: Vec<usize>,
    /// Households planned before placement.
    pub(crate) planned: usize,
    /// Its households (indices), in id order.
    pub(crate) households: Vec<usize>,
    pub(crate) grids: Vec<usize>,
}

/// A villager group (村民小组) with its natural village (hamlet).
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) code: GroupCode,
    /// Natural village name, such as `杨家湾`.
    pub(crate) hamlet_name: String,
    pub(crate) village: usize,
    /// The hamlet's centre atom.
    pub(crate) hamlet: usize,
    pub(crate) atoms: Vec<usize>,
}

/// A household (户).
#[derive(Debug, Clone)]
pub(crate) struct Household {
    pub(crate) pos: Coord<f64>,
    pub(crate) atom: usize,
    pub(crate) village: usize,
    pub(crate) group: usize,
    pub(crate) grid: usize,
    /// House number within its group.
    pub(crate) number: u32,
    pub(crate) size: i64,
}

impl Household {
    /// Its feature id (households are numbered from 1 in `World::households` order).
    pub(crate) fn id(index: usize) -> i64 {
        index as i64 + 1
    }
}

/// A grid (网格).
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    pub(crate) code: GridCode,
    pub(crate) village: usize,
    pub(crate) atoms: Vec<usize>,
    pub(crate) households: usize,
}

/// A connected patch of one land use inside one village.
#[derive(Debug, Clone)]
pub(crate) struct Patch {
    pub(crate) kind: LandUseKind,
    pub(crate) village: usize,
    pub(crate) atoms: Vec<usize>,
}

/// Everything generated so far.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) seed: u64,
    pub(crate) mesh: Mesh,
    pub(crate) outline: Outline,
    /// Atoms inside the county, in atom order.
    pub(crate) county_atoms: Vec<usize>,
    pub(crate) in_county: Vec<bool>,
    /// Atoms under (or at the shore of) a lake, reservoir or pond.
    pub(crate) wet: Vec<bool>,
    pub(crate) water: Water,
    pub(crate) township_of: Vec<u32>,
    pub(crate) village_of: Vec<u32>,
    pub(crate) group_of: Vec<u32>,
    pub(crate) grid_of: Vec<u32>,
    /// Land-use patch of each atom, or a per-village "no patch" label (see `landuse`).
    pub(crate) patch_of: Vec<u32>,
    /// Land use of each atom.
    pub(crate) land: Vec<Option<LandUseKind>>,
    pub(crate) townships: Vec<Township>,
    pub(crate) villages: Vec<Village>,
    pub(crate) groups: Vec<Group>,
    pub(crate) households: Vec<Household>,
    pub(crate) grids: Vec<Grid>,
    pub(crate) patches: Vec<Patch>,
}

impl World {
    /// Whether an atom is dry land inside the county.
    pub(crate) fn dry(&self, a: usize) -> bool {
        self.in_county[a] && !self.wet[a]
    }
}
