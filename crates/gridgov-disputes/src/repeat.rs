//! Repeat disputes (重复纠纷): a case repeats an earlier one when it was opened within
//! [`REPEAT_MONTHS`] calendar months after it and either lies within [`REPEAT_DISTANCE_M`]
//! metres of it (geodesic, WGS84) or shares at least one party with it.
//!
//! [`repeats`] finds every such pair among a set of cases without comparing all pairs: the
//! cases are taken in the order they were opened, each is looked up among the earlier ones
//! in its own and the eight neighbouring cells of a lon/lat grid at least 200 m wide, and
//! under each of its parties' names; the look-up stops at the first case too old to count.
//! The work then grows with the number of cases and of the near or same-party pairs within
//! the window, not with its square (20,000 cases of a county over three years take about a
//! tenth of a second: `benches/repeat.rs`). Where many cases share one place (all put at a
//! village's centre, say) or one party, the pairs themselves are many: that is the answer.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};
use geo::{Distance, Geodesic, Haversine, Point};
use serde::Serialize;

use crate::case::Case;

/// How close two disputes must be to count as the same place, in metres.
pub const REPEAT_DISTANCE_M: f64 = 200.0;

/// How many calendar months after a case a later one counts as its repeat.
pub const REPEAT_MONTHS: u32 = 6;

/// The side of a spatial-hash cell, in metres: the repeat distance with a margin for the
/// difference between the geodesic and the cell's own approximations.
const CELL_M: f64 = REPEAT_DISTANCE_M * 1.05;

/// The fewest metres in a degree of latitude (at the equator: 110.574 km), rounded down.
const M_PER_DEGREE_LAT: f64 = 110_000.0;

/// The fewest metres in a degree of longitude at the equator (111.320 km), rounded down;
/// times the cosine of the latitude elsewhere.
const M_PER_DEGREE_LON: f64 = 111_000.0;

/// One earlier case that a case repeats, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Repeat {
    /// The earlier case's position in the slice given to [`repeats`].
    pub earlier: usize,
    /// Whether the two lie within [`REPEAT_DISTANCE_M`] of each other.
    pub near: bool,
    /// Whether they share at least one party (names compared exactly after trimming).
    pub same_party: bool,
}

/// For each case (by its position in `cases`), the earlier cases it repeats, oldest first.
///
/// "Earlier" orders cases by the day they were opened, then by id (cases not yet stored
/// after stored ones), then by position: of two cases opened the same day, the later one in
/// that order repeats the other. A case repeats an earlier one when it was opened no later
/// than [`REPEAT_MONTHS`] calendar months after it (31 August + 6 months is the last day of
/// February) and either both have a location and lie within [`REPEAT_DISTANCE_M`] metres
/// (geodesic distance on WGS84), or they share a party. Locations that are not finite
/// longitude/latitude pairs are ignored; longitudes are not wrapped at ±180°.
pub fn repeats(cases: &[Case]) -> Vec<Vec<Repeat>> {
    let (entries, parties) = entries(cases);
    let cells = Cells::for_entries(&entries);
    // Cases seen so far (by their place in `entries`), per cell and per party, oldest first.
    let mut by_cell: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    let mut by_party: Vec<Vec<usize>> = vec![Vec::new(); parties.len()];
    let mut out = vec![Vec::new(); cases.len()];
    let mut candidates = Vec::new();

    for (r, entry) in entries.iter().enumerate() {
        // Every case opened before this day is too old to be repeated; a month more than the
        // window, so that the exact test (with its end-of-month rules) decides.
        let floor = entry
            .opened
            .checked_sub_months(Months::new(REPEAT_MONTHS + 1))
            .unwrap_or(NaiveDate::MIN);
        let recent = |list: &Vec<usize>, into: &mut Vec<usize>| {
            into.extend(
                list.iter()
                    .rev()
                    .take_while(|&&j| entries[j].opened >= floor)
                    .copied(),
            );
        };

        candidates.clear();
        let cell = entry.at.map(|p| cells.cell(p));
        if let Some((x, y)) = cell {
            for dx in -1..=1 {
                for dy in -1..=1 {
                    if let Some(list) = by_cell.get(&(x + dx, y + dy)) {
                        recent(list, &mut candidates);
                    }
                }
            }
        }
        for &p in &entry.parties {
            recent(&by_party[p], &mut candidates);
        }
        candidates.sort_unstable();
        candidates.dedup();
        out[entry.index].extend(
            candidates
                .iter()
                .filter_map(|&j| relation(&entries[j], entry)),
        );

        if let Some(c) = cell {
            by_cell.entry(c).or_default().push(r);
        }
        for &p in &entry.parties {
            by_party[p].push(r);
        }
    }
    out
}

