//! What a way's tags make of it: a road of some class, a building, water, land use, or
//! nothing gridgov keeps.

use gridgov_model::vocab::{LandUseKind, RoadClass, WaterKind};

/// What a way is, for gridgov.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum WayKind {
    /// A road.
    Road {
        /// Its `RoadClass` token.
        class: &'static str,
        /// One-way traffic.
        oneway: bool,
        /// One-way against the drawing direction (`oneway=-1`): reverse the line.
        reverse: bool,
        /// `name:zh`, else `name`.
        name: Option<String>,
    },
    /// A building footprint.
    Building {
        /// `addr:street addr:housenumber`, when both are there.
        address: Option<String>,
    },
    /// A river, stream or canal line (`waterway`), or a water area (`natural=water`,
    /// `landuse=reservoir`, `waterway=riverbank`; closed ways only).
    Water {
        /// Its kind.
        kind: WaterKind,
        /// Whether it is an area (else a line).
        area: bool,
        /// `name:zh`, else `name`.
        name: Option<String>,
    },
    /// A land use area (closed ways only).
    LandUse {
        /// Its kind.
        kind: LandUseKind,
    },
}

/// The tags gridgov reads from a way.
#[derive(Debug, Default)]
pub(super) struct Tags<'a> {
    highway: Option<&'a str>,
    oneway: Option<&'a str>,
    junction: Option<&'a str>,
    name: Option<&'a str>,
    name_zh: Option<&'a str>,
    building: Option<&'a str>,
    street: Option<&'a str>,
    place: Option<&'a str>,
    housenumber: Option<&'a str>,
    waterway: Option<&'a str>,
    natural: Option<&'a str>,
    water: Option<&'a str>,
    landuse: Option<&'a str>,
}

/// The water kind of a `waterway` line, and whether the value is an area instead.
fn waterway(v: &str) -> Option<(WaterKind, bool)> {
    Some(match v {
        "river" => (WaterKind::River, false),
        "stream" | "ditch" | "drain" | "brook" => (WaterKind::Stream, false),
        "canal" => (WaterKind::Canal, false),
        "riverbank" => (WaterKind::River, true),
        _ => return None,
    })
}

/// The water kind of a water area by its `water` value.
fn water_area(water: Option<&str>) -> WaterKind {
    match water {
        Some("reservoir" | "basin") => WaterKind::Reservoir,
        Some("pond" | "fishpond") => WaterKind::Pond,
        Some("river" | "oxbow") => WaterKind::River,
        Some("canal") => WaterKind::Canal,
        Some("stream" | "ditch") => WaterKind::Stream,
        _ => WaterKind::Lake,
    }
}

/// The land use kind of a `landuse` or `natural` value.
fn land_use(v: &str) -> Option<LandUseKind> {
    Some(match v {
        "farmland" | "farmyard" | "allotments" | "paddy" | "greenhouse_horticulture" => {
            LandUseKind::Farmland
        }
        "forest" | "wood" => LandUseKind::Forest,
        "residential" | "commercial" | "industrial" | "retail" | "construction" | "garages"
        | "education" | "religious" => LandUseKind::BuiltUp,
        "meadow" | "grass" | "grassland" | "heath" | "scrub" | "village_green" => {
            LandUseKind::Grassland
        }
        "orchard" | "vineyard" | "plant_nursery" | "tea" => LandUseKind::Orchard,
        _ => return None,
    })
}

/// The road class of a `highway` value; `None` for ways that are no road to keep (proposed,
/// under construction, platforms, corridors, raceways…).
pub(super) fn road_class(highway: &str) -> Option<RoadClass> {
    Some(match highway {
        "motorway" | "motorway_link" | "trunk" | "trunk_link" => RoadClass::Trunk,
        "primary" | "primary_link" => RoadClass::Primary,
        "secondary" | "secondary_link" | "tertiary" | "tertiary_link" => RoadClass::Secondary,
        "unclassified" | "residential" | "living_street" | "road" => RoadClass::Village,
        "service" => RoadClass::Lane,
        "track" => RoadClass::Track,
        "footway" | "path" | "cycleway" | "pedestrian" | "steps" | "bridleway" => RoadClass::Path,
        _ => return None,
    })
}

impl<'a> Tags<'a> {
    /// Picks the tags gridgov reads.
    pub(super) fn new(tags: impl Iterator<Item = (&'a str, &'a str)>) -> Self {
        let mut t = Tags::default();
        for (k, v) in tags {
            let v = Some(v.trim()).filter(|v| !v.is_empty());
            match k {
                "highway" => t.highway = v,
                "oneway" => t.oneway = v,
                "junction" => t.junction = v,
                "name" => t.name = v,
                "name:zh" => t.name_zh = v,
                "building" => t.building = v,
                "addr:street" => t.street = v,
                "addr:place" => t.place = v,
                "addr:housenumber" => t.housenumber = v,
                "waterway" => t.waterway = v,
                "natural" => t.natural = v,
                "water" => t.water = v,
                "landuse" => t.landuse = v,
                _ => {}
            }
        }
        t
    }

