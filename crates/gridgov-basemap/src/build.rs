//! Basemap tiles: roads, water, land use, division boundaries and place labels, drawn from
//! model features into MVT tiles for a range of zooms over the data's extent and collected in
//! a PMTiles [`Writer`]. Each feature has a lowest zoom (minor roads from 12, village
//! boundaries from 11…); geometry is simplified per zoom and clipped per tile by
//! gridgov-tiles' [`TileBuilder`]; tiles with nothing in them are left out.

use geo::{BoundingRect, Geometry, InteriorPoint, LineString, MultiLineString, Rect};
use gridgov_model::{Dataset, Feature, Layer, Value};
use gridgov_tiles::{search_area, tiles_covering, ComputedFeature, EncodeError, TileBuilder};
use rstar::{RTree, RTreeObject, AABB};

use crate::pmtiles::{PmtilesError, Writer};

/// A layer of the basemap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MapLayer {
    /// Land use polygons (`kind`).
    Landuse,
    /// Rivers and streams (lines), lakes, reservoirs and ponds (polygons) (`kind`, `name`).
    Water,
    /// Roads (`class`, `name`).
    Roads,
    /// Division outlines as lines (`level`: county, township, village; `name`).
    Boundaries,
    /// Label points of named divisions (`name`, `level`, `code`).
    Places,
}

impl MapLayer {
    /// Every layer, bottom to top.
    pub const ALL: [MapLayer; 5] = [
        MapLayer::Landuse,
        MapLayer::Water,
        MapLayer::Roads,
        MapLayer::Boundaries,
        MapLayer::Places,
    ];

    /// The MVT layer name.
    pub fn name(self) -> &'static str {
        match self {
            MapLayer::Landuse => "landuse",
            MapLayer::Water => "water",
            MapLayer::Roads => "roads",
            MapLayer::Boundaries => "boundaries",
            MapLayer::Places => "places",
        }
    }

    /// The layer's attributes and their TileJSON types.
    pub fn fields(self) -> &'static [(&'static str, &'static str)] {
        match self {
            MapLayer::Landuse => &[("kind", "String")],
            MapLayer::Water => &[("kind", "String"), ("name", "String")],
            MapLayer::Roads => &[("class", "String"), ("name", "String")],
            MapLayer::Boundaries => &[("level", "String"), ("name", "String")],
            MapLayer::Places => &[("name", "String"), ("level", "String"), ("code", "String")],
        }
    }

    /// A sentence for the TileJSON `description`.
    fn description(self) -> &'static str {
        match self {
            MapLayer::Landuse => {
                "land use polygons (kind: farmland, forest, built_up, grassland, orchard)"
            }
            MapLayer::Water => {
                "rivers, streams and canals (lines); lakes, reservoirs and ponds (polygons)"
            }
            MapLayer::Roads => {
                "roads by class (trunk, primary, secondary, village, lane, track, path)"
            }
            MapLayer::Boundaries => "division outlines as lines (level: county, township, village)",
            MapLayer::Places => "label points of divisions (level: county, township, village)",
        }
    }
}

/// One feature of the basemap.
#[derive(Debug, Clone)]
pub struct MapFeature {
    /// WGS84 geometry.
    pub geometry: Geometry<f64>,
    /// Attributes, all written.
    pub attributes: Vec<(&'static str, Value)>,
    /// The lowest zoom it is drawn at.
    pub min_zoom: u8,
}

/// The lowest zoom of a road of `class` (gridgov's road classes; unknown classes from 12).
pub fn road_min_zoom(class: &str) -> u8 {
    match class {
        "trunk" => 6,
        "primary" => 8,
        "secondary" => 10,
        "lane" => 13,
        "path" => 14,
        // village, track and anything else
        _ => 12,
    }
}

/// The lowest zoom of water of `kind` (lines or polygons).
pub fn water_min_zoom(kind: &str) -> u8 {
    match kind {
        "river" | "lake" | "reservoir" => 8,
        "stream" | "canal" => 11,
        _ => 12,
    }
}

/// The lowest zoom of land use of `kind`.
pub fn landuse_min_zoom(kind: &str) -> u8 {
    match kind {
        "built_up" | "forest" => 10,
        _ => 11,
    }
}

/// The division levels drawn: layer, level token, lowest zoom of the outline, of the label.
const DIVISIONS: [(Layer, &str, u8, u8); 3] = [
    (Layer::Counties, "county", 0, 7),
    (Layer::Townships, "township", 8, 10),
    (Layer::Villages, "village", 11, 12),
];

/// The features of a basemap, by layer.
#[derive(Debug, Clone, Default)]
pub struct Basemap {
    layers: [Vec<MapFeature>; 5],
}

fn text(v: Option<&str>) -> Option<Value> {
    v.filter(|s| !s.is_empty())
        .map(|s| Value::Text(s.to_owned()))
}

impl Basemap {
    /// An empty basemap.
    pub fn new() -> Self {
        Self::default()
    }

