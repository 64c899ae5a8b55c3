//! Sanitation (城乡环卫一体化): village transfer stations, township incinerators, collection
//! points near the houses, trucks and tricycles, and cleaners.

use geo::{Coord, Geometry, Point};
use gridgov_model::vocab::{CollectionPointKind, VehicleKind, WasteKind};
use gridgov_model::{Feature, Layer};
use rand::Rng;

use crate::frame::{dist, to_lonlat};
use crate::output::Out;
use crate::persons::People;
use crate::shapes::Shapes;
use crate::world::World;

/// A dry atom of the set, preferably between `near` and `far` metres from `from`.
fn site(
    world: &World,
    atoms: &[usize],
    from: Coord<f64>,
    near: f64,
    far: f64,
    rng: &mut impl Rng,
) -> Option<usize> {
    let dry: Vec<usize> = atoms.iter().copied().filter(|&a| world.dry(a)).collect();
    let ring: Vec<usize> = dry
        .iter()
        .copied()
        .filter(|&a| (near..far).contains(&dist(world.mesh.centre(a), from)))
        .collect();
    let pool = if ring.is_empty() { &dry } else { &ring };
    (!pool.is_empty()).then(|| pool[rng.gen_range(0..pool.len())])
}

/// A point feature's geometry inside atom `a`, clear of the corners polygons cut off.
fn point_in(world: &World, shapes: &Shapes, a: usize, rng: &mut impl Rng) -> Geometry<f64> {
    let p = shapes.settle(a, world.mesh.sample(a, 0.8, rng));
    Geometry::Point(Point(to_lonlat(p)))
}

fn kinds(list: &[WasteKind]) -> String {
    list.iter().map(|k| k.token()).collect::<Vec<_>>().join(",")
}

/// Adds everything sanitation; `people` receives the cleaners.
pub(crate) fn build(
    world: &World,
    shapes: &Shapes,
    out: &mut Out,
    people: &mut People,
    rng: &mut impl Rng,
) {
    let mesh = &world.mesh;
    // Transfer stations, 1-3 per village.
    let mut stations: Vec<Vec<i64>> = Vec::new();
    for village in &world.villages {
        let count = if village.community {
            rng.gen_range(2..=3)
        } else {
            rng.gen_range(1..=2)
        };
        let mut ids = Vec::new();
        for k in 0..count {
            let hamlet = world.groups[village.groups[k % village.groups.len()]].hamlet;
            let Some(a) = site(
                world,
                &village.atoms,
                mesh.centre(hamlet),
                200.0,
                700.0,
                rng,
            ) else {
                continue;
            };
            let name = match k {
                0 => format!("{}垃圾中转站", village.name),
                _ => format!("{}第{}垃圾中转站", village.name, ["", "二", "三"][k]),
            };
            let capacity = if village.community {
                rng.gen_range(8.0..15.0_f64)
            } else {
                rng.gen_range(3.0..8.0_f64)
            };
            ids.push(
                out.push(
                    Layer::TransferStations,
                    Feature::new(village.code, Some(point_in(world, shapes, a, rng)))
                        .with("name", name)
                        .with("capacity_t", (capacity * 2.0).round() / 2.0),
                ),
            );
        }
        stations.push(ids);
    }
    // One incinerator per township, away from the seat.
    for (t, township) in world.townships.iter().enumerate() {
        let far_from_homes: Vec<usize> = township
            .atoms
            .iter()
            .copied()
            .filter(|&a| world.land[a] != Some(gridgov_model::vocab::LandUseKind::BuiltUp))
            .collect();
        if let Some(a) = site(
            world,
            &far_from_homes,
            mesh.centre(township.seat),
            1_500.0,
            4_000.0,
            rng,
        ) {
            let capacity = if t == 0 {
                200.0
            } else {
                f64::from(rng.gen_range(3..=8) * 10)
            };
            out.push(
                Layer::Incinerators,
                Feature::new(township.code, Some(point_in(world, shapes, a, rng)))
                    .with("name", format!("{}垃圾焚烧站", township.name))
                    .with("capacity_t", capacity),
            );
        }
    }
    collection_points(world, shapes, out, rng);
    // Vehicles: trucks per township, a tricycle per village.
    let mut tricycles = Vec::new();
    for (t, township) in world.townships.iter().enumerate() {
        let trucks = if t == 0 { 2 } else { rng.gen_range(1..=2) };
        let depot = township
            .villages
            .first()
            .and_then(|&v| stations[v].first().copied());
        for _ in 0..trucks {
            let mut f = Feature::new(township.code, None)
                .with("plate", crate::names::plate(rng, 'D'))
                .with("kind", VehicleKind::Truck.token())
                .with(
                    "capacity_kg",
                    if rng.gen_bool(0.5) { 5_000.0 } else { 8_000.0 },
                );
            if let Some(d) = depot {
                f = f.with("depot_station_id", d);
            }
            out.push(Layer::Vehicles, f);
        }
    }
    for (v, village) in world.villages.iter().enumerate() {
        let mut f = Feature::new(village.code, None)
            .with("plate", crate::names::plate(rng, 'C'))
            .with("kind", VehicleKind::Tricycle.token())
            .with("capacity_kg", 500.0);
        if let Some(&d) = stations[v].first() {
            f = f.with("depot_station_id", d);
        }
        tricycles.push(out.push(Layer::Vehicles, f));
    }
    // Cleaners: one per villager group, three per village for public areas and main roads.
    for (v, village) in world.villages.iter().enumerate() {
        for &g in &village.groups {
            let person = people.add(out, village.code, 1958..=1990, rng);
            out.push(
                Layer::Cleaners,
                Feature::new(village.code, None)
                    .with("person_id", person)
                    .with("area_code", world.groups[g].code.to_string()),
            );
        }
        for k in 0..3 {
            let person = people.add(out, village.code, 1960..=1992, rng);
            let mut f = Feature::new(village.code, None)
                .with("person_id", person)
                .with("area_code", village.code.as_str());
            if k == 0 {
                f = f.with("vehicle_id", tricycles[v]);
            }
            out.push(Layer::Cleaners, f);
        }
    }
}

