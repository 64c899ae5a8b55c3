//! Floating population and special populations: rental houses with landlords and tenancies
//! (以房管人), and supervised persons with their electronic fence and position reports.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use geo::{Coord, Geometry, LineString, Point, Polygon};
use gridgov_model::vocab::SupervisionCategory;
use gridgov_model::{Feature, Layer};
use rand::Rng;

use crate::calendar::{ymd, AS_OF, REPORTS_FROM};
use crate::features::{address, VillageShapes};
use crate::frame::to_lonlat;
use crate::names;
use crate::output::Out;
use crate::persons::People;
use crate::random::{normal, pick_weighted};
use crate::world::World;

fn random_day(from: NaiveDate, to: NaiveDate, rng: &mut impl Rng) -> NaiveDate {
    let span = (to - from).num_days().max(0);
    from + Duration::days(rng.gen_range(0..=span))
}

/// `k` distinct indices drawn with probability proportional to `weights`, in ascending order
/// (Efraimidis–Spirakis keys).
fn weighted_sample(weights: &[f64], k: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut keys: Vec<(f64, usize)> = weights
        .iter()
        .enumerate()
        .filter(|(_, w)| **w > 0.0)
        .map(|(i, w)| ((1.0 - rng.gen::<f64>()).ln() / w, i))
        .collect();
    keys.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut chosen: Vec<usize> = keys.into_iter().take(k).map(|(_, i)| i).collect();
    chosen.sort_unstable();
    chosen
}

/// Adds rental houses (about 5 % of households, more in the communities), their landlords,
/// and tenancies.
pub(crate) fn rentals(world: &World, out: &mut Out, people: &mut People, rng: &mut impl Rng) {
    let weights: Vec<f64> = world
        .households
        .iter()
        .map(|h| {
            let v = &world.villages[h.village];
            if v.town {
                3.5
            } else if v.community {
                2.0
            } else {
                0.6
            }
        })
        .collect();
    let count = (world.households.len() as f64 * rng.gen_range(0.048..0.053)).round() as usize;
    for i in weighted_sample(&weights, count, rng) {
        let h = &world.households[i];
        let village = &world.villages[h.village];
        let landlord = people.add(out, village.code, 1950..=1990, rng);
        let rooms = if village.community {
            rng.gen_range(2..=8)
        } else {
            rng.gen_range(1..=4)
        };
        let house = out.push(
            Layer::RentalHouses,
            Feature::new(village.code, Some(Geometry::Point(Point(to_lonlat(h.pos)))))
                .with("address", address(world, i))
                .with("landlord_id", landlord)
                .with("rooms", i64::from(rooms))
                .with("household_id", crate::world::Household::id(i)),
        );
        let tenancies = rng.gen_range(1..=4.min(rooms + 1));
        for _ in 0..tenancies {
            let tenant = people.add(out, village.code, 1968..=2006, rng);
            let check_in = random_day(const { ymd(2023, 1, 1) }, AS_OF - Duration::days(7), rng);
            let mut f = Feature::new(village.code, None)
                .with("rental_house_id", house)
                .with("person_id", tenant)
                .with("check_in", check_in);
            let stay = Duration::days(rng.gen_range(30..=540));
            if rng.gen_bool(0.45) && check_in + stay <= AS_OF {
                f = f.with("check_out", check_in + stay);
            }
            out.push(Layer::Tenancies, f);
        }
    }
}

/// A closed ring of `n` points round `centre` at `radius` metres, gently wavy.
fn fence_ring(centre: Coord<f64>, radius: f64, rng: &mut impl Rng) -> LineString<f64> {
    let n = 32;
    let phase = rng.gen_range(0.0..std::f64::consts::TAU);
    let mut pts: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let t = f64::from(i) / f64::from(n) * std::f64::consts::TAU;
            let r = radius * (1.0 + 0.04 * (3.0 * t + phase).sin());
            to_lonlat(Coord {
                x: centre.x + r * t.cos(),
                y: centre.y + r * t.sin(),
            })
        })
        .collect();
    pts.push(pts[0]);
    LineString(pts)
}

