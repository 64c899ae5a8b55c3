//! OpenStreetMap PBF extracts: roads, buildings, water and land use, read with `osmpbf` (not
//! GDAL). Areas come from closed ways; multipolygon relations are not assembled, so a large
//! lake or forest mapped only as a relation is missing.
//!
//! Two passes over the file: the first keeps the ways worth having and the ids of their
//! nodes, the second looks up only those nodes' coordinates.

mod tags;

use std::path::Path;

use geo::{Centroid, Contains, Coord, Geometry, InteriorPoint, LineString, Point, Polygon};
use gridgov_model::{Properties, Value};
use osmpbf::{BlobDecode, BlobReader, Element};

use crate::{ImportError, ImportedFeature, Rejected};
use tags::{Tags, WayKind};

/// Roads, buildings, water and land use read from an OpenStreetMap extract.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OsmResult {
    /// Ways with a `highway` tag gridgov has a road class for, as `roads` features
    /// (`name`, `class`, `oneway`, `osm_id`); a `oneway=-1` way is reversed.
    pub roads: Vec<ImportedFeature>,
    /// Closed ways with a `building` tag, as `households` points at a point inside the
    /// footprint (`address` from `addr:street` and `addr:housenumber`, else
    /// `OSM building <id>`).
    pub buildings: Vec<ImportedFeature>,
    /// Rivers, streams and canals (lines) and water areas (closed ways), as `water` features
    /// (`kind` a `WaterKind` token, `name`, `osm_id`).
    pub water: Vec<ImportedFeature>,
    /// Land use areas (closed ways), as `land_use` features (`kind` a `LandUseKind` token,
    /// `osm_id`).
    pub land_use: Vec<ImportedFeature>,
    /// Ways whose nodes are missing from the extract.
    pub rejected: Vec<Rejected>,
}

/// A way kept in the first pass.
struct KeptWay {
    number: usize,
    id: i64,
    refs: Vec<i64>,
    kind: WayKind,
}

/// Reads the roads, buildings, water and land use of an OpenStreetMap PBF file. Features carry no division:
/// the caller gives them one by where they lie. `progress(done, total)` counts bytes read over
/// both passes.
pub fn read_osm(path: &Path, progress: &mut dyn FnMut(u64, u64)) -> Result<OsmResult, ImportError> {
    let osm = |source| ImportError::Osm {
        path: path.to_owned(),
        source,
    };
    let len = std::fs::metadata(path)
        .map_err(|e| ImportError::io(path, e))?
        .len();
    let total = 2 * len;
    progress(0, total);

    // Pass 1: the ways.
    let mut ways = Vec::new();
    let mut number = 0usize;
    for_each_block(path, &mut |offset, block| {
        progress(offset, total);
        for e in block.elements() {
            if let Element::Way(w) = e {
                number += 1;
                let Some(kind) = Tags::new(w.tags()).classify() else {
                    continue;
                };
                let refs: Vec<i64> = w.refs().collect();
                let closed = refs.len() >= 4 && refs.first() == refs.last();
                if closed || !Tags::area_only(&kind) {
                    ways.push(KeptWay {
                        number,
                        id: w.id(),
                        refs,
                        kind,
                    });
                }
            }
        }
    })
    .map_err(osm)?;

    // Pass 2: the coordinates of their nodes.
    let mut wanted: Vec<i64> = ways.iter().flat_map(|w| w.refs.iter().copied()).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut coords: Vec<Option<Coord<f64>>> = vec![None; wanted.len()];
    let mut put = |id: i64, lon: f64, lat: f64| {
        if let Ok(i) = wanted.binary_search(&id) {
            coords[i] = Some(Coord { x: lon, y: lat });
        }
    };
    for_each_block(path, &mut |offset, block| {
        progress(len + offset, total);
        for e in block.elements() {
            match e {
                Element::DenseNode(n) => put(n.id(), n.lon(), n.lat()),
                Element::Node(n) => put(n.id(), n.lon(), n.lat()),
                _ => {}
            }
        }
    })
    .map_err(osm)?;
    let coord = |id: &i64| {
        wanted
            .binary_search(id)
            .ok()
            .and_then(|i| coords.get(i).copied().flatten())
    };

    let mut out = OsmResult::default();
    for way in ways {
        let mut line: Vec<Coord<f64>> = way.refs.iter().filter_map(coord).collect();
        let missing = way.refs.len() - line.len();
        line.dedup();
        match way.kind {
            WayKind::Road {
                class,
                oneway,
                reverse,
                ref name,
            } => {
                if line.len() < 2 {
                    out.rejected.push(missing_nodes(&way, missing, "road"));
                    continue;
                }
                if reverse {
                    line.reverse();
                }
                let mut props = Properties::new();
                if let Some(name) = name {
                    props.insert("name".into(), Value::Text(name.clone()));
                }
                props.insert("class".into(), Value::Text(class.into()));
                props.insert("oneway".into(), Value::Bool(oneway));
                props.insert("osm_id".into(), Value::Integer(way.id));
                out.roads.push(ImportedFeature {
                    number: way.number,
                    division: None,
                    geometry: Some(Geometry::LineString(LineString(line))),
                    properties: props,
                });
            }
            WayKind::Building { ref address } => {
                let inside = (missing == 0 && line.len() >= 3)
                    .then(|| point_inside(&Polygon::new(LineString(line), vec![])))
                    .flatten();
                let Some(point): Option<Point<f64>> = inside else {
                    out.rejected.push(missing_nodes(&way, missing, "building"));
                    continue;
                };
                let address = address
                    .clone()
                    .unwrap_or_else(|| format!("OSM building {}", way.id));
                let mut props = Properties::new();
                props.insert("address".into(), Value::Text(address));
                out.buildings.push(ImportedFeature {
                    number: way.number,
                    division: None,
                    geometry: Some(Geometry::Point(point)),
                    properties: props,
                });
            }
            WayKind::Water {
                kind,
                area,
                ref name,
            } => match shape(line, missing, area) {
                Some(g) => out
                    .water
                    .push(kind_feature(&way, g, kind.token(), name.as_deref())),
                None => out.rejected.push(missing_nodes(&way, missing, "water")),
            },
            WayKind::LandUse { kind } => match shape(line, missing, true) {
                Some(g) => out.land_use.push(kind_feature(&way, g, kind.token(), None)),
                None => out.rejected.push(missing_nodes(&way, missing, "land use")),
            },
        }
    }
    progress(total, total);
    Ok(out)
}