/// What the search needs of a case, kept small and in the order the cases were opened.
struct Entry {
    /// The case's position in the slice given.
    index: usize,
    /// The day it was opened.
    opened: NaiveDate,
    /// The last day a case repeating it may be opened.
    until: NaiveDate,
    /// Its location, when valid.
    at: Option<Point<f64>>,
    /// Its parties, as numbers of their names (see [`entries`]), sorted, without duplicates.
    parties: Vec<usize>,
}

/// The cases as entries in "earlier" order, and the party names (the numbers in
/// [`Entry::parties`] index it).
fn entries(cases: &[Case]) -> (Vec<Entry>, Vec<&str>) {
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.sort_by_key(|&i| (cases[i].opened_on, cases[i].id.is_none(), cases[i].id, i));
    let mut names: Vec<&str> = Vec::new();
    let mut numbers: HashMap<&str, usize> = HashMap::new();
    let entries = order
        .into_iter()
        .map(|i| {
            let case = &cases[i];
            let mut parties: Vec<usize> = case
                .parties
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(|p| {
                    *numbers.entry(p).or_insert_with(|| {
                        names.push(p);
                        names.len() - 1
                    })
                })
                .collect();
            parties.sort_unstable();
            parties.dedup();
            Entry {
                index: i,
                opened: case.opened_on,
                until: case
                    .opened_on
                    .checked_add_months(Months::new(REPEAT_MONTHS))
                    .unwrap_or(NaiveDate::MAX),
                at: valid(case.location),
                parties,
            }
        })
        .collect();
    (entries, names)
}

/// Whether `later` (opened on or after `earlier`) repeats `earlier`, and why.
fn relation(earlier: &Entry, later: &Entry) -> Option<Repeat> {
    if later.opened < earlier.opened || later.opened > earlier.until {
        return None;
    }
    let near = match (earlier.at, later.at) {
        (Some(a), Some(b)) => within_repeat_distance(a, b),
        _ => false,
    };
    let same_party = later
        .parties
        .iter()
        .any(|p| earlier.parties.binary_search(p).is_ok());
    (near || same_party).then_some(Repeat {
        earlier: earlier.index,
        near,
        same_party,
    })
}

/// Whether two points lie within [`REPEAT_DISTANCE_M`] of each other on WGS84. The
/// spherical (haversine) distance differs from the geodesic one by less than 0.6% (the
/// ellipsoid's radii of curvature lie within 6,335 to 6,400 km, the sphere's is 6,371 km):
/// only in the band where that could matter is the geodesic computed.
fn within_repeat_distance(a: Point<f64>, b: Point<f64>) -> bool {
    let h = Haversine.distance(a, b);
    if h < REPEAT_DISTANCE_M * 0.99 {
        true
    } else if h > REPEAT_DISTANCE_M * 1.01 {
        false
    } else {
        Geodesic.distance(a, b) <= REPEAT_DISTANCE_M
    }
}

/// A location that is a finite longitude/latitude pair.
fn valid(p: Option<Point<f64>>) -> Option<Point<f64>> {
    p.filter(|p| p.x().is_finite() && p.y().is_finite() && p.y().abs() <= 90.0)
}

/// A grid of lon/lat cells at least [`CELL_M`] wide and high everywhere among the cases:
/// two points within [`REPEAT_DISTANCE_M`] lie in the same or neighbouring cells.
struct Cells {
    /// Cell width in degrees of longitude, for the highest latitude among the cases.
    dlon: f64,
    /// Cell height in degrees of latitude.
    dlat: f64,
}

