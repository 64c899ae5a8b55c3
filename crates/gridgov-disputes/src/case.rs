//! A dispute case (矛盾纠纷) and its history (调处记录), read from and written to the model's
//! `disputes` and `dispute_steps` features.

use chrono::{DateTime, NaiveDate, Utc};
use geo::{Geometry, Point};
use gridgov_model::vocab::{
    DisputeAction, DisputeCategory, DisputeChannel, DisputeLevel, DisputeStatus,
};
use gridgov_model::{DivisionCode, Feature, FeatureId, GridCode, Value};

/// A field of a dispute or step feature that is missing or not what the model allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dispute {id}: field '{field}' {reason}")]
pub struct CaseError {
    /// The feature's id, or `new` for one not yet stored.
    pub id: String,
    /// The field.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

/// One step of a case's history: who did what when, and where the case stood after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// When the step was taken.
    pub at: DateTime<Utc>,
    /// Who took it (a user name, or `system` for deadline escalation).
    pub actor: String,
    /// What was done.
    pub action: DisputeAction,
    /// The case's status after the step.
    pub status: DisputeStatus,
    /// The level holding the case after the step.
    pub level: DisputeLevel,
    /// The note given with the step (for `assign_leader`, the leader and plan).
    pub note: Option<String>,
}

/// A dispute with its history.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The dispute's id (`None` before it is first stored).
    pub id: Option<FeatureId>,
    /// The village (or community) the dispute lies in: its owning division.
    pub village: DivisionCode,
    /// The grid of the plan in force that contains it, when there is one.
    pub grid: Option<GridCode>,
    /// Where it happened (WGS84 longitude, latitude).
    pub location: Option<Point<f64>>,
    /// Professional category.
    pub category: DisputeCategory,
    /// Mediation channel.
    pub channel: DisputeChannel,
    /// The level holding the case now (at the end, the level that settled or closed it).
    pub level: DisputeLevel,
    /// Where the case stands.
    pub status: DisputeStatus,
    /// The day it was reported.
    pub opened_on: NaiveDate,
    /// The day by which the level holding it must settle it.
    pub deadline: Option<NaiveDate>,
    /// The day it was settled or closed.
    pub closed_on: Option<NaiveDate>,
    /// The parties' names (当事人), as reported.
    pub parties: Vec<String>,
    /// The responsible leader of a backlog case (包案领导).
    pub leader: Option<String>,
    /// The plan for a backlog case (一案一策).
    pub plan: Option<String>,
    /// What the dispute is about.
    pub description: Option<String>,
    /// The history, oldest first. Empty for cases stored without one (imported ledgers).
    pub steps: Vec<Step>,
}

