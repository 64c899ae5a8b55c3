//! What goes into a tile: per layer, the attributes a map needs and the lowest zoom it is
//! drawn at; per zoom, how much geometry is simplified. The PostGIS tile query is built from
//! the same tables, so both stores make the same tiles.

use gridgov_model::{FieldDef, FieldType, Layer};

/// Tile coordinates run from 0 to `EXTENT` across a tile (the MVT default).
pub const EXTENT: u32 = 4096;

/// Geometry is kept this many tile units beyond each edge, so that lines and polygon
/// outlines do not show seams where tiles meet (`ST_AsMVTGeom`'s default is 256; 64 is
/// what most servers use for 4096 tiles).
pub const BUFFER: u32 = 64;

/// The WGS84 area whose features can reach `tile`: the tile, its [`BUFFER`], and one unit
/// more (a point up to half a unit beyond the buffer snaps onto its edge and is drawn). Both
/// stores select their candidate features by this box.
pub fn search_area(tile: crate::TileId) -> geo::Rect<f64> {
    tile.lonlat_bounds_buffered_units(BUFFER + 1, EXTENT)
}

/// The attribute every tiled feature carries besides its layer's tile fields: the division
/// that owns it (the MVT feature id is the gridgov feature id).
pub const DIVISION_ATTRIBUTE: &str = "division_code";

/// How one layer is tiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerSchema {
    /// The layer; its name is the MVT layer's name.
    pub layer: Layer,
    /// Tiles below this zoom leave the layer out (dense point layers would make low-zoom
    /// tiles huge and unreadable).
    pub min_zoom: u8,
    /// The layer's fields that go into tiles (besides [`DIVISION_ATTRIBUTE`]), in column
    /// order. Never ID-card numbers, phone numbers, personal names or free text.
    pub fields: &'static [&'static str],
}

impl LayerSchema {
    /// The definitions of [`LayerSchema::fields`], from the model.
    pub fn field_defs(&self) -> impl Iterator<Item = &'static FieldDef> + '_ {
        let layer = self.layer;
        self.fields.iter().filter_map(move |name| layer.field(name))
    }

    /// Whether tiles at zoom `z` draw this layer.
    pub fn drawn_at(&self, z: u8) -> bool {
        z >= self.min_zoom
    }
}

const fn s(layer: Layer, min_zoom: u8, fields: &'static [&'static str]) -> LayerSchema {
    LayerSchema {
        layer,
        min_zoom,
        fields,
    }
}

/// Every tiled layer (each layer with geometry), in [`Layer::ALL`] order: the order of MVT
/// layers in combined tiles, parents (drawn first, beneath) before children.
pub const SCHEMAS: &[LayerSchema] = &[
    s(Layer::Counties, 0, &["code", "name"]),
    s(Layer::Townships, 6, &["code", "name", "kind"]),
    s(Layer::Villages, 9, &["code", "name", "kind"]),
    s(Layer::VillagerGroups, 12, &["code", "name"]),
    // Not the grid worker's name or phone.
    s(Layer::Grids, 11, &["code", "name", "plan_id", "households"]),
    // Not the address (it identifies a family); the id fetches it for those allowed.
    s(Layer::Households, 14, &["size", "grid_code", "group_code"]),
    s(Layer::TransferStations, 8, &["name", "capacity_t"]),
    s(Layer::Incinerators, 6, &["name", "capacity_t"]),
    s(
        Layer::CollectionPoints,
        13,
        &["name", "kind", "waste_kinds", "volume_l", "every_days"],
    ),
    s(Layer::Roads, 9, &["name", "class", "oneway"]),
    s(Layer::Water, 8, &["name", "kind"]),
    s(Layer::LandUse, 12, &["kind"]),
    // Not the address nor the landlord.
    s(Layer::RentalHouses, 14, &["rooms"]),
    // A sensitive layer: the category only; not the person, the officer or their phone.
    s(Layer::SupervisedPersons, 13, &["category", "end_date"]),
    s(
        Layer::PositionReports,
        14,
        &["supervised_person_id", "reported_at"],
    ),
    // Not the description (free text names people).
    s(
        Layer::Disputes,
        12,
        &[
            "category",
            "channel",
            "level",
            "status",
            "opened_on",
            "deadline",
            "closed_on",
        ],
    ),
    // Every day's routes share the layer: a map shows one plan with a filter on `plan_id`.
    // The schedule (ordered stops) is fetched with the plan.
    s(
        Layer::Routes,
        10,
        &[
            "plan_id",
            "vehicle_id",
            "plate",
            "vehicle_kind",
            "stops",
            "trips",
            "collected_kg",
            "distance_m",
            "duration_s",
        ],
    ),
];

