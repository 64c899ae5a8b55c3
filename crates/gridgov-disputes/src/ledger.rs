//! The monthly rolling screening ledger (每月滚动排查台账) of one division: the cases a
//! township office files at the end of a month, and its summary.
//!
//! A ledger stands on one day, its [`Ledger::through`]: the month's last day, or the day it
//! is drawn up when that is earlier. It lists every case of the division opened by then that
//! was open on that day (在办: reported and not yet settled or closed, whatever it has become
//! since), and every case escalated (本月升级) or settled or closed (本月办结) from the
//! month's first day to that day. Whether a listed case was open, overdue or a backlog case
//! (积案) is judged on that day from its dates; the rest of a row (level, status, deadline,
//! leader, plan, closing date) is the case as recorded now.

use std::fmt::Write as _;

use chrono::{Datelike, Months, NaiveDate};
use gridgov_model::vocab::{DisputeCategory, DisputeChannel, DisputeLevel, DisputeStatus};
use gridgov_model::{DivisionCode, FeatureId, GridCode};
use serde::{Serialize, Serializer};

use crate::case::Case;

/// Days a case may stay open before it becomes a backlog case (积案).
pub const BACKLOG_DAYS: i64 = 90;

/// Whether `case` is a backlog case (积案) on `today`: open for more than [`BACKLOG_DAYS`]
/// days, or open and overdue while held by the county. Backlog cases need a responsible
/// leader and a plan (包案领导、一案一策).
pub fn is_backlog(case: &Case, today: NaiveDate) -> bool {
    case.is_open() && held_too_long(case, today)
}

/// The backlog test on an open case: more than [`BACKLOG_DAYS`] days since it was opened, or
/// past its deadline at the county.
fn held_too_long(case: &Case, day: NaiveDate) -> bool {
    (day - case.opened_on).num_days() > BACKLOG_DAYS
        || (case.level == DisputeLevel::County && case.deadline.is_some_and(|d| d < day))
}

/// Whether the case was open on `day`: opened by then, and not finished, or finished later.
fn open_on(case: &Case, day: NaiveDate) -> bool {
    case.opened_on <= day && (case.is_open() || case.closed_on.is_some_and(|c| c > day))
}

/// A ledger that cannot be drawn up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The year and month name no month.
    #[error("{year}-{month} is not a month")]
    Month {
        /// The year asked for.
        year: i32,
        /// The month asked for.
        month: u32,
    },
    /// The ledger was asked for as of a day before its month began.
    #[error("the ledger of {year}-{month:02} cannot stand on {as_of}, before the month began")]
    BeforeMonth {
        /// The ledger's year.
        year: i32,
        /// The ledger's month.
        month: u32,
        /// The day asked for.
        as_of: NaiveDate,
    },
}

/// One case in the ledger: why it is listed, and what the office files about it.
///
/// Vocabulary values serialize as their tokens; the exports write their Chinese terms.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a ledger row is the yes/no columns a township office files, each on its own"
)]
pub struct LedgerRow {
    /// 序号: the row's number, from 1.
    pub seq: usize,
    /// 案件编号: the case's id (`None` for a case not yet stored).
    #[serde(serialize_with = "ser_id")]
    pub id: Option<FeatureId>,
    /// The township (乡镇/街道) of the case's village.
    pub township: Option<DivisionCode>,
    /// The township's name, when the lookup knows it.
    pub township_name: Option<String>,
    /// The village (村/社区) that owns the case.
    pub village: DivisionCode,
    /// The village's name, when the lookup knows it.
    pub village_name: Option<String>,
    /// 网格: the grid containing the case.
    #[serde(serialize_with = "ser_grid")]
    pub grid: Option<GridCode>,
    /// 纠纷类别
    #[serde(serialize_with = "ser_token")]
    pub category: DisputeCategory,
    /// 调解渠道
    #[serde(serialize_with = "ser_token")]
    pub channel: DisputeChannel,
    /// 当事人
    pub parties: Vec<String>,
    /// 纠纷简要情况
    pub description: Option<String>,
    /// 登记日期: the day the case was reported.
    pub opened_on: NaiveDate,
    /// 办理层级: the level holding the case (for a finished one, the level that finished it).
    #[serde(serialize_with = "ser_token")]
    pub level: DisputeLevel,
    /// 状态
    #[serde(serialize_with = "ser_token")]
    pub status: DisputeStatus,
    /// 化解期限: the deadline of the level holding the case.
    pub deadline: Option<NaiveDate>,
    /// 在办: the case was open on the ledger's day.
    pub open: bool,
    /// 超期: open on the ledger's day with its deadline before it.
    pub overdue: bool,
    /// 超期天数: days from the deadline to the ledger's day, when overdue.
    pub days_overdue: Option<i64>,
    /// 本月升级: the case moved to a higher level during the month (by the ledger's day).
    /// Escalations of cases without a history have no day and never count here.
    pub escalated: bool,
    /// 本月办结: the case was settled or closed during the month (by the ledger's day).
    pub closed: bool,
    /// 升级次数: the case's escalations ([`Case::escalations`]), all of them.
    pub escalations: usize,
    /// 积案: a backlog case on the ledger's day ([`is_backlog`]).
    pub backlog: bool,
    /// 包案领导
    pub leader: Option<String>,
    /// 一案一策: the plan for a backlog case.
    pub plan: Option<String>,
    /// 办结日期
    pub closed_on: Option<NaiveDate>,
}