    fn slot(layer: MapLayer) -> usize {
        MapLayer::ALL.iter().position(|&l| l == layer).unwrap_or(0)
    }

    /// The features of `layer`.
    pub fn features(&self, layer: MapLayer) -> &[MapFeature] {
        &self.layers[Self::slot(layer)]
    }

    /// Adds a feature to `layer`.
    pub fn push(&mut self, layer: MapLayer, feature: MapFeature) {
        self.layers[Self::slot(layer)].push(feature);
    }

    /// Adds a road line of `class` (and `name`), from the zoom its class is drawn at.
    pub fn add_road(&mut self, geometry: Geometry<f64>, class: &str, name: Option<&str>) {
        let mut attributes = vec![("class", Value::Text(class.to_owned()))];
        attributes.extend(text(name).map(|n| ("name", n)));
        self.push(
            MapLayer::Roads,
            MapFeature {
                geometry,
                attributes,
                min_zoom: road_min_zoom(class),
            },
        );
    }

    /// Adds water of `kind` (line or polygon).
    pub fn add_water(&mut self, geometry: Geometry<f64>, kind: &str, name: Option<&str>) {
        let mut attributes = vec![("kind", Value::Text(kind.to_owned()))];
        attributes.extend(text(name).map(|n| ("name", n)));
        self.push(
            MapLayer::Water,
            MapFeature {
                geometry,
                attributes,
                min_zoom: water_min_zoom(kind),
            },
        );
    }

    /// Adds a land use polygon of `kind`.
    pub fn add_landuse(&mut self, geometry: Geometry<f64>, kind: &str) {
        self.push(
            MapLayer::Landuse,
            MapFeature {
                geometry,
                attributes: vec![("kind", Value::Text(kind.to_owned()))],
                min_zoom: landuse_min_zoom(kind),
            },
        );
    }

    /// Adds a division polygon at `level` (`county`, `township`, `village`): its outline to
    /// `boundaries` from `outline_zoom`, and when it has a name a label point inside it to
    /// `places` from `label_zoom`.
    pub fn add_division(
        &mut self,
        polygon: &Geometry<f64>,
        level: &str,
        name: Option<&str>,
        code: Option<&str>,
        (outline_zoom, label_zoom): (u8, u8),
    ) {
        let lines = outline(polygon);
        if !lines.0.is_empty() {
            let mut attributes = vec![("level", Value::Text(level.to_owned()))];
            attributes.extend(text(name).map(|n| ("name", n)));
            self.push(
                MapLayer::Boundaries,
                MapFeature {
                    geometry: Geometry::MultiLineString(lines),
                    attributes,
                    min_zoom: outline_zoom,
                },
            );
        }
        if let (Some(name), Some(point)) = (text(name), polygon.interior_point()) {
            let mut attributes = vec![("name", name), ("level", Value::Text(level.to_owned()))];
            attributes.extend(text(code).map(|c| ("code", c)));
            self.push(
                MapLayer::Places,
                MapFeature {
                    geometry: Geometry::Point(point),
                    attributes,
                    min_zoom: label_zoom,
                },
            );
        }
    }

