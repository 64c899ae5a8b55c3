//! The mediation workflow: a case is reported in a village, accepted and mediated by the level
//! that holds it, and settled; when mediation fails or the level's deadline passes, it goes up
//! village → township → county (小事不出村、大事不出镇、矛盾不上交).
//!
//! | action | from | to |
//! | --- | --- | --- |
//! | `report` | (new) | `open` at the village, the village's deadline |
//! | `accept` | `open` | `accepted` |
//! | `mediate` | `accepted` | `mediating` |
//! | `resolve` | `mediating` | `settled`, closed today |
//! | `fail` | `mediating` | `open` at the next level with its deadline; at the county `closed` (not resolved) |
//! | `escalate` | `open`, `accepted`, `mediating` below the county | `open` at the next level |
//! | `escalate_overdue` | any open state below the county, deadline passed | `open` at the next level (by `system`) |
//! | `assign_leader` | any open state | unchanged; sets the leader and the plan (包案领导、一案一策) |
//!
//! Each applied action appends a [`Step`] to the case's history. Who may act: the level
//! holding a case acts on it — a village officer on village cases, a township officer on
//! village and township cases, the county administrator on all ([`acts_at`]); grid workers
//! report. The clock is always the caller's (`now`), so tests control it.

use chrono::{DateTime, Utc};
use geo::Point;
use gridgov_model::vocab::{
    DisputeAction, DisputeCategory, DisputeChannel, DisputeLevel, DisputeStatus,
};
use gridgov_model::{DivisionCode, GridCode, Role};

use crate::case::{Case, Step};
use crate::deadline::Deadlines;

/// The actor name of steps the server takes by itself (deadline escalation).
pub const SYSTEM: &str = "system";

/// An action that the case's state does not allow, or that lacks what it needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// The action does not apply to the case as it stands (HTTP 409).
    #[error(
        "cannot {action} a case that is {status} ({status_zh}) at the {level} level: {allowed}"
    )]
    State {
        /// The action tried.
        action: DisputeAction,
        /// The case's status.
        status: DisputeStatus,
        /// Its Chinese term.
        status_zh: &'static str,
        /// The level holding the case.
        level: DisputeLevel,
        /// What the action needs.
        allowed: &'static str,
    },
    /// A field the action needs is missing or empty (HTTP 422).
    #[error("{field}: {reason}")]
    Missing {
        /// The field.
        field: &'static str,
        /// Why it is needed.
        reason: &'static str,
    },
}

/// What a grid worker reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The village containing the place.
    pub village: DivisionCode,
    /// The grid of the plan in force containing it, if any.
    pub grid: Option<GridCode>,
    /// The place (WGS84).
    pub location: Point<f64>,
    /// Professional category.
    pub category: DisputeCategory,
    /// Mediation channel.
    pub channel: DisputeChannel,
    /// The parties' names.
    pub parties: Vec<String>,
    /// What happened.
    pub description: Option<String>,
    /// A note for the history.
    pub note: Option<String>,
}

/// An action on an existing case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// 受理.
    Accept,
    /// 调解.
    Mediate,
    /// 化解.
    Resolve,
    /// 调解不成.
    Fail,
    /// 上报上级.
    Escalate,
    /// 包案: the responsible leader and the plan.
    AssignLeader {
        /// 包案领导.
        leader: String,
        /// 一案一策.
        plan: String,
    },
}

impl Command {
    /// The action this command records.
    pub fn action(&self) -> DisputeAction {
        match self {
            Command::Accept => DisputeAction::Accept,
            Command::Mediate => DisputeAction::Mediate,
            Command::Resolve => DisputeAction::Resolve,
            Command::Fail => DisputeAction::Fail,
            Command::Escalate => DisputeAction::Escalate,
            Command::AssignLeader { .. } => DisputeAction::AssignLeader,
        }
    }
}

/// The highest level at which a role handles cases: `None` for roles that only report
/// (grid workers) or do not handle disputes.
pub fn acts_at(role: Role) -> Option<DisputeLevel> {
    match role {
        Role::CountyAdmin => Some(DisputeLevel::County),
        Role::TownshipOfficer => Some(DisputeLevel::Township),
        Role::VillageOfficer => Some(DisputeLevel::Village),
        Role::GridWorker | Role::CommandScreen | Role::JudicialOfficer => None,
    }
}

/// Whether the role may report disputes.
pub fn reports(role: Role) -> bool {
    matches!(
        role,
        Role::GridWorker | Role::VillageOfficer | Role::TownshipOfficer | Role::CountyAdmin
    )
}

