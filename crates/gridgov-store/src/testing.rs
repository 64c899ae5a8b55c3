//! Throwaway databases for tests: a real PostGIS, never a mock.
//!
//! Tests read the server URL from `GRIDGOV_TEST_DATABASE_URL` (set by `scripts/test.sh`, which
//! starts PostGIS). When it is missing the test fails with that message: it never skips.

use sqlx::{Connection, Executor, PgConnection};

use crate::StoreError;

/// The variable that names the test PostGIS server.
pub const ENV: &str = "GRIDGOV_TEST_DATABASE_URL";

/// A fresh, migrated database on the test server, dropped when [`TempDatabase::drop_now`] runs.
#[derive(Debug)]
pub struct TempDatabase {
    admin_url: String,
    name: String,
    /// The database's URL (as the test server's administrator: a superuser, whom row-level
    /// security does not hold).
    pub url: String,
}

/// The login role tests serve as: a member of `gridgov_app` that owns nothing, as the
/// migration's notes ask of a server's role.
pub const APP_ROLE: &str = "gridgov_test_server";

/// The test server's URL, or a panic that says how to get one.
pub fn server_url() -> String {
    match std::env::var(ENV) {
        Ok(u) if !u.is_empty() => u,
        _ => panic!(
            "{ENV} is not set: these tests need a real PostGIS. Run `bash scripts/test.sh`, \
             which installs and starts one, or point {ENV} at a PostGIS database"
        ),
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let cut = base
        .rfind('/')
        .filter(|&i| i > "postgres://".len())
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..cut]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

impl TempDatabase {
    /// Creates a database named after `label` plus a unique suffix, with PostGIS and the gridgov
    /// schema.
    pub async fn create(label: &str) -> Result<Self, StoreError> {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let admin_url = server_url();
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let clean: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(30)
            .collect();
        let name = format!("gg_{clean}_{}_{n}", std::process::id());
        let mut admin = PgConnection::connect(&admin_url).await?;
        admin
            .execute(format!("DROP DATABASE IF EXISTS \"{name}\"").as_str())
            .await?;
        admin
            .execute(format!("CREATE DATABASE \"{name}\"").as_str())
            .await?;
        admin.close().await?;
        let url = with_database(&admin_url, &name);
        crate::postgis::migrate(&url).await?;
        let mut admin = PgConnection::connect(&url).await?;
        // Cluster-wide, so made once per server; tests racing to make it are fine.
        admin
            .execute(
                format!(
                    "DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN IN ROLE gridgov_app; \
                     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                )
                .as_str(),
            )
            .await?;
        admin.close().await?;
        Ok(Self {
            admin_url,
            name,
            url,
        })
    }

    /// The database's URL as [`APP_ROLE`], the role a server connects as
    /// ([`crate::postgis::PgStore::connect_server`] accepts it).
    pub fn app_url(&self) -> String {
        with_user(&self.url, APP_ROLE)
    }

    /// Drops the database.
    pub async fn drop_now(self) -> Result<(), StoreError> {
        let mut admin = PgConnection::connect(&self.admin_url).await?;
        admin
            .execute(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name).as_str())
            .await?;
        admin.close().await?;
        Ok(())
    }
}

/// `url` with its user swapped for `user` (and no password: the test server trusts
/// loopback).
fn with_user(url: &str, user: &str) -> String {
    let Some(rest) = url.strip_prefix("postgres://") else {
        return url.to_owned();
    };
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    format!("postgres://{user}@{host}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn users_are_swapped_into_urls() {
        assert_eq!(
            super::with_user("postgres://postgres:pw@127.0.0.1:5/db", "app"),
            "postgres://app@127.0.0.1:5/db"
        );
        assert_eq!(
            super::with_user("postgres://127.0.0.1:5/db", "app"),
            "postgres://app@127.0.0.1:5/db"
        );
    }

    #[test]
    fn database_names_are_swapped_into_urls() {
        assert_eq!(
            super::with_database("postgres://u@h:5/db?sslmode=disable", "x"),
            "postgres://u@h:5/x?sslmode=disable"
        );
        assert_eq!(
            super::with_database("postgres://u@h:5", "x"),
            "postgres://u@h:5/x"
        );
    }
}