    /// The basemap of a dataset: its `roads`, `water`, `land_use` and the `counties`,
    /// `townships` and `villages` (outlines and labels). Features without geometry are skipped.
    pub fn from_dataset(dataset: &Dataset) -> Self {
        let mut b = Self::new();
        let layer = |l: Layer| dataset.layers.get(&l).map_or(&[][..], Vec::as_slice);
        let geometry = |f: &Feature| f.geometry.clone();
        for f in layer(Layer::Roads) {
            if let Some(g) = geometry(f) {
                b.add_road(g, f.text("class").unwrap_or("village"), f.text("name"));
            }
        }
        for f in layer(Layer::Water) {
            if let Some(g) = geometry(f) {
                b.add_water(g, f.text("kind").unwrap_or("stream"), f.text("name"));
            }
        }
        for f in layer(Layer::LandUse) {
            if let Some(g) = geometry(f) {
                b.add_landuse(g, f.text("kind").unwrap_or("farmland"));
            }
        }
        for (l, level, outline_zoom, label_zoom) in DIVISIONS {
            for f in layer(l) {
                if let Some(g) = &f.geometry {
                    b.add_division(
                        g,
                        level,
                        f.text("name"),
                        f.text("code").or(Some(f.division.as_str())),
                        (outline_zoom, label_zoom),
                    );
                }
            }
        }
        b
    }

    /// The number of features in all layers.
    pub fn len(&self) -> usize {
        self.layers.iter().map(Vec::len).sum()
    }

    /// Whether there is no feature at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rectangle holding every feature, `None` when there is none.
    pub fn bounds(&self) -> Option<Rect<f64>> {
        self.layers
            .iter()
            .flatten()
            .filter_map(|f| f.geometry.bounding_rect())
            .reduce(|a, b| {
                Rect::new(
                    geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                    geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
                )
            })
    }
}

/// A polygon's rings as lines (other geometries: none).
fn outline(g: &Geometry<f64>) -> MultiLineString<f64> {
    let polygons: Vec<&geo::Polygon<f64>> = match g {
        Geometry::Polygon(p) => vec![p],
        Geometry::MultiPolygon(m) => m.0.iter().collect(),
        _ => Vec::new(),
    };
    MultiLineString(
        polygons
            .into_iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .map(|r| LineString(r.0.clone()))
            .collect(),
    )
}

/// What a basemap build is to make.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Lowest zoom (default 0).
    pub min_zoom: u8,
    /// Highest zoom (default 14).
    pub max_zoom: u8,
    /// The archive's `name` in its metadata.
    pub name: String,
    /// Its `attribution`.
    pub attribution: String,
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self {
            min_zoom: 0,
            max_zoom: 14,
            name: "gridgov basemap".to_owned(),
            attribution: "gridgov".to_owned(),
        }
    }
}

/// Why a basemap could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// There is nothing to draw.
    #[error("the basemap has no features (no roads, water, land use or divisions with geometry)")]
    Empty,
    /// The zooms are out of order or beyond 22.
    #[error("zooms {min}..={max} are not a range within 0..=22")]
    Zooms {
        /// Lowest zoom asked.
        min: u8,
        /// Highest zoom asked.
        max: u8,
    },
    /// A geometry could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The archive could not be written.
    #[error(transparent)]
    Pmtiles(#[from] PmtilesError),
}

/// What a build made.
#[derive(Debug, Clone, Default)]
pub struct BuildStats {
    /// Tiles written (with at least one feature), per zoom from the lowest.
    pub tiles_per_zoom: Vec<(u8, usize)>,
    /// Tiles looked at (covering the extent) and found empty.
    pub empty: usize,
}

/// An R-tree item: a feature's bounding box and its index.
struct Boxed {
    aabb: AABB<[f64; 2]>,
    index: usize,
}

impl RTreeObject for Boxed {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.aabb
    }
}