/// Adds supervised persons (about 0.1 % of households), each with an allowed area (a circle
/// round home or the home village) and three weeks of position reports every 4-8 hours, a few
/// of them outside the fence.
pub(crate) fn supervision(
    world: &World,
    villages: &VillageShapes,
    out: &mut Out,
    people: &mut People,
    rng: &mut impl Rng,
) {
    let count = (world.households.len() as f64 / 1_000.0).round() as usize;
    let homes = weighted_sample(&vec![1.0; world.households.len()], count, rng);
    let categories = [
        (SupervisionCategory::CommunityCorrection, 40.0),
        (SupervisionCategory::ReleasedPrisoner, 25.0),
        (SupervisionCategory::DrugRehabilitation, 25.0),
        (SupervisionCategory::LeftBehindChild, 10.0),
    ];
    let shares: Vec<f64> = categories.iter().map(|c| c.1).collect();
    let reports_from = Utc.from_utc_datetime(&REPORTS_FROM);
    let reports_to = reports_from + Duration::days(21);
    for (k, &i) in homes.iter().enumerate() {
        let h = &world.households[i];
        let v = h.village;
        let village = &world.villages[v];
        let category = categories[pick_weighted(rng, &shares)].0;
        let born = if category == SupervisionCategory::LeftBehindChild {
            2012..=2019
        } else {
            1966..=2002
        };
        let person = people.add(out, village.code, born, rng);
        let start = random_day(const { ymd(2024, 1, 1) }, const { ymd(2026, 9, 1) }, rng);
        let end = random_day(const { ymd(2026, 12, 1) }, const { ymd(2028, 12, 31) }, rng);
        // Every third person is fenced to the home village, the others to a circle round home.
        let by_village = k % 3 == 2;
        let radius = rng.gen_range(1_500.0..3_000.0);
        let fence = if by_village {
            villages.polygons[v].clone()
        } else {
            Polygon::new(fence_ring(h.pos, radius, rng), Vec::new())
        };
        let officer_female = rng.gen_bool(0.3);
        let id = out.push(
            Layer::SupervisedPersons,
            Feature::new(village.code, Some(Geometry::Polygon(fence)))
                .with("person_id", person)
                .with("category", category.token())
                .with("officer", names::person(rng, officer_female))
                .with("officer_phone", names::phone(rng))
                .with("start_date", start)
                .with("end_date", end),
        );
        // About a third of them leave their area once, for one to three reports.
        let breach = if k % 3 == 0 {
            let hours = (reports_to - reports_from).num_hours();
            Some((
                reports_from + Duration::hours(rng.gen_range(24..hours - 24)),
                rng.gen_range(1..=3),
            ))
        } else {
            None
        };
        let away = world.households[rng.gen_range(0..world.households.len())].pos;
        let mut at = reports_from + Duration::minutes(rng.gen_range(0..240));
        let mut pending = breach;
        let mut outside_left = 0;
        while at < reports_to {
            if let Some((when, n)) = pending {
                if at >= when {
                    outside_left = n;
                    pending = None;
                }
            }
            let pos = if outside_left > 0 {
                outside_left -= 1;
                outside(world, h, by_village, radius, away, rng)
            } else {
                inside(world, h, by_village, radius, rng)
            };
            out.push(
                Layer::PositionReports,
                Feature::new(village.code, Some(Geometry::Point(Point(to_lonlat(pos)))))
                    .with("supervised_person_id", id)
                    .with("reported_at", at),
            );
            at += Duration::minutes(rng.gen_range(240..=480));
        }
    }
}

/// A position inside the fence: near home (circle fences) or at a house of the village.
fn inside(
    world: &World,
    home: &crate::world::Household,
    by_village: bool,
    radius: f64,
    rng: &mut impl Rng,
) -> Coord<f64> {
    if by_village {
        let list = &world.villages[home.village].households;
        let other = &world.households[list[rng.gen_range(0..list.len())]];
        return other.pos;
    }
    let r = radius * 0.5 * rng.gen::<f64>().sqrt();
    let t = rng.gen_range(0.0..std::f64::consts::TAU);
    Coord {
        x: home.pos.x + r * t.cos(),
        y: home.pos.y + r * t.sin(),
    }
}

/// A position outside the fence: well beyond the circle, or at a house of another village.
fn outside(
    world: &World,
    home: &crate::world::Household,
    by_village: bool,
    radius: f64,
    away: Coord<f64>,
    rng: &mut impl Rng,
) -> Coord<f64> {
    let jitter = Coord {
        x: 15.0 * normal(rng),
        y: 15.0 * normal(rng),
    };
    if by_village {
        // A house in another village: find one near `away`, else the county town.
        let other = world
            .households
            .iter()
            .find(|o| o.village != home.village && crate::frame::dist(o.pos, away) < 3_000.0)
            .or_else(|| world.households.iter().find(|o| o.village != home.village));
        return other.map_or(away, |o| o.pos);
    }
    let r = radius * rng.gen_range(1.4..2.5);
    let t = rng.gen_range(0.0..std::f64::consts::TAU);
    Coord {
        x: home.pos.x + r * t.cos() + jitter.x,
        y: home.pos.y + r * t.sin() + jitter.y,
    }
}