impl Case {
    /// Reads a `disputes` feature (without its history; see [`Case::with_steps`]).
    ///
    /// # Errors
    /// [`CaseError`] when a required field is missing or not a value of its vocabulary.
    pub fn from_feature(f: &Feature) -> Result<Case, CaseError> {
        let id = f.id;
        let err = |field: &'static str, reason: String| CaseError {
            id: id.map_or_else(|| "new".to_owned(), |i| i.0.to_string()),
            field,
            reason,
        };
        let token =
            |field: &'static str| f.text(field).ok_or_else(|| err(field, "is missing".into()));
        let date = |field: &'static str| match f.get(field) {
            None => Ok(None),
            Some(Value::Date(d)) => Ok(Some(*d)),
            Some(other) => Err(err(field, format!("is not a date: {}", other.to_text()))),
        };
        let text = |field: &'static str| {
            f.text(field)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let grid = match f.text("grid_code") {
            None => None,
            Some(g) => Some(g.parse().map_err(|e| err("grid_code", format!("{e}")))?),
        };
        let location = match &f.geometry {
            Some(Geometry::Point(p)) => Some(*p),
            _ => None,
        };
        Ok(Case {
            id,
            village: f.division,
            grid,
            location,
            category: token("category")?
                .parse()
                .map_err(|e| err("category", format!("{e}")))?,
            channel: token("channel")?
                .parse()
                .map_err(|e| err("channel", format!("{e}")))?,
            level: token("level")?
                .parse()
                .map_err(|e| err("level", format!("{e}")))?,
            status: token("status")?
                .parse()
                .map_err(|e| err("status", format!("{e}")))?,
            opened_on: date("opened_on")?.ok_or_else(|| err("opened_on", "is missing".into()))?,
            deadline: date("deadline")?,
            closed_on: date("closed_on")?,
            parties: f.text("parties").map(split_parties).unwrap_or_default(),
            leader: text("leader"),
            plan: text("plan"),
            description: text("description"),
            steps: Vec::new(),
        })
    }

    /// The case with its history from `dispute_steps` features (any order; those of other
    /// disputes are skipped).
    ///
    /// # Errors
    /// [`CaseError`] when a step of this case is not a valid step.
    pub fn with_steps<'a>(
        mut self,
        steps: impl IntoIterator<Item = &'a Feature>,
    ) -> Result<Case, CaseError> {
        let me = self.id.map(|i| i.0);
        for s in steps {
            if me.is_some() && s.get("dispute_id").and_then(Value::as_i64) == me {
                self.steps.push(Step::from_feature(s)?);
            }
        }
        self.steps.sort_by_key(|s| s.at);
        Ok(self)
    }

    /// Writes the case's fields onto a `disputes` feature (its geometry, division and id are
    /// the caller's). Optional fields that are empty are removed.
    pub fn write_to(&self, f: &mut Feature) {
        let p = &mut f.properties;
        p.insert("category".into(), self.category.token().into());
        p.insert("channel".into(), self.channel.token().into());
        p.insert("level".into(), self.level.token().into());
        p.insert("status".into(), self.status.token().into());
        p.insert("opened_on".into(), Value::Date(self.opened_on));
        let mut opt = |name: &str, v: Option<Value>| match v {
            Some(v) => {
                p.insert(name.into(), v);
            }
            None => {
                p.remove(name);
            }
        };
        opt("deadline", self.deadline.map(Value::Date));
        opt("closed_on", self.closed_on.map(Value::Date));
        opt(
            "grid_code",
            self.grid.as_ref().map(|g| g.to_string().into()),
        );
        opt(
            "parties",
            (!self.parties.is_empty()).then(|| self.parties.join("；").into()),
        );
        opt("leader", self.leader.clone().map(Into::into));
        opt("plan", self.plan.clone().map(Into::into));
        opt("description", self.description.clone().map(Into::into));
    }

    /// Whether the case is still being handled (not settled, not closed).
    pub fn is_open(&self) -> bool {
        !self.status.is_finished()
    }

    /// Whether the case is open and its deadline passed before `today`.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.is_open() && self.deadline.is_some_and(|d| d < today)
    }

    /// The escalations of the case: the day of each step that moved it to a higher level, with
    /// the level it moved to. A case without history that stands above the village is taken as
    /// escalated once per level, on unknown days (`None`).
    pub fn escalations(&self) -> Vec<(Option<NaiveDate>, DisputeLevel)> {
        if self.steps.is_empty() {
            return match self.level {
                DisputeLevel::Village => Vec::new(),
                DisputeLevel::Township => vec![(None, DisputeLevel::Township)],
                DisputeLevel::County => {
                    vec![(None, DisputeLevel::Township), (None, DisputeLevel::County)]
                }
            };
        }
        let mut level = DisputeLevel::Village;
        let mut out = Vec::new();
        for s in &self.steps {
            if s.level > level {
                out.push((Some(s.at.date_naive()), s.level));
            }
            level = s.level;
        }
        out
    }
}

