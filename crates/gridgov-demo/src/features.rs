//! Turning the generated world into features: the administrative tree, the grid plan, the
//! households, land use, water and roads.

use chrono::Duration;
use geo::{Geometry, LineString, MultiPolygon, Point, Polygon};
use gridgov_model::vocab::{PlanStatus, TownshipKind, VillageKind};
use gridgov_model::{Feature, Layer};
use rand::Rng;

use crate::calendar::ymd;
use crate::county::{code, COUNTY_CODE};
use crate::frame::to_lonlat;
use crate::names::{self, COUNTY_NAME, COUNTY_SHORT};
use crate::output::Out;
use crate::roads::Road;
use crate::shapes::Shapes;
use crate::world::World;

/// The one polygon of a connected set of atoms (the largest, should a bug ever split one).
fn single(mut polygons: Vec<Polygon<f64>>) -> Polygon<f64> {
    debug_assert_eq!(polygons.len(), 1, "a region fell apart");
    if polygons.is_empty() {
        Polygon::new(LineString(Vec::new()), Vec::new())
    } else {
        polygons.swap_remove(0)
    }
}

/// The polygon of every village, for later use (fences).
pub(crate) struct VillageShapes {
    pub(crate) polygons: Vec<Polygon<f64>>,
}

/// Adds the county, townships, villages and villager groups.
pub(crate) fn divisions(world: &World, shapes: &Shapes, out: &mut Out) -> VillageShapes {
    let county = code(COUNTY_CODE);
    let outline = shapes.polygons(&world.county_atoms, |n| world.in_county[n]);
    out.push(
        Layer::Counties,
        Feature::new(county, Some(Geometry::MultiPolygon(MultiPolygon(outline))))
            .with("code", county.as_str())
            .with("name", COUNTY_NAME),
    );
    for (t, township) in world.townships.iter().enumerate() {
        let p = shapes.polygons(&township.atoms, |n| world.township_of[n] == t as u32);
        out.push(
            Layer::Townships,
            Feature::new(township.code, Some(Geometry::MultiPolygon(MultiPolygon(p))))
                .with("code", township.code.as_str())
                .with("name", township.name.clone())
                .with("kind", TownshipKind::Town.token()),
        );
    }
    let mut polygons = Vec::new();
    for (v, village) in world.villages.iter().enumerate() {
        let p = single(shapes.polygons(&village.atoms, |n| world.village_of[n] == v as u32));
        let kind = if village.community {
            VillageKind::Community
        } else {
            VillageKind::Village
        };
        out.push(
            Layer::Villages,
            Feature::new(
                village.code,
                Some(Geometry::MultiPolygon(MultiPolygon(vec![p.clone()]))),
            )
            .with("code", village.code.as_str())
            .with("name", village.name.clone())
            .with("kind", kind.token()),
        );
        polygons.push(p);
    }
    for (g, group) in world.groups.iter().enumerate() {
        let p = shapes.polygons(&group.atoms, |n| world.group_of[n] == g as u32);
        out.push(
            Layer::VillagerGroups,
            Feature::new(
                world.villages[group.village].code,
                Some(Geometry::MultiPolygon(MultiPolygon(p))),
            )
            .with("code", group.code.to_string())
            .with("name", format!("{}组", group.hamlet_name)),
        );
    }
    VillageShapes { polygons }
}