/// A water or land use feature of `way`: its `kind`, `name` (if any) and `osm_id`.
fn kind_feature(
    way: &KeptWay,
    geometry: Geometry<f64>,
    kind: &str,
    name: Option<&str>,
) -> ImportedFeature {
    let mut props = Properties::new();
    props.insert("kind".into(), Value::Text(kind.into()));
    if let Some(name) = name {
        props.insert("name".into(), Value::Text(name.into()));
    }
    props.insert("osm_id".into(), Value::Integer(way.id));
    ImportedFeature {
        number: way.number,
        division: None,
        geometry: Some(geometry),
        properties: props,
    }
}

/// A way's line, or its polygon when `area`: `None` when nodes are missing from an area or too
/// few points are left.
fn shape(line: Vec<Coord<f64>>, missing: usize, area: bool) -> Option<Geometry<f64>> {
    if area {
        (missing == 0 && line.len() >= 4)
            .then(|| Geometry::Polygon(Polygon::new(LineString(line), vec![])))
    } else {
        (line.len() >= 2).then_some(Geometry::LineString(LineString(line)))
    }
}

/// A point inside a footprint: its centroid, or for a footprint that does not hold its
/// centroid (an L or U shape), the slower interior point.
fn point_inside(p: &Polygon<f64>) -> Option<Point<f64>> {
    p.centroid()
        .filter(|c| p.contains(c))
        .or_else(|| p.interior_point())
}

fn missing_nodes(way: &KeptWay, missing: usize, what: &str) -> Rejected {
    Rejected {
        number: way.number,
        reason: if missing > 0 {
            format!(
                "{what} way {}: {missing} of its {} nodes are not in the file",
                way.id,
                way.refs.len()
            )
        } else {
            format!("{what} way {} has too few distinct points", way.id)
        },
    }
}

/// Calls `f(byte offset, block)` for every data block of the file.
fn for_each_block(
    path: &Path,
    f: &mut dyn FnMut(u64, &osmpbf::PrimitiveBlock),
) -> Result<(), osmpbf::Error> {
    let reader = BlobReader::seekable_from_path(path)?;
    for blob in reader {
        let blob = blob?;
        let offset = blob.offset().map_or(0, |o| o.0);
        if let BlobDecode::OsmData(block) = blob.decode()? {
            f(offset, &block);
        }
    }
    Ok(())
}
