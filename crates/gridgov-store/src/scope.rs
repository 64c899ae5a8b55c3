//! The region a piece of work may touch, as the database enforces it.
//!
//! The server decides what each user sees (`gridgov-server`'s `access`); on PostGIS the
//! database checks it again with row-level security (`migrations/0005_row_security.sql`), so
//! a forgotten filter shows nothing rather than another township's people. The region travels
//! with the work as a task-local [`RowScope`]: the server's authentication runs each request
//! inside [`within`], and every transaction the PostGIS store opens starts with
//! `SET LOCAL gridgov.scope` to it. Work outside any [`within`] gets the store's default:
//! everything for the CLI and tools ([`crate::postgis::PgStore::connect`]), nothing for a
//! server ([`crate::postgis::PgStore::connect_server`]), whose own start-up and change
//! following ask for [`RowScope::All`] explicitly.
//!
//! The GeoPackage store has no second line: it is a single-user file, and the server's
//! filters are its only ones.

use std::future::Future;

use gridgov_model::Scope;

/// The rows a transaction may see and write, by owning division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowScope {
    /// Every row: start-up loads, change following, the command line.
    All,
    /// Rows whose `division_code` starts with this prefix (a county's 6 digits, a township's
    /// 9, a village's 12: `DivisionCode::prefix`). Only digits.
    Prefix(String),
    /// No row.
    Nothing,
}

impl RowScope {
    /// The rows of a user's scope: its division, or a grid's village (the server narrows a
    /// grid further by its polygon).
    pub fn of(scope: &Scope) -> Self {
        RowScope::Prefix(scope.division().prefix().to_owned())
    }

    /// The value of the `gridgov.scope` setting: `*`, the prefix, or empty for nothing.
    /// A prefix that is not 1 to 12 ASCII digits gives nothing (it never comes from input,
    /// and it is written into SQL text).
    pub fn setting(&self) -> &str {
        match self {
            RowScope::All => "*",
            RowScope::Prefix(p)
                if (1..=12).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) =>
            {
                p
            }
            RowScope::Prefix(_) | RowScope::Nothing => "",
        }
    }
}

tokio::task_local! {
    static CURRENT: RowScope;
}

/// Runs `work` with `scope` as the rows it may touch.
pub async fn within<F: Future>(scope: RowScope, work: F) -> F::Output {
    CURRENT.scope(scope, work).await
}

/// The scope set by the innermost [`within`] around the running task, if any.
pub fn current() -> Option<RowScope> {
    CURRENT.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_digit_prefixes_reach_the_setting() {
        assert_eq!(RowScope::All.setting(), "*");
        assert_eq!(RowScope::Nothing.setting(), "");
        assert_eq!(RowScope::Prefix("520526101".into()).setting(), "520526101");
        assert_eq!(RowScope::Prefix("52' OR '1'='1".into()).setting(), "");
        assert_eq!(RowScope::Prefix(String::new()).setting(), "");
        assert_eq!(RowScope::Prefix("5205261010011".into()).setting(), "");
    }

    #[test]
    fn a_user_scope_becomes_its_division_prefix() {
        let township: Scope = "520526101000".parse().unwrap();
        assert_eq!(RowScope::of(&township).setting(), "520526101");
        let grid: Scope = "520526101201-G02".parse().unwrap();
        assert_eq!(RowScope::of(&grid).setting(), "520526101201");
    }

    #[tokio::test]
    async fn the_innermost_scope_wins_and_ends_with_its_work() {
        assert_eq!(current(), None);
        within(RowScope::All, async {
            assert_eq!(current(), Some(RowScope::All));
            within(RowScope::Nothing, async {
                assert_eq!(current(), Some(RowScope::Nothing));
            })
            .await;
            assert_eq!(current(), Some(RowScope::All));
        })
        .await;
        assert_eq!(current(), None);
    }
}