    /// What the way is: a road first, then a building, water, land use. Water areas and land
    /// use are kept by the caller only when the way is closed.
    pub(super) fn classify(&self) -> Option<WayKind> {
        if let Some(class) = self.highway.and_then(road_class) {
            let implied = matches!(self.highway, Some("motorway" | "motorway_link"))
                || matches!(self.junction, Some("roundabout" | "circular"));
            let (oneway, reverse) = match self.oneway {
                Some("yes" | "1" | "true") => (true, false),
                Some("-1" | "reverse") => (true, true),
                Some("no" | "0" | "false") => (false, false),
                _ => (implied, false),
            };
            return Some(WayKind::Road {
                class: class.token(),
                oneway,
                reverse,
                name: self.name_zh.or(self.name).map(str::to_owned),
            });
        }
        if self.building.is_some_and(|b| b != "no") {
            return Some(WayKind::Building {
                address: self.address(),
            });
        }
        let name = || self.name_zh.or(self.name).map(str::to_owned);
        if let Some((kind, area)) = self.waterway.and_then(waterway) {
            return Some(WayKind::Water {
                kind,
                area,
                name: name(),
            });
        }
        if self.natural == Some("water") || matches!(self.landuse, Some("reservoir" | "basin")) {
            let kind = match self.landuse {
                Some("reservoir" | "basin") => WaterKind::Reservoir,
                _ => water_area(self.water),
            };
            return Some(WayKind::Water {
                kind,
                area: true,
                name: name(),
            });
        }
        self.landuse
            .and_then(land_use)
            .or_else(|| self.natural.and_then(land_use))
            .map(|kind| WayKind::LandUse { kind })
    }

    /// Whether the way is kept only as an area (closed).
    pub(super) fn area_only(kind: &WayKind) -> bool {
        match kind {
            WayKind::Road { .. } => false,
            WayKind::Water { area, .. } => *area,
            WayKind::Building { .. } | WayKind::LandUse { .. } => true,
        }
    }

    /// `street housenumber`, written together when the street is Chinese (`解放路12号`).
    fn address(&self) -> Option<String> {
        let street = self.street.or(self.place)?;
        let number = self.housenumber?;
        let cjk = street.chars().last().is_some_and(|c| !c.is_ascii());
        Some(if cjk {
            format!("{street}{number}")
        } else {
            format!("{street} {number}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(tags: &[(&'static str, &'static str)]) -> Option<WayKind> {
        Tags::new(tags.iter().copied()).classify()
    }

    #[test]
    fn classes_oneway_and_names() {
        assert_eq!(
            kind(&[
                ("highway", "residential"),
                ("oneway", "-1"),
                ("name", "A"),
                ("name:zh", "甲")
            ]),
            Some(WayKind::Road {
                class: "village",
                oneway: true,
                reverse: true,
                name: Some("甲".into())
            })
        );
        let Some(WayKind::Road { oneway, class, .. }) = kind(&[("highway", "motorway")]) else {
            panic!()
        };
        assert!(oneway && class == "trunk");
        let Some(WayKind::Road { oneway, .. }) =
            kind(&[("highway", "tertiary"), ("junction", "roundabout")])
        else {
            panic!()
        };
        assert!(oneway);
        let Some(WayKind::Road { oneway, .. }) = kind(&[("highway", "motorway"), ("oneway", "no")])
        else {
            panic!()
        };
        assert!(!oneway);
        assert_eq!(kind(&[("highway", "construction")]), None);
        assert_eq!(kind(&[("highway", "proposed")]), None);
        assert_eq!(kind(&[("highway", "platform")]), None);
        for (h, c) in [
            ("service", "lane"),
            ("track", "track"),
            ("steps", "path"),
            ("trunk", "trunk"),
            ("primary", "primary"),
            ("tertiary", "secondary"),
        ] {
            let Some(WayKind::Road { class, .. }) = kind(&[("highway", h)]) else {
                panic!("{h}")
            };
            assert_eq!(class, c);
        }
    }

    #[test]
    fn buildings_and_addresses() {
        assert_eq!(
            kind(&[
                ("building", "yes"),
                ("addr:street", "Landstrasse"),
                ("addr:housenumber", "12")
            ]),
            Some(WayKind::Building {
                address: Some("Landstrasse 12".into())
            })
        );
        assert_eq!(
            kind(&[
                ("building", "house"),
                ("addr:street", "解放路"),
                ("addr:housenumber", "12号")
            ]),
            Some(WayKind::Building {
                address: Some("解放路12号".into())
            })
        );
        assert_eq!(
            kind(&[("building", "yes")]),
            Some(WayKind::Building { address: None })
        );
        assert_eq!(kind(&[("building", "no")]), None);
    }

    #[test]
    fn water_lines_water_areas_and_land_use() {
        assert_eq!(
            kind(&[("waterway", "river"), ("name", "Rhein")]),
            Some(WayKind::Water {
                kind: WaterKind::River,
                area: false,
                name: Some("Rhein".into())
            })
        );
        assert!(matches!(
            kind(&[("waterway", "ditch")]),
            Some(WayKind::Water {
                kind: WaterKind::Stream,
                area: false,
                ..
            })
        ));
        assert!(matches!(
            kind(&[("natural", "water"), ("water", "pond")]),
            Some(WayKind::Water {
                kind: WaterKind::Pond,
                area: true,
                ..
            })
        ));
        assert!(matches!(
            kind(&[("natural", "water")]),
            Some(WayKind::Water {
                kind: WaterKind::Lake,
                area: true,
                ..
            })
        ));
        assert!(matches!(
            kind(&[("landuse", "reservoir")]),
            Some(WayKind::Water {
                kind: WaterKind::Reservoir,
                area: true,
                ..
            })
        ));
        assert_eq!(
            kind(&[("landuse", "residential")]),
            Some(WayKind::LandUse {
                kind: LandUseKind::BuiltUp
            })
        );
        assert_eq!(
            kind(&[("natural", "wood")]),
            Some(WayKind::LandUse {
                kind: LandUseKind::Forest
            })
        );
        assert_eq!(kind(&[("landuse", "military")]), None);
        assert_eq!(kind(&[("waterway", "dam")]), None);
        // A road along a river bank is a road.
        assert!(matches!(
            kind(&[("highway", "track"), ("waterway", "river")]),
            Some(WayKind::Road { .. })
        ));
    }
}