impl Step {
    /// Reads a `dispute_steps` feature.
    ///
    /// # Errors
    /// [`CaseError`] when a required field is missing or not valid.
    pub fn from_feature(f: &Feature) -> Result<Step, CaseError> {
        let err = |field: &'static str, reason: String| CaseError {
            id: f
                .get("dispute_id")
                .map_or_else(|| "?".to_owned(), Value::to_text),
            field,
            reason,
        };
        let token =
            |field: &'static str| f.text(field).ok_or_else(|| err(field, "is missing".into()));
        let at = match f.get("at") {
            Some(Value::DateTime(t)) => *t,
            _ => return Err(err("at", "is missing or not a date-time".into())),
        };
        Ok(Step {
            at,
            actor: token("actor")?.to_owned(),
            action: token("action")?
                .parse()
                .map_err(|e| err("action", format!("{e}")))?,
            status: token("status")?
                .parse()
                .map_err(|e| err("status", format!("{e}")))?,
            level: token("level")?
                .parse()
                .map_err(|e| err("level", format!("{e}")))?,
            note: f
                .text("note")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        })
    }

    /// The step as a `dispute_steps` feature of the dispute `dispute` in `village`.
    pub fn to_feature(&self, dispute: FeatureId, village: DivisionCode) -> Feature {
        let mut f = Feature::new(village, None)
            .with("dispute_id", dispute.0)
            .with("at", Value::DateTime(self.at))
            .with("actor", self.actor.as_str())
            .with("action", self.action.token())
            .with("status", self.status.token())
            .with("level", self.level.token());
        if let Some(n) = &self.note {
            f = f.with("note", n.as_str());
        }
        f
    }
}

/// The parties named in a `parties` field: separated by `；`, `;`, `、`, `，` or `,`, trimmed.
pub fn split_parties(s: &str) -> Vec<String> {
    s.split(['；', ';', '、', '，', ','])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature() -> Feature {
        let village: DivisionCode = "520526101201".parse().unwrap();
        let mut f = Feature::new(village, Some(Geometry::Point(Point::new(105.1, 27.2))))
            .with("category", "land_contracting")
            .with("channel", "people")
            .with("level", "village")
            .with("status", "open")
            .with(
                "opened_on",
                Value::Date(NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()),
            )
            .with("parties", "张三； 李四、王五")
            .with("grid_code", "520526101201-G02");
        f.id = Some(FeatureId(7));
        f
    }

    #[test]
    fn a_case_reads_and_writes_back_the_same_fields() {
        let f = feature();
        let c = Case::from_feature(&f).unwrap();
        assert_eq!(c.parties, ["张三", "李四", "王五"]);
        assert_eq!(c.grid.as_ref().unwrap().to_string(), "520526101201-G02");
        let mut g = Feature::new(c.village, f.geometry.clone());
        c.write_to(&mut g);
        assert_eq!(Case::from_feature(&g).unwrap().parties, c.parties);
        assert_eq!(g.text("parties"), Some("张三；李四；王五"));
        assert_eq!(g.text("status"), Some("open"));
    }

    #[test]
    fn a_bad_token_names_the_field_and_the_case() {
        let f = feature().with("status", "lost");
        let e = Case::from_feature(&f).unwrap_err();
        assert_eq!(e.field, "status");
        assert!(e.to_string().contains("dispute 7"), "{e}");
    }

    #[test]
    fn escalations_come_from_the_history_or_the_level() {
        let mut c = Case::from_feature(&feature()).unwrap();
        c.level = DisputeLevel::County;
        assert_eq!(c.escalations().len(), 2);
        let at = |d: u32| {
            NaiveDate::from_ymd_opt(2026, 3, d)
                .unwrap()
                .and_hms_opt(9, 0, 0)
                .unwrap()
                .and_utc()
        };
        let step = |d, action, level| Step {
            at: at(d),
            actor: "w".into(),
            action,
            status: DisputeStatus::Open,
            level,
            note: None,
        };
        c.steps = vec![
            step(1, DisputeAction::Report, DisputeLevel::Village),
            step(9, DisputeAction::Fail, DisputeLevel::Township),
        ];
        assert_eq!(
            c.escalations(),
            [(NaiveDate::from_ymd_opt(2026, 3, 9), DisputeLevel::Township)]
        );
        let f = c.steps[1].to_feature(FeatureId(7), c.village);
        assert_eq!(Step::from_feature(&f).unwrap(), c.steps[1]);
    }
}
