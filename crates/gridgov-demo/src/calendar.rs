//! The demo's fixed calendar. Nothing depends on today's date: the records run up to
//! [`AS_OF`], so the same seed gives the same demo whenever it is generated.

use chrono::{NaiveDate, NaiveDateTime};

/// A date, checked when the program is compiled (use it in `const` context).
pub(crate) const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => panic!("not a calendar date"),
    }
}

/// The day the demo's records run up to.
pub(crate) const AS_OF: NaiveDate = ymd(2026, 10, 31);

/// The first day of the 24 months of disputes.
pub(crate) const DISPUTES_FROM: NaiveDate = ymd(2024, 11, 1);

/// The first instant of the three weeks of position reports.
pub(crate) const REPORTS_FROM: NaiveDateTime = match ymd(2026, 10, 10).and_hms_opt(0, 0, 0) {
    Some(t) => t,
    None => panic!("not a time"),
};
