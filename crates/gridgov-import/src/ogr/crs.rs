//! Coordinate reference systems: naming them, and reprojecting to EPSG:4326.

use std::path::Path;

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};

use super::diagnostics;
use crate::ImportError;

/// EPSG:4326 in longitude/latitude order.
pub(crate) fn wgs84(path: &Path) -> Result<SpatialRef, ImportError> {
    let mut srs = SpatialRef::from_epsg(4326).map_err(|e| ImportError::Crs {
        path: path.to_owned(),
        crs: "EPSG:4326".into(),
        reason: diagnostics::reason(&e),
    })?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// Parses a CRS given by the user (`EPSG:4544`, WKT or a PROJ string).
pub(crate) fn parse(path: &Path, text: &str) -> Result<SpatialRef, ImportError> {
    let mut srs = SpatialRef::from_definition(text).map_err(|e| ImportError::Crs {
        path: path.to_owned(),
        crs: text.to_owned(),
        reason: diagnostics::reason(&e),
    })?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// A CRS's name for people: `EPSG:4490` when it has (or can be given) an authority code,
/// else its own name.
pub(crate) fn describe(srs: &SpatialRef) -> String {
    let code = |s: &SpatialRef| match (s.auth_name(), s.auth_code()) {
        (Some(name), Ok(code)) => Some(format!("{name}:{code}")),
        _ => None,
    };
    code(srs)
        .or_else(|| {
            let mut guess = srs.clone();
            guess.auto_identify_epsg().ok().and_then(|()| code(&guess))
        })
        .or_else(|| srs.name())
        .unwrap_or_else(|| "unnamed CRS".into())
}

/// Reprojects from a source CRS to EPSG:4326 longitude/latitude.
pub(crate) struct Reprojection {
    /// `None` when the source is EPSG:4326 already.
    transform: Option<CoordTransform>,
}

impl Reprojection {
    /// From `source` (its axis order is set to longitude first / easting first).
    pub(crate) fn new(path: &Path, source: &mut SpatialRef) -> Result<Self, ImportError> {
        source.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
        if source.auth_name().as_deref() == Some("EPSG") && source.auth_code().ok() == Some(4326) {
            return Ok(Self { transform: None });
        }
        let target = wgs84(path)?;
        let transform = CoordTransform::new(source, &target).map_err(|e| ImportError::Crs {
            path: path.to_owned(),
            crs: describe(source),
            reason: diagnostics::reason(&e),
        })?;
        Ok(Self {
            transform: Some(transform),
        })
    }

    /// No reprojection.
    pub(crate) fn identity() -> Self {
        Self { transform: None }
    }

    /// The geometry in EPSG:4326, as WKB.
    pub(crate) fn to_wkb(&self, g: &gdal::vector::Geometry) -> Result<Vec<u8>, String> {
        let why = |e: &gdal::errors::GdalError| {
            format!("geometry cannot be encoded: {}", diagnostics::reason(e))
        };
        match &self.transform {
            None => g.wkb().map_err(|e| why(&e)),
            Some(t) => g
                .transform(t)
                .map_err(|e| {
                    format!(
                        "geometry cannot be reprojected to longitude/latitude: {}",
                        diagnostics::reason(&e)
                    )
                })?
                .wkb()
                .map_err(|e| why(&e)),
        }
    }
}
