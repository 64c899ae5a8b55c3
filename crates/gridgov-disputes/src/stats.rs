//! Statistics of disputes per division (township or village), per grid or per month opened,
//! with a total:
//! cases by category and level, where they were settled (小事不出村率 and its kin), the
//! median time to close, overdue cases and repeat disputes ([`crate::repeat`]).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use gridgov_model::vocab::{DisputeLevel, DisputeStatus};
use gridgov_model::{DivisionCode, GridCode};
use serde::{Serialize, Serializer};

use crate::case::Case;
use crate::repeat::repeats;

/// What the cases are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    /// The township (乡镇/街道) of the case's village.
    Township,
    /// The case's village (行政村/社区).
    Village,
    /// The case's grid (网格); cases without one form their own group.
    Grid,
    /// The month the case was opened (`YYYY-MM`).
    Month,
}

/// The cases counted: those opened on or after `from` and before `until` (either bound may be
/// open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Window {
    /// The first day counted.
    pub from: Option<NaiveDate>,
    /// The first day no longer counted.
    pub until: Option<NaiveDate>,
}

impl Window {
    /// Every case, whenever opened.
    pub const ALL: Window = Window {
        from: None,
        until: None,
    };

    /// Whether a case opened on `day` is counted.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| f <= day) && self.until.is_none_or(|u| day < u)
    }
}

/// Which group a case falls in. Serialized as the code's text, or `null` for the group of
/// cases without a grid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKey {
    /// A township or village.
    Division(DivisionCode),
    /// A grid.
    Grid(GridCode),
    /// The cases without a grid (only when grouping by grid).
    NoGrid,
    /// A month, by its first day (serialized `YYYY-MM`).
    Month(NaiveDate),
}

impl Serialize for GroupKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            GroupKey::Division(d) => s.serialize_str(d.as_str()),
            GroupKey::Grid(g) => s.collect_str(g),
            GroupKey::NoGrid => s.serialize_none(),
            GroupKey::Month(first) => s.collect_str(&first.format("%Y-%m")),
        }
    }
}

/// Cases per level holding them now (for finished cases, the level that settled or closed
/// them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LevelCounts {
    /// 村级
    pub village: usize,
    /// 镇级
    pub township: usize,
    /// 县级
    pub county: usize,
}

/// The statistics of one group of cases, or of all of them.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct GroupStats {
    /// Cases counted.
    pub cases: usize,
    /// Cases per category, by the category's token; categories without cases are left out.
    pub by_category: BTreeMap<&'static str, usize>,
    /// Cases per level.
    pub by_level: LevelCounts,
    /// Finished cases (settled, or closed without settlement).
    pub finished: usize,
    /// Finished cases settled (已化解) by the village.
    pub settled_in_village: usize,
    /// Finished cases settled by the township.
    pub settled_in_township: usize,
    /// Cases that reached the county, finished or not.
    pub reached_county: usize,
    /// 小事不出村率: `settled_in_village / finished`; `None` without finished cases.
    pub village_share: Option<f64>,
    /// 大事不出镇: `settled_in_township / finished`; `None` without finished cases.
    pub township_share: Option<f64>,
    /// 上交县级: `reached_county / cases`; `None` without cases.
    pub county_share: Option<f64>,
    /// Median days from opening to closing of the finished cases with a closing date (of an
    /// even count, the mean of the two middle values); `None` without such cases.
    pub median_days_to_close: Option<f64>,
    /// Cases open with their deadline passed on the statistics' `as_of` day.
    pub overdue: usize,
    /// Cases that repeat an earlier dispute (same place within 200 m, or same parties, within
    /// six months; the earlier case may lie outside the window or the group).
    pub repeats: usize,
}

/// One group's key and statistics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The township, village or grid.
    pub key: GroupKey,
    /// Its statistics.
    #[serde(flatten)]
    pub stats: GroupStats,
}