impl LedgerRow {
    /// Why the case is listed, in Chinese: `在办`, `超期`, `本月升级`, `本月办结`, joined
    /// with `、`.
    pub fn reasons_zh(&self) -> String {
        [
            (self.open, "在办"),
            (self.overdue, "超期"),
            (self.escalated, "本月升级"),
            (self.closed, "本月办结"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, zh)| *zh)
        .collect::<Vec<_>>()
        .join("、")
    }
}

/// The ledger's counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct LedgerSummary {
    /// Cases listed.
    pub rows: usize,
    /// 在办: open on the ledger's day.
    pub open: usize,
    /// 超期: of those, past their deadline.
    pub overdue: usize,
    /// 本月升级: escalated during the month.
    pub escalated: usize,
    /// 本月办结: settled or closed during the month.
    pub closed: usize,
    /// Of those, settled (已化解).
    pub settled: usize,
    /// Of those, closed without settlement (未化解).
    pub not_resolved: usize,
    /// 积案: backlog cases.
    pub backlog: usize,
    /// Backlog cases still missing a responsible leader or a plan (包案领导、一案一策).
    pub backlog_without_leader_or_plan: usize,
}

/// The monthly screening ledger (台账) of one division.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ledger {
    /// The county, township or village whose cases are listed.
    pub division: DivisionCode,
    /// Its name, when the lookup knows it.
    pub division_name: Option<String>,
    /// The ledger's year.
    pub year: i32,
    /// The ledger's month, 1 to 12.
    pub month: u32,
    /// The month's first day.
    pub first_day: NaiveDate,
    /// The month's last day.
    pub last_day: NaiveDate,
    /// The day the ledger was drawn up.
    pub as_of: NaiveDate,
    /// The day the ledger stands on: `last_day`, or `as_of` when earlier.
    pub through: NaiveDate,
    /// The cases, by township, village, opening day and id.
    pub rows: Vec<LedgerRow>,
    /// The counts.
    pub summary: LedgerSummary,
}

