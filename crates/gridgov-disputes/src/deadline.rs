//! How long each level has to settle a case (限期化解): days per level, with overrides per
//! category, read from a JSON file a county keeps (`gridgov serve --dispute-deadlines FILE`).
//!
//! ```json
//! { "village": 15, "township": 30, "county": 60,
//!   "categories": { "land_acquisition": { "township": 45, "county": 90 } } }
//! ```
//!
//! Every key is optional; what is not given keeps the default of [`Deadlines::default`]
//! (15, 30 and 60 days: the demo's and a common township's practice).

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use gridgov_model::vocab::{DisputeCategory, DisputeLevel};
use serde::{Deserialize, Serialize};

/// The longest deadline accepted, in days.
pub const MAX_DAYS: u32 = 365;

/// A deadline file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("dispute deadlines: {0}")]
pub struct DeadlineError(pub String);

/// Days per level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelDays {
    /// Days the village (community) has.
    pub village: u32,
    /// Days the township has.
    pub township: u32,
    /// Days the county has.
    pub county: u32,
}

impl LevelDays {
    fn of(&self, level: DisputeLevel) -> u32 {
        match level {
            DisputeLevel::Village => self.village,
            DisputeLevel::Township => self.township,
            DisputeLevel::County => self.county,
        }
    }
}

/// The deadlines in force: days per level, and per category where a category differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadlines {
    /// Days per level for every category not listed in `categories`.
    pub default: LevelDays,
    /// Days per level for particular categories (by token).
    pub categories: BTreeMap<String, LevelDays>,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            default: LevelDays {
                village: 15,
                township: 30,
                county: 60,
            },
            categories: BTreeMap::new(),
        }
    }
}

/// Days per level as the file gives them: any may be left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartialDays {
    village: Option<u32>,
    township: Option<u32>,
    county: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    village: Option<u32>,
    township: Option<u32>,
    county: Option<u32>,
    #[serde(default)]
    categories: BTreeMap<String, PartialDays>,
}

impl PartialDays {
    fn over(&self, base: LevelDays, what: &str) -> Result<LevelDays, DeadlineError> {
        let check = |level: &str, v: Option<u32>, base: u32| match v {
            None => Ok(base),
            Some(d) if (1..=MAX_DAYS).contains(&d) => Ok(d),
            Some(d) => Err(DeadlineError(format!(
                "{what}{level} is {d} days; a deadline is 1 to {MAX_DAYS} days"
            ))),
        };
        Ok(LevelDays {
            village: check("village", self.village, base.village)?,
            township: check("township", self.township, base.township)?,
            county: check("county", self.county, base.county)?,
        })
    }
}

impl Deadlines {
    /// Reads a deadline file (see the module docs).
    ///
    /// # Errors
    /// [`DeadlineError`] naming the key: not JSON, an unknown key or category, a deadline
    /// outside 1..=[`MAX_DAYS`] days.
    pub fn from_json(text: &str) -> Result<Deadlines, DeadlineError> {
        let file: File = serde_json::from_str(text).map_err(|e| DeadlineError(e.to_string()))?;
        let given = PartialDays {
            village: file.village,
            township: file.township,
            county: file.county,
        };
        let default = given.over(Deadlines::default().default, "")?;
        let mut categories = BTreeMap::new();
        for (token, days) in &file.categories {
            let category: DisputeCategory = token
                .parse()
                .map_err(|e| DeadlineError(format!("categories: {e}")))?;
            let what = format!("categories.{}.", category.token());
            categories.insert(category.token().to_owned(), days.over(default, &what)?);
        }
        Ok(Deadlines {
            default,
            categories,
        })
    }

    /// Days the level has for a case of the category.
    pub fn days(&self, level: DisputeLevel, category: DisputeCategory) -> u32 {
        self.categories
            .get(category.token())
            .unwrap_or(&self.default)
            .of(level)
    }

    /// The deadline of a case of the category that the level takes on on `from`.
    pub fn due(
        &self,
        level: DisputeLevel,
        category: DisputeCategory,
        from: NaiveDate,
    ) -> NaiveDate {
        from.checked_add_days(Days::new(u64::from(self.days(level, category))))
            .unwrap_or(NaiveDate::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_what_it_names_and_keeps_the_rest() {
        let d =
            Deadlines::from_json(r#"{"township": 20, "categories": {"征地拆迁": {"county": 90}}}"#)
                .unwrap();
        assert_eq!(d.days(DisputeLevel::Village, DisputeCategory::Other), 15);
        assert_eq!(d.days(DisputeLevel::Township, DisputeCategory::Other), 20);
        // A category's override starts from the file's defaults, not the built-in ones.
        let land = DisputeCategory::LandAcquisition;
        assert_eq!(d.days(DisputeLevel::Township, land), 20);
        assert_eq!(d.days(DisputeLevel::County, land), 90);
        let day = NaiveDate::from_ymd_opt(2026, 12, 20).unwrap();
        assert_eq!(
            d.due(DisputeLevel::County, land, day),
            NaiveDate::from_ymd_opt(2027, 3, 20).unwrap()
        );
    }

    #[test]
    fn bad_files_name_the_problem() {
        for (text, says) in [
            (r#"{"village": 0}"#, "village is 0 days"),
            (
                r#"{"categories": {"x": {"village": 3}}}"#,
                "'x' is not a valid dispute category",
            ),
            (
                r#"{"categories": {"medical": {"county": 400}}}"#,
                "categories.medical.county",
            ),
            (r#"{"town": 3}"#, "unknown field"),
            ("[", "EOF"),
        ] {
            let e = Deadlines::from_json(text).unwrap_err().to_string();
            assert!(e.contains(says), "{text}: {e}");
        }
    }
}