/// Statistics of a set of cases per group, with the total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statistics {
    /// What the groups are.
    pub grouping: Grouping,
    /// The cases counted by the day they were opened.
    pub window: Window,
    /// The day overdue cases are counted on.
    pub as_of: NaiveDate,
    /// The groups with at least one case counted, ordered by key (cases without a grid last).
    pub groups: Vec<Group>,
    /// All cases counted.
    pub total: GroupStats,
}

/// The statistics of `cases` opened within `window`, grouped by `grouping`, with overdue
/// cases counted as of `as_of`.
///
/// Repeat disputes are looked for among all of `cases`, so that a case opened in the window
/// counts as a repeat of one opened before it; pass the earlier months too when a window is
/// given.
pub fn statistics(
    cases: &[Case],
    grouping: Grouping,
    window: Window,
    as_of: NaiveDate,
) -> Statistics {
    statistics_of(cases, grouping, window, as_of, &|_| true)
}

/// [`statistics`] of the cases `counted` keeps (those of one grid, say), repeats still looked
/// for among all of `cases`.
pub fn statistics_of(
    cases: &[Case],
    grouping: Grouping,
    window: Window,
    as_of: NaiveDate,
    counted: &dyn Fn(&Case) -> bool,
) -> Statistics {
    let repeated = repeats(cases);
    let mut groups: BTreeMap<GroupKey, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    for (case, earlier) in cases.iter().zip(&repeated) {
        if !window.contains(case.opened_on) || !counted(case) {
            continue;
        }
        let key = match grouping {
            Grouping::Township => {
                GroupKey::Division(case.village.township().unwrap_or(case.village))
            }
            Grouping::Village => GroupKey::Division(case.village),
            Grouping::Grid => case.grid.clone().map_or(GroupKey::NoGrid, GroupKey::Grid),
            Grouping::Month => {
                GroupKey::Month(case.opened_on.with_day(1).unwrap_or(case.opened_on))
            }
        };
        let repeat = !earlier.is_empty();
        groups.entry(key).or_default().add(case, repeat, as_of);
        total.add(case, repeat, as_of);
    }
    Statistics {
        grouping,
        window,
        as_of,
        groups: groups
            .into_iter()
            .map(|(key, t)| Group {
                key,
                stats: t.finish(),
            })
            .collect(),
        total: total.finish(),
    }
}

/// The counts of a group while its cases are added, and the days each took to close.
#[derive(Default)]
struct Tally {
    stats: GroupStats,
    days_to_close: Vec<i64>,
}

impl Tally {
    fn add(&mut self, case: &Case, repeat: bool, as_of: NaiveDate) {
        let s = &mut self.stats;
        s.cases += 1;
        *s.by_category.entry(case.category.token()).or_default() += 1;
        match case.level {
            DisputeLevel::Village => s.by_level.village += 1,
            DisputeLevel::Township => s.by_level.township += 1,
            DisputeLevel::County => s.by_level.county += 1,
        }
        if case.status.is_finished() {
            s.finished += 1;
            if case.status == DisputeStatus::Settled {
                match case.level {
                    DisputeLevel::Village => s.settled_in_village += 1,
                    DisputeLevel::Township => s.settled_in_township += 1,
                    DisputeLevel::County => {}
                }
            }
            if let Some(closed) = case.closed_on {
                self.days_to_close
                    .push((closed - case.opened_on).num_days());
            }
        }
        let county = case.level == DisputeLevel::County
            || case
                .escalations()
                .iter()
                .any(|&(_, level)| level == DisputeLevel::County);
        if county {
            s.reached_county += 1;
        }
        if case.is_overdue(as_of) {
            s.overdue += 1;
        }
        if repeat {
            s.repeats += 1;
        }
    }

    fn finish(mut self) -> GroupStats {
        let share = |part: usize, whole: usize| (whole > 0).then(|| part as f64 / whole as f64);
        let s = &mut self.stats;
        s.village_share = share(s.settled_in_village, s.finished);
        s.township_share = share(s.settled_in_township, s.finished);
        s.county_share = share(s.reached_county, s.cases);
        s.median_days_to_close = median(&mut self.days_to_close);
        self.stats
    }
}