/// Whether the role may act on a case held at `level`.
pub fn may_act(role: Role, level: DisputeLevel) -> bool {
    acts_at(role).is_some_and(|top| level <= top)
}

fn next(level: DisputeLevel) -> Option<DisputeLevel> {
    match level {
        DisputeLevel::Village => Some(DisputeLevel::Township),
        DisputeLevel::Township => Some(DisputeLevel::County),
        DisputeLevel::County => None,
    }
}

fn trimmed(note: Option<&str>) -> Option<String> {
    note.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A new case from a report: open at the village, with the village's deadline, and its first
/// step.
pub fn report(r: Report, by: &str, now: DateTime<Utc>, deadlines: &Deadlines) -> Case {
    let today = now.date_naive();
    let mut case = Case {
        id: None,
        village: r.village,
        grid: r.grid,
        location: Some(r.location),
        category: r.category,
        channel: r.channel,
        level: DisputeLevel::Village,
        status: DisputeStatus::Open,
        opened_on: today,
        deadline: Some(deadlines.due(DisputeLevel::Village, r.category, today)),
        closed_on: None,
        parties: r.parties,
        leader: None,
        plan: None,
        description: trimmed(r.description.as_deref()),
        steps: Vec::new(),
    };
    record(
        &mut case,
        DisputeAction::Report,
        by,
        now,
        trimmed(r.note.as_deref()),
    );
    case
}

fn record(
    case: &mut Case,
    action: DisputeAction,
    by: &str,
    now: DateTime<Utc>,
    note: Option<String>,
) {
    case.steps.push(Step {
        at: now,
        actor: by.to_owned(),
        action,
        status: case.status,
        level: case.level,
        note,
    });
}

/// Hands the case to the next level: open there, with that level's deadline from today.
fn raise(case: &mut Case, to: DisputeLevel, now: DateTime<Utc>, deadlines: &Deadlines) {
    let today = now.date_naive();
    case.level = to;
    case.status = DisputeStatus::Open;
    case.deadline = Some(deadlines.due(to, case.category, today).max(case.opened_on));
}

/// Applies an action to a case and records it in its history.
///
/// # Errors
/// [`WorkflowError::State`] (the case stays as it was) when the case's status or level does not
/// allow the action; [`WorkflowError::Missing`] when `fail` has no note (why mediation failed)
/// or `assign_leader` no leader or plan.
pub fn apply(
    case: &mut Case,
    command: Command,
    note: Option<&str>,
    by: &str,
    now: DateTime<Utc>,
    deadlines: &Deadlines,
) -> Result<(), WorkflowError> {
    use DisputeStatus as S;
    let action = command.action();
    let refuse = |allowed: &'static str| WorkflowError::State {
        action,
        status: case.status,
        status_zh: case.status.zh(),
        level: case.level,
        allowed,
    };
    let note = trimmed(note);
    match command {
        Command::Accept => {
            if case.status != S::Open {
                return Err(refuse(
                    "only an open (reported or escalated) case can be accepted",
                ));
            }
            case.status = S::Accepted;
        }
        Command::Mediate => {
            if case.status != S::Accepted {
                return Err(refuse("mediation starts on an accepted case"));
            }
            case.status = S::Mediating;
        }
        Command::Resolve => {
            if case.status != S::Mediating {
                return Err(refuse("only a case in mediation can be resolved"));
            }
            case.status = S::Settled;
            case.closed_on = Some(now.date_naive().max(case.opened_on));
        }
        Command::Fail => {
            if case.status != S::Mediating {
                return Err(refuse("only a case in mediation can fail"));
            }
            if note.is_none() {
                return Err(WorkflowError::Missing {
                    field: "note",
                    reason: "say why mediation failed",
                });
            }
            if let Some(up) = next(case.level) {
                raise(case, up, now, deadlines);
            } else {
                case.status = S::Closed;
                case.closed_on = Some(now.date_naive().max(case.opened_on));
            }
        }
        Command::Escalate => {
            if case.status.is_finished() {
                return Err(refuse("a finished case cannot be escalated"));
            }
            let Some(up) = next(case.level) else {
                return Err(refuse("the county is the last level"));
            };
            raise(case, up, now, deadlines);
        }
        Command::AssignLeader { leader, plan } => {
            if case.status.is_finished() {
                return Err(refuse("a finished case needs no leader"));
            }
            let (Some(leader), Some(plan)) = (trimmed(Some(&leader)), trimmed(Some(&plan))) else {
                return Err(WorkflowError::Missing {
                    field: "leader",
                    reason: "a backlog case needs both a responsible leader and a plan",
                });
            };
            case.leader = Some(leader);
            case.plan = Some(plan);
        }
    }
    record(case, action, by, now, note);
    Ok(())
}