impl Ledger {
    /// The ledger of `division` (a county, township or village: the cases whose village lies
    /// in it) for `month` of `year`, drawn up on `as_of`. `names` gives the Chinese name of
    /// a division, when known; a map serves as `&|c| map.get(c).cloned()`.
    ///
    /// # Errors
    /// [`LedgerError::Month`] for a month outside 1 to 12 (or a year chrono cannot hold),
    /// [`LedgerError::BeforeMonth`] when `as_of` is before the month's first day.
    ///
    /// # Example
    /// ```
    /// use std::collections::HashMap;
    /// use chrono::NaiveDate;
    /// use gridgov_disputes::ledger::Ledger;
    /// use gridgov_model::DivisionCode;
    ///
    /// let town: DivisionCode = "520526101000".parse()?;
    /// let names = HashMap::from([(town, "某某镇".to_owned())]);
    /// let as_of = NaiveDate::from_ymd_opt(2026, 11, 15).expect("a day");
    /// let ledger = Ledger::build(&[], town, 2026, 11, as_of, &|c| names.get(c).cloned())?;
    /// assert_eq!(ledger.title(), "某某镇矛盾纠纷排查化解台账（2026年11月，截至11月15日）");
    /// assert_eq!(ledger.summary.rows, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn build(
        cases: &[Case],
        division: DivisionCode,
        year: i32,
        month: u32,
        as_of: NaiveDate,
        names: &dyn Fn(&DivisionCode) -> Option<String>,
    ) -> Result<Ledger, LedgerError> {
        let not_a_month = || LedgerError::Month { year, month };
        let first_day = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(not_a_month)?;
        let last_day = first_day
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .ok_or_else(not_a_month)?;
        if as_of < first_day {
            return Err(LedgerError::BeforeMonth { year, month, as_of });
        }
        let through = as_of.min(last_day);
        let in_month = |d: NaiveDate| first_day <= d && d <= through;

        let mut listed: Vec<&Case> = cases
            .iter()
            .filter(|c| division.contains(&c.village) && c.opened_on <= through)
            .collect();
        listed.sort_by_key(|c| {
            (
                c.village.township(),
                c.village,
                c.opened_on,
                c.id.is_none(),
                c.id,
            )
        });

        let mut rows = Vec::new();
        for case in listed {
            let open = open_on(case, through);
            let days_overdue = case
                .deadline
                .filter(|&d| open && d < through)
                .map(|d| (through - d).num_days());
            let escalations = case.escalations();
            let escalated = escalations
                .iter()
                .any(|&(day, _)| day.is_some_and(in_month));
            let closed = case.status.is_finished() && case.closed_on.is_some_and(in_month);
            if !(open || escalated || closed) {
                continue;
            }
            let township = case.village.township();
            rows.push(LedgerRow {
                seq: rows.len() + 1,
                id: case.id,
                township,
                township_name: township.as_ref().and_then(names),
                village: case.village,
                village_name: names(&case.village),
                grid: case.grid.clone(),
                category: case.category,
                channel: case.channel,
                parties: case.parties.clone(),
                description: case.description.clone(),
                opened_on: case.opened_on,
                level: case.level,
                status: case.status,
                deadline: case.deadline,
                open,
                overdue: days_overdue.is_some(),
                days_overdue,
                escalated,
                closed,
                escalations: escalations.len(),
                backlog: open && held_too_long(case, through),
                leader: case.leader.clone(),
                plan: case.plan.clone(),
                closed_on: case.closed_on,
            });
        }

        let count = |f: &dyn Fn(&LedgerRow) -> bool| rows.iter().filter(|r| f(r)).count();
        let summary = LedgerSummary {
            rows: rows.len(),
            open: count(&|r| r.open),
            overdue: count(&|r| r.overdue),
            escalated: count(&|r| r.escalated),
            closed: count(&|r| r.closed),
            settled: count(&|r| r.closed && r.status == DisputeStatus::Settled),
            not_resolved: count(&|r| r.closed && r.status == DisputeStatus::Closed),
            backlog: count(&|r| r.backlog),
            backlog_without_leader_or_plan: count(&|r| {
                r.backlog && (r.leader.is_none() || r.plan.is_none())
            }),
        };
        Ok(Ledger {
            division,
            division_name: names(&division),
            year,
            month,
            first_day,
            last_day,
            as_of,
            through,
            rows,
            summary,
        })
    }

    /// The title a township office gives the ledger, such as
    /// `某某镇矛盾纠纷排查化解台账（2026年11月）`, with `，截至11月15日` when it stands on a day
    /// before the month's end. A division without a name is shown by its code.
    pub fn title(&self) -> String {
        let mut t = match &self.division_name {
            Some(name) => name.clone(),
            None => self.division.to_string(),
        };
        let _ = write!(t, "矛盾纠纷排查化解台账（{}年{}月", self.year, self.month);
        if self.through < self.last_day {
            let _ = write!(
                t,
                "，截至{}月{}日",
                self.through.month(),
                self.through.day()
            );
        }
        t.push('）');
        t
    }
}

/// A vocabulary value serialized as its token.
trait Token {
    fn token(&self) -> &'static str;
}

impl Token for DisputeCategory {
    fn token(&self) -> &'static str {
        DisputeCategory::token(*self)
    }
}

impl Token for DisputeChannel {
    fn token(&self) -> &'static str {
        DisputeChannel::token(*self)
    }
}

impl Token for DisputeLevel {
    fn token(&self) -> &'static str {
        DisputeLevel::token(*self)
    }
}

impl Token for DisputeStatus {
    fn token(&self) -> &'static str {
        DisputeStatus::token(*self)
    }
}

fn ser_token<T: Token, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.token())
}