/// The median of `values` (of an even count, the mean of the two middle ones).
fn median(values: &mut [i64]) -> Option<f64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2] as f64),
        _ => Some((values[n / 2 - 1] + values[n / 2]) as f64 / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::Step;
    use geo::Point;
    use gridgov_model::vocab::{DisputeAction, DisputeCategory, DisputeChannel};
    use gridgov_model::FeatureId;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, d).unwrap()
    }

    fn code(s: &str) -> DivisionCode {
        s.parse().unwrap()
    }

    /// Township 101 has villages 201 and 202; township 102 has village 201.
    const V1: &str = "520526101201";
    const V2: &str = "520526101202";
    const V3: &str = "520526102201";

    #[expect(clippy::too_many_arguments, reason = "one line per hand-made case")]
    fn case(
        id: i64,
        village: &str,
        grid: Option<u16>,
        category: DisputeCategory,
        level: DisputeLevel,
        status: DisputeStatus,
        opened: NaiveDate,
        closed: Option<NaiveDate>,
    ) -> Case {
        let village = code(village);
        Case {
            id: Some(FeatureId(id)),
            village,
            grid: grid.map(|n| GridCode::new(village, n)),
            // Each case its own place, 1 km apart, and its own party: no repeats unless set.
            location: Some(Point::new(105.0 + id as f64 * 0.01, 27.0)),
            category,
            channel: DisputeChannel::People,
            level,
            status,
            opened_on: opened,
            deadline: None,
            closed_on: closed,
            parties: vec![format!("当事人{id}")],
            leader: None,
            plan: None,
            description: None,
            steps: Vec::new(),
        }
    }

    /// Ten cases whose statistics are worked out by hand in the test below.
    fn cases() -> Vec<Case> {
        use DisputeCategory::{Labour, LandContracting as Land, Other};
        use DisputeLevel::{County, Township, Village};
        use DisputeStatus::{Closed, Mediating, Open, Settled};
        let mut c = vec![
            // id, village, grid, category, level, status, opened, closed (days to close)
            case(
                1,
                V1,
                Some(1),
                Land,
                Village,
                Settled,
                day(1, 5),
                Some(day(1, 9)),
            ), // 4 days
            case(
                2,
                V1,
                Some(1),
                Land,
                Village,
                Settled,
                day(1, 10),
                Some(day(1, 20)),
            ), // 10
            case(
                3,
                V1,
                Some(2),
                Labour,
                Township,
                Settled,
                day(2, 1),
                Some(day(3, 3)),
            ), // 30
            case(
                4,
                V1,
                None,
                Other,
                County,
                Closed,
                day(2, 10),
                Some(day(5, 1)),
            ), // 80
            case(5, V2, Some(1), Labour, Village, Mediating, day(3, 1), None),
            case(6, V2, Some(1), Land, Township, Open, day(3, 15), None),
            case(
                7,
                V2,
                None,
                Other,
                Village,
                Settled,
                day(4, 1),
                Some(day(4, 2)),
            ), // 1
            case(
                8,
                V3,
                Some(3),
                Land,
                County,
                Settled,
                day(4, 10),
                Some(day(6, 9)),
            ), // 60
            case(9, V3, Some(3), Labour, Township, Mediating, day(5, 1), None),
            case(10, V3, None, Other, Village, Settled, day(7, 1), None), // no closing date
        ];
        // 5 is overdue on 06-01 (deadline 05-31); 9's deadline is 06-01 itself: not overdue;
        // 7 is finished, so its passed deadline does not count.
        c[4].deadline = Some(day(5, 31));
        c[8].deadline = Some(day(6, 1));
        c[6].deadline = Some(day(3, 1));
        // 6 (township, open) was escalated to the county once and handed back down: it
        // reached the county although it is held by the township now.
        let step = |d: NaiveDate, level| Step {
            at: d.and_hms_opt(9, 0, 0).unwrap().and_utc(),
            actor: "w".into(),
            action: DisputeAction::Escalate,
            status: DisputeStatus::Open,
            level,
            note: None,
        };
        c[5].steps = vec![
            step(day(3, 15), Village),
            step(day(4, 1), Township),
            step(day(4, 20), County),
            step(day(5, 1), Township),
        ];
        // 9 repeats 8 (same party, 3 weeks later); 7 repeats 2 (2 opened 01-10, 7 opened
        // 04-01, 100 m apart).
        c[8].parties.push("当事人8".into());
        c[6].location = Some(Point::new(105.02, 27.0009));
        c
    }

    #[test]
    fn hand_computed_totals_and_townships() {
        let s = statistics(&cases(), Grouping::Township, Window::ALL, day(6, 1));
        let t = &s.total;
        // 10 cases: land 1,2,6,8 = 4; labour 3,5,9 = 3; other 4,7,10 = 3.
        assert_eq!(t.cases, 10);
        assert_eq!(
            t.by_category,
            BTreeMap::from([("land_contracting", 4), ("labour", 3), ("other", 3)])
        );
        // Levels: village 1,2,5,7,10 = 5; township 3,6,9 = 3; county 4,8 = 2.
        assert_eq!(
            t.by_level,
            LevelCounts {
                village: 5,
                township: 3,
                county: 2
            }
        );
        // Finished: 1,2,3,4,7,8,10 = 7. Settled in the village: 1,2,7,10 = 4 → 4/7;
        // in the township: 3 → 1/7. Reached the county: 4, 8 (level) and 6 (history) = 3/10.
        assert_eq!(t.finished, 7);
        assert_eq!(t.settled_in_village, 4);
        assert_eq!(t.settled_in_township, 1);
        assert_eq!(t.reached_county, 3);
        assert_eq!(t.village_share, Some(4.0 / 7.0));
        assert_eq!(t.township_share, Some(1.0 / 7.0));
        assert_eq!(t.county_share, Some(0.3));
        // Days to close (10 has no date): 1, 4, 10, 30, 60, 80 → (10 + 30) / 2 = 20.
        assert_eq!(t.median_days_to_close, Some(20.0));
        // Overdue on 06-01: only 5.
        assert_eq!(t.overdue, 1);
        // Repeats: 7 (of 2, by place) and 9 (of 8, by party).
        assert_eq!(t.repeats, 2);

        // Townships: 101 has cases 1-7, 102 has 8-10.
        let keys: Vec<_> = s.groups.iter().map(|g| g.key.clone()).collect();
        assert_eq!(
            keys,
            [
                GroupKey::Division(code("520526101000")),
                GroupKey::Division(code("520526102000"))
            ]
        );
        let t101 = &s.groups[0].stats;
        // 101: finished 1,2,3,4,7 = 5; village-settled 1,2,7 = 3/5; township 3 = 1/5;
        // county 4 and 6 = 2/7; days 1, 4, 10, 30, 80 → median 10; overdue 5; repeats 7.
        assert_eq!(t101.cases, 7);
        assert_eq!(t101.village_share, Some(0.6));
        assert_eq!(t101.township_share, Some(0.2));
        assert_eq!(t101.county_share, Some(2.0 / 7.0));
        assert_eq!(t101.median_days_to_close, Some(10.0));
        assert_eq!((t101.overdue, t101.repeats), (1, 1));
        let t102 = &s.groups[1].stats;
        // 102: finished 8, 10; village-settled 10 = 1/2; township 0; county 8 = 1/3;
        // days: only 8's 60; not overdue; repeats 9.
        assert_eq!(t102.village_share, Some(0.5));
        assert_eq!(t102.township_share, Some(0.0));
        assert_eq!(t102.county_share, Some(1.0 / 3.0));
        assert_eq!(t102.median_days_to_close, Some(60.0));
        assert_eq!((t102.overdue, t102.repeats), (0, 1));
    }

    #[test]
    fn villages_grids_and_a_window() {
        let all = cases();
        let s = statistics(&all, Grouping::Village, Window::ALL, day(6, 1));
        let sizes: Vec<_> = s.groups.iter().map(|g| g.stats.cases).collect();
        // V1: 1-4, V2: 5-7, V3: 8-10.
        assert_eq!(sizes, [4, 3, 3]);
        // V2: finished only 7 (village): 1/1; 5 and 6 open; no closing days but 7's 1.
        let v2 = &s.groups[1].stats;
        assert_eq!(v2.village_share, Some(1.0));
        assert_eq!(v2.median_days_to_close, Some(1.0));

        let s = statistics(&all, Grouping::Grid, Window::ALL, day(6, 1));
        let keys: Vec<_> = s
            .groups
            .iter()
            .map(|g| (serde_json::to_value(&g.key).unwrap(), g.stats.cases))
            .collect();
        // Grids: V1-G01 {1,2}, V1-G02 {3}, V2-G01 {5,6}, V3-G03 {8,9}, none {4,7,10}.
        assert_eq!(
            keys,
            [
                (serde_json::json!("520526101201-G01"), 2),
                (serde_json::json!("520526101201-G02"), 1),
                (serde_json::json!("520526101202-G01"), 2),
                (serde_json::json!("520526102201-G03"), 2),
                (serde_json::Value::Null, 3),
            ]
        );

        // Opened in [04-01, 07-01): cases 7, 8, 9. 7 still counts as a repeat of 2, which
        // lies before the window. Finished 7, 8: village 1/2; county 8: 1/3; days 1, 60
        // → 30.5.
        let w = Window {
            from: Some(day(4, 1)),
            until: Some(day(7, 1)),
        };
        let s = statistics(&all, Grouping::Village, w, day(6, 1));
        let t = &s.total;
        assert_eq!(t.cases, 3);
        assert_eq!(t.repeats, 2);
        assert_eq!(t.village_share, Some(0.5));
        assert_eq!(t.county_share, Some(1.0 / 3.0));
        assert_eq!(t.median_days_to_close, Some(30.5));
        assert_eq!(s.groups.len(), 2);

        // By month opened: Jan 1-2, Feb 3-4, Mar 5-6, Apr 7-8, May 9, Jul 10 (no June).
        let s = statistics(&all, Grouping::Month, Window::ALL, day(6, 1));
        let months: Vec<_> = s
            .groups
            .iter()
            .map(|g| (serde_json::to_value(&g.key).unwrap(), g.stats.cases))
            .collect();
        let m = |k: &str, n| (serde_json::json!(k), n);
        assert_eq!(
            months,
            [
                m("2026-01", 2),
                m("2026-02", 2),
                m("2026-03", 2),
                m("2026-04", 2),
                m("2026-05", 1),
                m("2026-07", 1),
            ]
        );
        assert_eq!(s.total.cases, 10);
        // Grid V3-G03 only (cases 8 and 9): 9 still repeats 8.
        let g3: GridCode = "520526102201-G03".parse().unwrap();
        let s = statistics_of(&all, Grouping::Month, Window::ALL, day(6, 1), &|c| {
            c.grid.as_ref() == Some(&g3)
        });
        assert_eq!((s.total.cases, s.total.repeats), (2, 1));
        assert_eq!(s.groups.len(), 2);
    }

    #[test]
    fn no_cases_means_no_shares() {
        let s = statistics(&[], Grouping::Township, Window::ALL, day(6, 1));
        assert!(s.groups.is_empty());
        assert_eq!(s.total.village_share, None);
        assert_eq!(s.total.county_share, None);
        assert_eq!(s.total.median_days_to_close, None);
        // Open cases only: a denominator for the county share but none for the others.
        let mut c = cases();
        c.retain(Case::is_open);
        let s = statistics(&c, Grouping::Township, Window::ALL, day(6, 1));
        assert_eq!(s.total.cases, 3);
        assert_eq!(s.total.village_share, None);
        assert_eq!(s.total.county_share, Some(1.0 / 3.0));
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["groups"][0]["key"], "520526101000");
        assert_eq!(json["groups"][0]["cases"], 2);
        assert_eq!(json["grouping"], "township");
    }
}