/// Escalates a case whose level's deadline passed before `now`'s day: open (in any open state)
/// below the county, it goes to the next level, recorded as `escalate_overdue` by [`SYSTEM`].
/// Returns whether it did. A county case past its deadline stays overdue (the ledger lists it).
pub fn escalate_overdue(case: &mut Case, now: DateTime<Utc>, deadlines: &Deadlines) -> bool {
    if !case.is_overdue(now.date_naive()) {
        return false;
    }
    let Some(up) = next(case.level) else {
        return false;
    };
    let late = case.deadline.map(|d| (now.date_naive() - d).num_days());
    raise(case, up, now, deadlines);
    let note = late.map(|days| format!("deadline passed {days} days ago"));
    record(case, DisputeAction::EscalateOverdue, SYSTEM, now, note);
    true
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate, TimeZone};

    use super::*;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 9, 30, 0).unwrap()
    }

    fn reported() -> Case {
        let r = Report {
            village: "520526101201".parse().unwrap(),
            grid: Some("520526101201-G01".parse().unwrap()),
            location: Point::new(105.0, 27.0),
            category: DisputeCategory::LandContracting,
            channel: DisputeChannel::People,
            parties: vec!["张三".into(), "李四".into()],
            description: Some("承包地边界纠纷".into()),
            note: None,
        };
        report(r, "worker", at(1), &Deadlines::default())
    }

    fn run(case: &mut Case, c: Command, note: Option<&str>, day: u32) -> Result<(), WorkflowError> {
        apply(case, c, note, "officer", at(day), &Deadlines::default())
    }

    #[test]
    fn a_report_opens_at_the_village_with_its_deadline() {
        let c = reported();
        assert_eq!(
            (c.status, c.level),
            (DisputeStatus::Open, DisputeLevel::Village)
        );
        assert_eq!(c.opened_on, NaiveDate::from_ymd_opt(2026, 3, 1).unwrap());
        assert_eq!(c.deadline, NaiveDate::from_ymd_opt(2026, 3, 16));
        assert_eq!(c.steps.len(), 1);
        assert_eq!(c.steps[0].action, DisputeAction::Report);
        assert_eq!(c.steps[0].actor, "worker");
    }

    #[test]
    fn the_happy_path_settles_in_the_village() {
        use DisputeAction as A;
        let mut c = reported();
        run(&mut c, Command::Accept, None, 2).unwrap();
        run(&mut c, Command::Mediate, Some("约双方到村委会"), 3).unwrap();
        run(&mut c, Command::Resolve, Some("达成协议"), 5).unwrap();
        assert_eq!(c.status, DisputeStatus::Settled);
        assert_eq!(c.closed_on, NaiveDate::from_ymd_opt(2026, 3, 5));
        let actions: Vec<_> = c.steps.iter().map(|s| s.action).collect();
        assert_eq!(actions, [A::Report, A::Accept, A::Mediate, A::Resolve]);
        assert_eq!(c.steps[2].note.as_deref(), Some("约双方到村委会"));
        assert!(c.escalations().is_empty());
    }

    #[test]
    fn failed_mediation_climbs_each_level_then_closes_unresolved() {
        let mut c = reported();
        for (level, day) in [
            (DisputeLevel::Village, 2),
            (DisputeLevel::Township, 6),
            (DisputeLevel::County, 10),
        ] {
            assert_eq!((c.level, c.status), (level, DisputeStatus::Open));
            run(&mut c, Command::Accept, None, day).unwrap();
            run(&mut c, Command::Mediate, None, day).unwrap();
            run(&mut c, Command::Fail, Some("双方分歧大"), day + 1).unwrap();
        }
        assert_eq!(
            (c.level, c.status),
            (DisputeLevel::County, DisputeStatus::Closed)
        );
        assert_eq!(c.closed_on, NaiveDate::from_ymd_opt(2026, 3, 11));
        // The township's deadline counts from the day it took the case (3 March + 30 days).
        let township_open = c
            .steps
            .iter()
            .find(|s| s.level == DisputeLevel::Township)
            .unwrap();
        assert_eq!(township_open.at, at(3));
        assert_eq!(c.escalations().len(), 2);
    }

    #[test]
    fn every_transition_that_does_not_apply_is_refused_naming_the_state() {
        use Command as C;
        let leader = || C::AssignLeader {
            leader: "王镇长".into(),
            plan: "每周约谈".into(),
        };
        // (state reached by these commands, command that must be refused)
        let paths: Vec<(Vec<Command>, Command)> = vec![
            (vec![], C::Mediate),
            (vec![], C::Resolve),
            (vec![], C::Fail),
            (vec![C::Accept], C::Accept),
            (vec![C::Accept], C::Resolve),
            (vec![C::Accept, C::Mediate], C::Accept),
            (vec![C::Accept, C::Mediate], C::Mediate),
            (vec![C::Accept, C::Mediate, C::Resolve], C::Accept),
            (vec![C::Accept, C::Mediate, C::Resolve], C::Escalate),
            (vec![C::Accept, C::Mediate, C::Resolve], C::Fail),
            (vec![C::Accept, C::Mediate, C::Resolve], leader()),
            (vec![C::Escalate, C::Escalate], C::Escalate),
        ];
        for (before, refused) in paths {
            let mut c = reported();
            for cmd in before.clone() {
                run(&mut c, cmd, Some("n"), 2).unwrap();
            }
            let was = c.clone();
            let e = run(&mut c, refused.clone(), Some("n"), 3).unwrap_err();
            assert_eq!(c, was, "{before:?} then {refused:?} changed the case");
            let text = e.to_string();
            assert!(
                text.contains(c.status.token()) && text.contains(c.status.zh()),
                "{before:?} then {refused:?}: {text}"
            );
            assert!(matches!(e, WorkflowError::State { .. }));
        }
    }

    #[test]
    fn fail_needs_a_reason_and_a_leader_needs_a_plan() {
        let mut c = reported();
        run(&mut c, Command::Accept, None, 2).unwrap();
        run(&mut c, Command::Mediate, None, 2).unwrap();
        let e = run(&mut c, Command::Fail, Some("  "), 3).unwrap_err();
        assert!(matches!(e, WorkflowError::Missing { field: "note", .. }));
        let e = run(
            &mut c,
            Command::AssignLeader {
                leader: "王镇长".into(),
                plan: String::new(),
            },
            None,
            3,
        )
        .unwrap_err();
        assert!(matches!(e, WorkflowError::Missing { .. }));
        run(
            &mut c,
            Command::AssignLeader {
                leader: "王镇长".into(),
                plan: "每周约谈".into(),
            },
            None,
            3,
        )
        .unwrap();
        assert_eq!(c.leader.as_deref(), Some("王镇长"));
        assert_eq!(c.status, DisputeStatus::Mediating);
    }

    #[test]
    fn the_deadline_escalates_once_per_passed_deadline_with_a_controlled_clock() {
        let d = Deadlines::default();
        let mut c = reported();
        // On the deadline day itself the village still has time.
        let deadline = c.deadline.unwrap();
        let day = |n: NaiveDate| n.and_hms_opt(8, 0, 0).unwrap().and_utc();
        assert!(!escalate_overdue(&mut c, day(deadline), &d));
        let late = day(deadline + Duration::days(1));
        assert!(escalate_overdue(&mut c, late, &d));
        assert_eq!(
            (c.level, c.status),
            (DisputeLevel::Township, DisputeStatus::Open)
        );
        assert_eq!(c.deadline, Some(late.date_naive() + Duration::days(30)));
        let step = c.steps.last().unwrap();
        assert_eq!(
            (step.action, step.actor.as_str()),
            (DisputeAction::EscalateOverdue, SYSTEM)
        );
        // Run again the same day: nothing more happens.
        assert!(!escalate_overdue(&mut c, late, &d));
        let later = day(c.deadline.unwrap() + Duration::days(1));
        assert!(escalate_overdue(&mut c, later, &d));
        assert_eq!(c.level, DisputeLevel::County);
        // At the county it stays, overdue.
        let last = day(c.deadline.unwrap() + Duration::days(1));
        assert!(!escalate_overdue(&mut c, last, &d));
        assert!(c.is_overdue(last.date_naive()));
        // A settled case never escalates.
        let mut s = reported();
        run(&mut s, Command::Accept, None, 2).unwrap();
        run(&mut s, Command::Mediate, None, 2).unwrap();
        run(&mut s, Command::Resolve, None, 2).unwrap();
        assert!(!escalate_overdue(&mut s, last, &d));
    }

    #[test]
    fn who_acts_on_which_level() {
        assert!(may_act(Role::VillageOfficer, DisputeLevel::Village));
        assert!(!may_act(Role::VillageOfficer, DisputeLevel::Township));
        assert!(may_act(Role::TownshipOfficer, DisputeLevel::Township));
        assert!(!may_act(Role::TownshipOfficer, DisputeLevel::County));
        assert!(may_act(Role::CountyAdmin, DisputeLevel::County));
        assert!(!may_act(Role::GridWorker, DisputeLevel::Village));
        assert!(reports(Role::GridWorker));
        assert!(!reports(Role::CommandScreen));
    }
}