impl Cells {
    fn for_entries(entries: &[Entry]) -> Cells {
        let max_lat = entries
            .iter()
            .filter_map(|e| e.at)
            .map(|p| p.y().abs())
            .fold(0.0_f64, f64::max);
        // Near the poles the cells would grow without bound; no county lies there.
        let cos = (max_lat + 0.01).min(89.0).to_radians().cos();
        Cells {
            dlon: (CELL_M / (M_PER_DEGREE_LON * cos)).min(360.0),
            dlat: CELL_M / M_PER_DEGREE_LAT,
        }
    }

    fn cell(&self, p: Point<f64>) -> (i64, i64) {
        (
            (p.x() / self.dlon).floor() as i64,
            (p.y() / self.dlat).floor() as i64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gridgov_model::vocab::{DisputeCategory, DisputeChannel, DisputeLevel, DisputeStatus};
    use gridgov_model::{DivisionCode, FeatureId};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn case(id: i64, opened_on: NaiveDate, at: Option<(f64, f64)>, parties: &[&str]) -> Case {
        Case {
            id: Some(FeatureId(id)),
            village: "520526101201".parse::<DivisionCode>().unwrap(),
            grid: None,
            location: at.map(|(x, y)| Point::new(x, y)),
            category: DisputeCategory::Other,
            channel: DisputeChannel::People,
            level: DisputeLevel::Village,
            status: DisputeStatus::Open,
            opened_on,
            deadline: None,
            closed_on: None,
            parties: parties.iter().map(|p| (*p).to_owned()).collect(),
            leader: None,
            plan: None,
            description: None,
            steps: Vec::new(),
        }
    }

    /// Metres to degrees of latitude on WGS84 near 27°N: 1° ≈ 110 800 m.
    const DEG_PER_M: f64 = 1.0 / 110_800.0;

    fn earlier(r: &[Repeat]) -> Vec<usize> {
        r.iter().map(|r| r.earlier).collect()
    }

    #[test]
    fn place_parties_and_the_six_month_window() {
        let (x, y) = (105.1, 27.2);
        let cases = [
            // 0: the first dispute, at (x, y), between 张三 and 李四.
            case(1, day(2026, 1, 31), Some((x, y)), &["张三", "李四"]),
            // 1: 190 m north, 3 months later, other parties: repeats 0 by place.
            case(
                2,
                day(2026, 4, 30),
                Some((x, y + 190.0 * DEG_PER_M)),
                &["王五"],
            ),
            // 2: 210 m north of 0 (20 m from 1), no location match with 0; shares no party
            //    with 0 but lies 20 m from 1: repeats 1 only.
            case(
                3,
                day(2026, 5, 1),
                Some((x, y + 210.0 * DEG_PER_M)),
                &["赵六"],
            ),
            // 3: far away, no location, but " 李四 " (trimmed) on 2026-07-31 = 0 + 6 months
            //    exactly: repeats 0 by party.
            case(4, day(2026, 7, 31), None, &[" 李四 "]),
            // 4: at 0's place on 2026-08-01: one day past 0's window (01-31 + 6 months =
            //    07-31); within 1's (04-30 + 6 months = 10-30) and 190 m from it: repeats 1
            //    by place; within 2's window too, but 210 m away; 3 has no place.
            case(5, day(2026, 8, 1), Some((x, y)), &["钱七"]),
        ];
        let r = repeats(&cases);
        assert_eq!(earlier(&r[0]), Vec::<usize>::new());
        assert_eq!(
            r[1],
            [Repeat {
                earlier: 0,
                near: true,
                same_party: false
            }]
        );
        assert_eq!(earlier(&r[2]), [1]);
        assert_eq!(
            r[3],
            [Repeat {
                earlier: 0,
                near: false,
                same_party: true
            }]
        );
        assert_eq!(earlier(&r[4]), [1]);
    }

    #[test]
    fn month_ends_and_same_day_ties() {
        let cases = [
            // 2026-08-31 + 6 months = 2027-02-28 (clamped): a case on 02-28 repeats it,
            // one on 03-01 does not.
            case(10, day(2026, 8, 31), None, &["甲"]),
            case(11, day(2027, 2, 28), None, &["甲"]),
            case(12, day(2027, 3, 1), None, &["乙"]),
            // 2026-09-30 + 6 months = 2027-03-30: 03-31 is too late, though 03-31 - 6
            // months = 09-30 (the window is not symmetric at month ends).
            case(13, day(2026, 9, 30), None, &["乙"]),
            case(14, day(2027, 3, 31), None, &["乙"]),
            // Same day, same party: the higher id repeats the lower, listed in any order.
            case(21, day(2026, 1, 5), None, &["丙"]),
            case(20, day(2026, 1, 5), None, &["丙"]),
        ];
        let r = repeats(&cases);
        assert_eq!(earlier(&r[1]), [0]);
        // 12 (乙, 2027-03-01) repeats 13 (乙, 2026-09-30; window to 2027-03-30).
        assert_eq!(earlier(&r[2]), [3]);
        // 14 (2027-03-31): 13's window ended 03-30; 12 (03-01) is within a month: repeats 12.
        assert_eq!(earlier(&r[4]), [2]);
        assert_eq!(earlier(&r[5]), [6]);
        assert!(r[6].is_empty());
    }

    #[test]
    fn a_case_repeating_several_lists_each_once_oldest_first() {
        let p = Some((105.0, 27.0));
        let cases = [
            case(3, day(2026, 3, 1), p, &["甲", "乙"]),
            case(1, day(2026, 1, 1), p, &["甲"]),
            case(2, day(2026, 2, 1), None, &["乙"]),
        ];
        let r = repeats(&cases);
        // Case 0 (March) repeats 1 (January: same place and 甲) and 2 (February: 乙).
        assert_eq!(
            r[0],
            [
                Repeat {
                    earlier: 1,
                    near: true,
                    same_party: true
                },
                Repeat {
                    earlier: 2,
                    near: false,
                    same_party: true
                }
            ]
        );
    }

    /// A small linear congruential generator: the same seed gives the same cases.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn the_distance_test_agrees_with_the_geodesic() {
        // Pairs 195 to 205 m apart in every direction, from the equator to 80°N: the
        // haversine shortcut decides as the geodesic does.
        let mut rng = Lcg(3);
        let mut outcomes = [0, 0];
        for _ in 0..20_000 {
            let lat = rng.next() * 80.0;
            let a = Point::new(105.0, lat);
            let metres = 195.0 + rng.next() * 10.0;
            let bearing = rng.next() * 360.0;
            let b = geo::Destination::destination(&Geodesic, a, bearing, metres);
            let want = Geodesic.distance(a, b) <= REPEAT_DISTANCE_M;
            assert_eq!(within_repeat_distance(a, b), want, "{a:?} {b:?}");
            outcomes[usize::from(want)] += 1;
        }
        assert!(outcomes.iter().all(|&n| n > 5000));
    }

    #[test]
    fn agrees_with_comparing_every_pair() {
        // 1,500 cases over 3 km x 3 km and two years, 300 names: many near and same-party
        // pairs, some across cell borders and the window's end.
        let mut rng = Lcg(42);
        let cases: Vec<Case> = (0..1500)
            .map(|i| {
                let opened = day(2025, 1, 1) + chrono::Days::new((rng.next() * 730.0) as u64);
                let at = (rng.next() < 0.9).then(|| {
                    (
                        105.0 + rng.next() * 3000.0 * DEG_PER_M,
                        27.0 + rng.next() * 3000.0 * DEG_PER_M,
                    )
                });
                let a = format!("人{}", (rng.next() * 300.0) as u32);
                let b = format!("人{}", (rng.next() * 300.0) as u32);
                let id = (rng.next() < 0.95).then_some(i);
                let mut c = case(0, opened, at, &[&a, &b]);
                c.id = id.map(FeatureId);
                c
            })
            .collect();
        let fast = repeats(&cases);
        // Every pair, in the same "earlier" order, with the same pairwise test.
        let (entries, _) = entries(&cases);
        let mut slow = vec![Vec::new(); cases.len()];
        for (r, later) in entries.iter().enumerate() {
            slow[later.index] = entries[..r]
                .iter()
                .filter_map(|e| relation(e, later))
                .collect();
        }
        assert_eq!(fast, slow);
        let pairs: usize = slow.iter().map(Vec::len).sum();
        assert!(pairs > 1000, "the test should see many pairs, saw {pairs}");
    }
}