#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes a reference"
)]
fn ser_id<S: Serializer>(v: &Option<FeatureId>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(id) => s.serialize_some(&id.0),
        None => s.serialize_none(),
    }
}

#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with passes a reference"
)]
fn ser_grid<S: Serializer>(v: &Option<GridCode>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(g) => s.collect_str(g),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::case::Step;
    use gridgov_model::vocab::DisputeAction;

    pub(crate) fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn nov(d: u32) -> NaiveDate {
        day(2026, 11, d)
    }

    fn code(s: &str) -> DivisionCode {
        s.parse().unwrap()
    }

    pub(crate) const T1: &str = "520526101000";
    pub(crate) const V1: &str = "520526101201";
    pub(crate) const V2: &str = "520526101202";
    pub(crate) const V3: &str = "520526102201";

    /// A village-level case opened on `opened`, open, without deadline.
    pub(crate) fn case(id: i64, village: &str, opened: NaiveDate) -> Case {
        let village = code(village);
        Case {
            id: Some(FeatureId(id)),
            village,
            grid: Some(GridCode::new(village, 1)),
            location: None,
            category: DisputeCategory::LandContracting,
            channel: DisputeChannel::People,
            level: DisputeLevel::Village,
            status: DisputeStatus::Mediating,
            opened_on: opened,
            deadline: None,
            closed_on: None,
            parties: vec![format!("甲{id}"), format!("乙{id}")],
            leader: None,
            plan: None,
            description: Some(format!("纠纷{id}")),
            steps: Vec::new(),
        }
    }

    fn step(
        on: NaiveDate,
        action: DisputeAction,
        status: DisputeStatus,
        level: DisputeLevel,
    ) -> Step {
        Step {
            at: on.and_hms_opt(10, 0, 0).unwrap().and_utc(),
            actor: "网格员".into(),
            action,
            status,
            level,
            note: None,
        }
    }

    /// Eleven cases in township 101 (villages 201 and 202) and one in township 102, for the
    /// ledger of November 2026. What each is on 11-30 and on 11-15 is worked out by hand
    /// beside it.
    #[expect(
        clippy::many_single_char_names,
        reason = "the cases are A to K, as in the comments"
    )]
    pub(crate) fn november() -> Vec<Case> {
        use DisputeAction::{Accept, Escalate, Fail, Report};
        use DisputeLevel::{County, Township, Village};
        use DisputeStatus::{Accepted, Closed, Open, Settled};
        // A (1): V2, opened 10-20, deadline 11-30: open, not overdue (not before 11-30).
        let mut a = case(1, V2, day(2026, 10, 20));
        a.deadline = Some(nov(30));
        // B (2): V1, township, opened 08-01 (121 days to 11-30: backlog), deadline 11-10:
        // overdue 20 days on 11-30 (5 on 11-15); a leader but no plan.
        let mut b = case(2, V1, day(2026, 8, 1));
        b.level = Township;
        b.deadline = Some(nov(10));
        b.leader = Some("李镇长".into());
        // C (3): V1, opened 11-05, escalated to the township 11-12: open and escalated.
        let mut c = case(3, V1, nov(5));
        c.level = Township;
        c.status = Accepted;
        c.deadline = Some(day(2026, 12, 12));
        c.steps = vec![
            step(nov(5), Report, Open, Village),
            step(nov(12), Escalate, Open, Township),
            step(nov(13), Accept, Accepted, Township),
        ];
        // D (4): V2, opened 11-01, settled 11-20 by the village: closed and settled on
        // 11-30; open on 11-15.
        let mut d = case(4, V2, nov(1));
        d.status = Settled;
        d.closed_on = Some(nov(20));
        // E (5): V1, opened 06-01, escalated in September and October, not resolved at the
        // county on 11-25: closed, not resolved on 11-30; on 11-15 open and backlog (167
        // days) without a leader.
        let mut e = case(5, V1, day(2026, 6, 1));
        e.level = County;
        e.status = Closed;
        e.closed_on = Some(nov(25));
        e.steps = vec![
            step(day(2026, 6, 1), Report, Open, Village),
            step(day(2026, 9, 10), Escalate, Open, Township),
            step(day(2026, 10, 15), Escalate, Open, County),
            step(nov(25), Fail, Closed, County),
        ];
        // F (6): settled 10-31, before the month: not listed.
        let mut f = case(6, V1, day(2026, 10, 1));
        f.status = Settled;
        f.closed_on = Some(day(2026, 10, 31));
        // G (7): opened 12-02, after the month: not listed.
        let g = case(7, V1, day(2026, 12, 2));
        // H (8): township 102: only in the county's ledger.
        let h = case(8, V3, nov(2));
        // I (9): V2, opened 11-20, settled 12-03 (after the month): open on 11-30.
        let mut i = case(9, V2, nov(20));
        i.status = Settled;
        i.closed_on = Some(day(2026, 12, 3));
        // J (10): V1, county, opened 10-01 (60 days), deadline 11-15: overdue 15 days and
        // backlog (overdue at the county) on 11-30, with leader and plan; on 11-15 neither.
        let mut j = case(10, V1, day(2026, 10, 1));
        j.level = County;
        j.deadline = Some(nov(15));
        j.leader = Some("王县长".into());
        j.plan = Some("一案一策：联合调处".into());
        // K (11): V2, opened 09-01: exactly 90 days on 11-30, not yet backlog.
        let k = case(11, V2, day(2026, 9, 1));
        vec![a, b, c, d, e, f, g, h, i, j, k]
    }

    pub(crate) fn names() -> HashMap<DivisionCode, String> {
        HashMap::from([
            (code(T1), "某某镇".to_owned()),
            (code(V1), "甲村".to_owned()),
            (code(V2), "乙村".to_owned()),
        ])
    }

    pub(crate) fn township_ledger(as_of: NaiveDate) -> Ledger {
        let names = names();
        Ledger::build(&november(), code(T1), 2026, 11, as_of, &|c| {
            names.get(c).cloned()
        })
        .unwrap()
    }

    fn ids(l: &Ledger) -> Vec<i64> {
        l.rows.iter().map(|r| r.id.unwrap().0).collect()
    }

    fn row(l: &Ledger, id: i64) -> &LedgerRow {
        l.rows.iter().find(|r| r.id == Some(FeatureId(id))).unwrap()
    }

    #[test]
    fn backlog_boundaries() {
        let today = nov(30);
        let mut c = case(1, V1, day(2026, 9, 1));
        // 09-01 to 11-30 is 29 + 31 + 30 = 90 days: not more than 90.
        assert!(!is_backlog(&c, today));
        c.opened_on = day(2026, 8, 31);
        assert!(is_backlog(&c, today));
        c.status = DisputeStatus::Settled;
        assert!(!is_backlog(&c, today));
        // 30 days old, overdue: a backlog case only at the county.
        let mut c = case(2, V1, day(2026, 10, 31));
        c.deadline = Some(nov(29));
        c.level = DisputeLevel::Township;
        assert!(!is_backlog(&c, today));
        c.level = DisputeLevel::County;
        assert!(is_backlog(&c, today));
        c.deadline = Some(today);
        assert!(!is_backlog(&c, today));
    }

    #[test]
    #[expect(
        clippy::many_single_char_names,
        reason = "the cases are A to K, as in `november`"
    )]
    fn the_township_ledger_at_the_end_of_november() {
        let l = township_ledger(day(2026, 12, 5));
        assert_eq!(l.through, nov(30));
        // V1 by opening day: E 06-01, B 08-01, J 10-01, C 11-05; then V2: K 09-01,
        // A 10-20, D 11-01, I 11-20. F, G and H are not listed.
        assert_eq!(ids(&l), [5, 2, 10, 3, 11, 1, 4, 9]);
        assert_eq!(
            l.rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6, 7, 8]
        );
        assert_eq!(
            l.summary,
            LedgerSummary {
                rows: 8,
                open: 6,                           // B J C K A I
                overdue: 2,                        // B J
                escalated: 1,                      // C
                closed: 2,                         // E D
                settled: 1,                        // D
                not_resolved: 1,                   // E
                backlog: 2,                        // B J
                backlog_without_leader_or_plan: 1, // B (no plan)
            }
        );
        let b = row(&l, 2);
        assert_eq!(
            (b.overdue, b.days_overdue, b.backlog),
            (true, Some(20), true)
        );
        assert_eq!(b.reasons_zh(), "在办、超期");
        let j = row(&l, 10);
        assert_eq!((j.days_overdue, j.backlog), (Some(15), true));
        let c = row(&l, 3);
        assert_eq!((c.open, c.escalated, c.escalations), (true, true, 1));
        assert_eq!(c.reasons_zh(), "在办、本月升级");
        let e = row(&l, 5);
        assert_eq!(
            (e.open, e.closed, e.escalated, e.escalations),
            (false, true, false, 2)
        );
        assert_eq!(e.reasons_zh(), "本月办结");
        assert!(!row(&l, 11).backlog);
        assert!(!row(&l, 1).overdue);
        // I was settled after the month: open on 11-30, shown as recorded now.
        let i = row(&l, 9);
        assert_eq!(
            (i.open, i.closed, i.status),
            (true, false, DisputeStatus::Settled)
        );
        assert_eq!(i.closed_on, Some(day(2026, 12, 3)));
        assert_eq!(
            (b.township_name.as_deref(), b.village_name.as_deref()),
            (Some("某某镇"), Some("甲村"))
        );
        assert_eq!(l.title(), "某某镇矛盾纠纷排查化解台账（2026年11月）");
        // On the month's end the rows' flags agree with is_backlog for the open cases.
        let cases = november();
        for r in l.rows.iter().filter(|r| r.open && !r.status.is_finished()) {
            let c = cases.iter().find(|c| c.id == r.id).unwrap();
            assert_eq!(r.backlog, is_backlog(c, nov(30)), "case {:?}", r.id);
        }
    }

    #[test]
    fn the_same_ledger_drawn_up_mid_month() {
        let l = township_ledger(nov(15));
        assert_eq!(l.through, nov(15));
        // I (opened 11-20) is not yet there; D and E, closed later, are open.
        assert_eq!(ids(&l), [5, 2, 10, 3, 11, 1, 4]);
        assert_eq!(
            l.summary,
            LedgerSummary {
                rows: 7,
                open: 7,
                overdue: 1,   // B, 5 days (J's deadline is the day itself)
                escalated: 1, // C on 11-12
                closed: 0,
                settled: 0,
                not_resolved: 0,
                backlog: 2,                        // E (167 days), B (106 days)
                backlog_without_leader_or_plan: 2, // E no leader, B no plan
            }
        );
        assert_eq!(row(&l, 2).days_overdue, Some(5));
        assert!(row(&l, 5).backlog && !row(&l, 10).backlog);
        assert_eq!(
            l.title(),
            "某某镇矛盾纠纷排查化解台账（2026年11月，截至11月15日）"
        );
    }

    #[test]
    fn villages_and_counties_and_bad_months() {
        let cases = november();
        let no_names = |_: &DivisionCode| None;
        let v2 = Ledger::build(&cases, code(V2), 2026, 11, nov(30), &no_names).unwrap();
        assert_eq!(ids(&v2), [11, 1, 4, 9]);
        assert_eq!(v2.title(), "520526101202矛盾纠纷排查化解台账（2026年11月）");
        let county = code("520526000000");
        let all = Ledger::build(&cases, county, 2026, 11, nov(30), &no_names).unwrap();
        // H (township 102) comes after township 101's rows.
        assert_eq!(ids(&all), [5, 2, 10, 3, 11, 1, 4, 9, 8]);
        assert_eq!(all.rows[8].township, Some(code("520526102000")));
        assert_eq!(
            Ledger::build(&cases, county, 2026, 13, nov(30), &no_names),
            Err(LedgerError::Month {
                year: 2026,
                month: 13
            })
        );
        let early = Ledger::build(&cases, county, 2026, 11, day(2026, 10, 31), &no_names);
        assert!(
            matches!(early, Err(LedgerError::BeforeMonth { .. })),
            "{early:?}"
        );
        // December: the month's last day is 12-31.
        let dec = Ledger::build(&cases, county, 2026, 12, day(2027, 1, 10), &no_names).unwrap();
        assert_eq!(dec.last_day, day(2026, 12, 31));
    }

    #[test]
    fn the_ledger_serializes_with_tokens() {
        let l = township_ledger(nov(30));
        let json = serde_json::to_value(&l).unwrap();
        let c = &json["rows"][3];
        assert_eq!(c["id"], 3);
        assert_eq!(c["category"], "land_contracting");
        assert_eq!(c["level"], "township");
        assert_eq!(c["status"], "accepted");
        assert_eq!(c["grid"], "520526101201-G01");
        assert_eq!(c["opened_on"], "2026-11-05");
        assert_eq!(c["village_name"], "甲村");
        assert_eq!(json["summary"]["backlog"], 2);
        assert_eq!(json["division"], T1);
        assert_eq!(json["through"], "2026-11-30");
    }
}