/// Collection points: the houses of each group, taken round the hamlet, in runs of 15-30; a
/// point next to the middle house of each run.
fn collection_points(world: &World, shapes: &Shapes, out: &mut Out, rng: &mut impl Rng) {
    let mesh = &world.mesh;
    for village in &world.villages {
        // Households are already ordered by group and by bearing round the hamlet.
        let mut i = 0;
        let list = &village.households;
        let mut number = 0;
        while i < list.len() {
            let group = world.households[list[i]].group;
            let end = list[i..]
                .iter()
                .position(|&h| world.households[h].group != group)
                .map_or(list.len(), |p| i + p);
            let take = rng.gen_range(15..=30).min(end - i);
            let run = &list[i..i + take];
            i += take;
            let middle = &world.households[run[run.len() / 2]];
            let c = mesh.centre(middle.atom);
            let p = Coord {
                x: middle.pos.x + 0.3 * (c.x - middle.pos.x),
                y: middle.pos.y + 0.3 * (c.y - middle.pos.y),
            };
            let p = shapes.settle(middle.atom, p);
            let pool = !village.community && rng.gen_bool(0.7);
            number += 1;
            let group_no = world.groups[group].code.number();
            let f = if pool {
                let waste = if rng.gen_bool(0.6) {
                    kinds(&[WasteKind::Burnable, WasteKind::Compost])
                } else {
                    kinds(&[
                        WasteKind::Burnable,
                        WasteKind::Compost,
                        WasteKind::Construction,
                    ])
                };
                Feature::new(village.code, Some(Geometry::Point(Point(to_lonlat(p)))))
                    .with(
                        "name",
                        format!("{}{group_no}组垃圾池{number}", village.name),
                    )
                    .with("kind", CollectionPointKind::GarbagePool.token())
                    .with("waste_kinds", waste)
                    .with("volume_l", f64::from(rng.gen_range(3..=8) * 1_000))
                    .with("every_days", rng.gen_range(2..=3_i64))
            } else {
                let waste = kinds(&[
                    WasteKind::Compost,
                    WasteKind::Recyclable,
                    WasteKind::Hazardous,
                    WasteKind::Burnable,
                ]);
                Feature::new(village.code, Some(Geometry::Point(Point(to_lonlat(p)))))
                    .with(
                        "name",
                        format!("{}{group_no}组分类垃圾桶{number}", village.name),
                    )
                    .with("kind", CollectionPointKind::BinGroup.token())
                    .with("waste_kinds", waste)
                    .with("volume_l", f64::from(rng.gen_range(3..=4) * 240))
                    .with("every_days", 1_i64)
            };
            out.push(Layer::CollectionPoints, f);
        }
    }
}