/// How `layer` is tiled; `None` for layers without geometry.
pub fn schema(layer: Layer) -> Option<&'static LayerSchema> {
    SCHEMAS.iter().find(|s| s.layer == layer)
}

/// The layers a combined (`all`) tile holds, in order.
pub fn tiled_layers() -> impl Iterator<Item = Layer> {
    SCHEMAS.iter().map(|s| s.layer)
}

/// Douglas–Peucker tolerance at zoom `z`, in tile units (of [`EXTENT`]), applied before
/// snapping to the grid: two units up to zoom 9 and one at 10 and 11, where a county's
/// outlines are drawn across a few hundred pixels; from zoom 12 on, none (0): only what
/// snapping to whole units removes, as `ST_AsMVTGeom` does.
pub fn simplify_tolerance(z: u8) -> f64 {
    match z {
        0..=9 => 2.0,
        10..=11 => 1.0,
        _ => 0.0,
    }
}

/// Whether a field may ever go into tiles: not ID-card numbers, phone numbers, and not
/// person names (fields named `name` are places, stations and roads; person names live in
/// `persons`, which has no geometry, or in fields like `worker_name` and `officer`).
pub fn field_is_public(def: &FieldDef) -> bool {
    !matches!(
        def.rule,
        gridgov_model::Rule::IdCard | gridgov_model::Rule::Phone
    ) && !def.name.ends_with("_name")
        && def.name != "officer"
        && def.name != "description"
        && def.name != "address"
        && def.name != "id_card"
}

/// Whether a field's values go into tiles as text (dates and instants, formatted as
/// `YYYY-MM-DD` and RFC 3339 UTC with milliseconds).
pub fn is_text_in_tiles(ty: FieldType) -> bool {
    matches!(ty, FieldType::Text | FieldType::Date | FieldType::DateTime)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_model::GeometryKind;

    #[test]
    fn every_layer_with_geometry_is_tiled_once_in_model_order() {
        let spatial: Vec<_> = Layer::ALL
            .iter()
            .copied()
            .filter(|l| l.geometry() != GeometryKind::None)
            .collect();
        assert_eq!(tiled_layers().collect::<Vec<_>>(), spatial);
    }

    #[test]
    fn tile_fields_exist_and_are_public() {
        for s in SCHEMAS {
            assert_eq!(s.field_defs().count(), s.fields.len(), "{}", s.layer);
            for def in s.field_defs() {
                assert!(field_is_public(def), "{}.{} is private", s.layer, def.name);
                assert!(!matches!(
                    def.rule,
                    gridgov_model::Rule::IdCard | gridgov_model::Rule::Phone
                ));
            }
            assert!(s.min_zoom <= 16);
        }
        let grids = schema(Layer::Grids).unwrap();
        assert!(!grids.fields.contains(&"worker_name") && !grids.fields.contains(&"worker_phone"));
        let sp = schema(Layer::SupervisedPersons).unwrap();
        assert!(!sp.fields.contains(&"officer") && !sp.fields.contains(&"person_id"));
        assert!(schema(Layer::Persons).is_none());
    }

    #[test]
    fn tolerance_shrinks_with_zoom() {
        let t: Vec<f64> = (0..=22).map(simplify_tolerance).collect();
        assert!(t.windows(2).all(|w| w[0] >= w[1]));
        assert!(simplify_tolerance(16).abs() < f64::EPSILON);
    }
}