/// Adds one effective grid plan per township and the grids, and returns the plan ids.
pub(crate) fn grid_plan(world: &World, shapes: &Shapes, out: &mut Out, rng: &mut impl Rng) {
    let mut plan_ids = Vec::new();
    let base = const { ymd(2024, 2, 20) };
    for township in &world.townships {
        let created = base + Duration::days(rng.gen_range(0..30));
        let effective = const { ymd(2024, 4, 1) };
        plan_ids.push(
            out.push(
                Layer::GridPlans,
                Feature::new(township.code, None)
                    .with(
                        "name",
                        format!("{}网格化服务管理网格划分方案（2024年版）", township.name),
                    )
                    .with("status", PlanStatus::Effective.token())
                    .with("created_on", created)
                    .with("effective_from", effective)
                    .with("note", "演示数据：随机生成的初始网格方案"),
            ),
        );
    }
    for (i, grid) in world.grids.iter().enumerate() {
        let village = &world.villages[grid.village];
        let p = single(shapes.polygons(&grid.atoms, |n| world.grid_of[n] == i as u32));
        let female = rng.gen_bool(0.5);
        out.push(
            Layer::Grids,
            Feature::new(village.code, Some(Geometry::Polygon(p)))
                .with("code", grid.code.to_string())
                .with(
                    "name",
                    format!("{}第{}网格", village.name, grid.code.number()),
                )
                .with("plan_id", plan_ids[village.township])
                .with("worker_name", names::person(rng, female))
                .with("worker_phone", names::phone(rng))
                .with("households", grid.households as i64),
        );
    }
}

/// Adds the households.
pub(crate) fn households(world: &World, out: &mut Out) {
    for (i, h) in world.households.iter().enumerate() {
        let village = &world.villages[h.village];
        out.push(
            Layer::Households,
            Feature::new(village.code, Some(Geometry::Point(Point(to_lonlat(h.pos)))))
                .with("address", address(world, i))
                .with("size", h.size)
                .with("grid_code", world.grids[h.grid].code.to_string())
                .with("group_code", world.groups[h.group].code.to_string()),
        );
    }
}

/// The address of household `i`.
pub(crate) fn address(world: &World, i: usize) -> String {
    let h = &world.households[i];
    let village = &world.villages[h.village];
    format!(
        "{COUNTY_SHORT}{}{}{}组{}号",
        world.townships[village.township].name,
        village.name,
        world.groups[h.group].code.number(),
        h.number
    )
}

/// Adds the land-use patches.
pub(crate) fn land_use(world: &World, shapes: &Shapes, out: &mut Out) {
    for (i, patch) in world.patches.iter().enumerate() {
        let p = single(shapes.polygons(&patch.atoms, |n| world.patch_of[n] == i as u32));
        out.push(
            Layer::LandUse,
            Feature::new(
                world.villages[patch.village].code,
                Some(Geometry::Polygon(p)),
            )
            .with("kind", patch.kind.token()),
        );
    }
}

/// Adds the river, streams, lake, reservoir and ponds.
pub(crate) fn water(world: &World, out: &mut Out) {
    let county = code(COUNTY_CODE);
    let owner = |a: Option<usize>| {
        a.and_then(|a| world.villages.get(world.village_of[a] as usize))
            .map_or(county, |v| v.code)
    };
    for line in &world.water.lines {
        let g = LineString(line.points.iter().copied().map(to_lonlat).collect());
        out.push(
            Layer::Water,
            Feature::new(owner(line.source), Some(Geometry::LineString(g)))
                .with("name", line.name.clone())
                .with("kind", line.kind.token()),
        );
    }
    for area in &world.water.areas {
        let mut ring: Vec<_> = area.ring.iter().copied().map(to_lonlat).collect();
        ring.push(ring[0]);
        let centre = world
            .mesh
            .locate(area.blob.centre)
            .filter(|&a| world.in_county[a]);
        let mut f = Feature::new(
            owner(centre),
            Some(Geometry::Polygon(Polygon::new(
                LineString(ring),
                Vec::new(),
            ))),
        )
        .with("kind", area.kind.token());
        if let Some(name) = &area.name {
            f = f.with("name", name.clone());
        }
        out.push(Layer::Water, f);
    }
}

/// Adds the roads.
pub(crate) fn roads(roads: &[Road], out: &mut Out) {
    for road in roads {
        let g = LineString(road.points.iter().copied().map(to_lonlat).collect());
        let mut f = Feature::new(road.division, Some(Geometry::LineString(g)))
            .with("class", road.class.token())
            .with("oneway", road.oneway);
        if let Some(name) = &road.name {
            f = f.with("name", name.clone());
        }
        out.push(Layer::Roads, f);
    }
}
