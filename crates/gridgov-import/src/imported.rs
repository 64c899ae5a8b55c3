//! What a reader hands back: features not yet given a division or validated, and the rejects.

use gridgov_model::{DivisionCode, Layer, Properties};

/// One feature read from a file, before it is given a division and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedFeature {
    /// 1-based position of the feature in the source: the n-th feature read (not GDAL's FID),
    /// or for OpenStreetMap the n-th way of the file.
    pub number: usize,
    /// The owning division, when the file says it: the feature's own `code` in the division,
    /// villager group and grid layers (its village for the last two), else a `division_code`
    /// field.
    pub division: Option<DivisionCode>,
    /// The geometry in EPSG:4326 longitude/latitude, as the file has it (a one-part
    /// multi-polygon stays multi; [`gridgov_model::geometry::conform`] adapts it later).
    pub geometry: Option<geo::Geometry<f64>>,
    /// Values of the target layer's fields; a missing key means the source had none.
    pub properties: Properties,
}

/// A feature that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// 1-based position of the feature in the source.
    pub number: usize,
    /// What is wrong, naming the field and the value where there is one.
    pub reason: String,
}

/// The result of [`crate::read_file`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReadResult {
    /// The features that were read, in source order.
    pub features: Vec<ImportedFeature>,
    /// The features that were not, in source order.
    pub rejected: Vec<Rejected>,
    /// The source's coordinate reference system, such as `EPSG:4490`; for a file without one,
    /// the CRS that was assumed.
    pub source_crs: String,
}

/// How to read a file into a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// The layer whose fields are read.
    pub layer: Layer,
    /// `(target field, source field)` pairs, for source fields not named like the target field.
    /// The target may also be `division_code`.
    pub field_map: Vec<(String, String)>,
    /// The text encoding of a Shapefile's `.dbf` or a CSV file, such as `GBK` or `GB18030`
    /// (WHATWG labels, and `CP936`). Needed for a Shapefile without `.cpg`, whose text GDAL
    /// would otherwise pass on undecoded; when given it overrides the `.cpg`. Other formats are
    /// UTF-8 by definition and ignore it.
    pub encoding: Option<String>,
    /// The layer of the source to read, for files with several (GeoPackage, KML).
    pub source_layer: Option<String>,
    /// The CSV column holding the x (longitude or easting).
    pub x_field: Option<String>,
    /// The CSV column holding the y (latitude or northing).
    pub y_field: Option<String>,
    /// The CRS to assume when the file has none, such as `EPSG:4544`.
    pub assume_crs: Option<String>,
}

impl ReadOptions {
    /// Options to read into `layer` with every other setting left to detection.
    pub fn new(layer: Layer) -> Self {
        Self {
            layer,
            field_map: Vec::new(),
            encoding: None,
            source_layer: None,
            x_field: None,
            y_field: None,
            assume_crs: None,
        }
    }
}