/// The archive metadata of a basemap (TileJSON `vector_layers` among it).
pub fn metadata(options: &BuildOptions) -> serde_json::Value {
    let layers: Vec<serde_json::Value> = MapLayer::ALL
        .iter()
        .map(|l| {
            let fields: serde_json::Map<String, serde_json::Value> = l
                .fields()
                .iter()
                .map(|(k, t)| ((*k).to_owned(), serde_json::Value::from(*t)))
                .collect();
            serde_json::json!({
                "id": l.name(),
                "description": l.description(),
                "fields": fields,
                "minzoom": options.min_zoom,
                "maxzoom": options.max_zoom,
            })
        })
        .collect();
    serde_json::json!({
        "name": options.name,
        "description": "Offline basemap made by `gridgov basemap build`",
        "attribution": options.attribution,
        "type": "baselayer",
        "version": "1",
        "format": "pbf",
        "generator": concat!("gridgov-basemap ", env!("CARGO_PKG_VERSION")),
        "vector_layers": layers,
    })
}

/// Draws `basemap` into tiles for `options`' zooms over its extent and returns the archive
/// writer holding them (and what was made). `progress(zoom, done, total)` is called as tiles
/// of a zoom are made.
pub fn build(
    basemap: &Basemap,
    options: &BuildOptions,
    progress: &mut dyn FnMut(u8, usize, usize),
) -> Result<(Writer, BuildStats), BuildError> {
    if options.min_zoom > options.max_zoom || options.max_zoom > 22 {
        return Err(BuildError::Zooms {
            min: options.min_zoom,
            max: options.max_zoom,
        });
    }
    let bounds = basemap.bounds().ok_or(BuildError::Empty)?;
    let trees: Vec<RTree<Boxed>> = MapLayer::ALL
        .iter()
        .map(|&l| {
            RTree::bulk_load(
                basemap
                    .features(l)
                    .iter()
                    .enumerate()
                    .filter_map(|(index, f)| {
                        let r = f.geometry.bounding_rect()?;
                        Some(Boxed {
                            aabb: AABB::from_corners(
                                [r.min().x, r.min().y],
                                [r.max().x, r.max().y],
                            ),
                            index,
                        })
                    })
                    .collect(),
            )
        })
        .collect();
    let mut writer = Writer::new(metadata(options));
    writer.set_bounds([
        bounds.min().x,
        bounds.min().y,
        bounds.max().x,
        bounds.max().y,
    ]);
    let centre = bounds.center();
    writer.set_center(
        fitting_zoom(bounds).clamp(options.min_zoom, options.max_zoom),
        [centre.x, centre.y],
    );
    let mut stats = BuildStats::default();
    for z in options.min_zoom..=options.max_zoom {
        let tiles: Vec<_> = tiles_covering(bounds, z).collect();
        let mut made = 0;
        for (i, tile) in tiles.iter().enumerate() {
            progress(z, i, tiles.len());
            let area = search_area(*tile);
            let envelope =
                AABB::from_corners([area.min().x, area.min().y], [area.max().x, area.max().y]);
            let mut builder = TileBuilder::new(*tile);
            for (slot, &layer) in MapLayer::ALL.iter().enumerate() {
                let all = basemap.features(layer);
                let mut hits: Vec<usize> = trees[slot]
                    .locate_in_envelope_intersecting(&envelope)
                    .map(|b| b.index)
                    .filter(|&i| all[i].min_zoom <= z)
                    .collect();
                if hits.is_empty() {
                    continue;
                }
                hits.sort_unstable();
                builder.add_computed_layer(
                    layer.name(),
                    hits.iter().map(|&i| ComputedFeature {
                        id: None,
                        geometry: &all[i].geometry,
                        attributes: all[i].attributes.clone(),
                    }),
                )?;
            }
            let bytes = builder.finish();
            if bytes.is_empty() {
                stats.empty += 1;
            } else {
                writer.add_tile(z, tile.x(), tile.y(), &bytes)?;
                made += 1;
            }
        }
        progress(z, tiles.len(), tiles.len());
        stats.tiles_per_zoom.push((z, made));
    }
    if writer.is_empty() {
        return Err(BuildError::Empty);
    }
    Ok((writer, stats))
}

/// The highest zoom at which the rectangle still fits a 1024-pixel-wide view.
fn fitting_zoom(r: Rect<f64>) -> u8 {
    let span = r.width().max(r.height()).max(1e-9);
    // 4 tiles of 256 px over `span` degrees: 360 / 2^z * 4 >= span
    let z = (360.0 * 4.0 / span).log2().floor();
    z.clamp(0.0, 22.0) as u8
}
