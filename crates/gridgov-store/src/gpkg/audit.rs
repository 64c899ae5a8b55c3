//! The audit log ([`crate::Audit`]) in the GeoPackage: the table `gridgov_audit`, made with
//! the accounts tables (`gpkg/accounts.rs`), whose triggers refuse `UPDATE` and `DELETE`.
//! Instants are INTEGER unix milliseconds.
//!
//! Appends go through the store's one writer connection. Another process on the same file
//! (the command line) may append too: each append reads the last record and inserts the next
//! in one transaction, and one that lost the race (the sequence number taken, or SQLite busy)
//! is tried again, so the chain never forks.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::GpkgStore;
use crate::audit::{append_retrying, corrupt_audit, next_record, record_from_row};
use crate::{Audit, AuditEvent, AuditRecord, StoreError};

/// A stored instant of record `seq`.
fn instant(seq: i64, ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| corrupt_audit(seq, format!("{ms} is not an instant in milliseconds")))
}

/// Decodes a whole `gridgov_audit` row.
fn read_record(row: &SqliteRow) -> Result<AuditRecord, StoreError> {
    let seq: i64 = row.try_get("seq")?;
    record_from_row(
        seq,
        instant(seq, row.try_get("at")?)?,
        row.try_get("actor")?,
        row.try_get("action")?,
        row.try_get("object")?,
        row.try_get("source")?,
        row.try_get("result")?,
        row.try_get("detail")?,
        row.try_get("prev_hash")?,
        row.try_get("hash")?,
    )
}

impl GpkgStore {
    /// One try at appending: the last record and the insert of the next in one transaction.
    async fn try_append(&self, event: &AuditEvent) -> Result<AuditRecord, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let last = sqlx::query("SELECT seq, at, hash FROM gridgov_audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        let last = match last {
            Some(row) => {
                let seq: i64 = row.try_get("seq")?;
                let at = instant(seq, row.try_get("at")?)
                    .map_err(|e| sqlx::Error::Decode(e.to_string().into()))?;
                let hash: Vec<u8> = row.try_get("hash")?;
                let hash: [u8; 32] = hash.as_slice().try_into().map_err(|_| {
                    sqlx::Error::Decode(format!("audit record {seq}'s hash is not 32 bytes").into())
                })?;
                Some((seq, at, hash))
            }
            None => None,
        };
        let r = next_record(last, chrono::Utc::now(), event);
        sqlx::query(
            "INSERT INTO gridgov_audit (seq, at, actor, action, object, source, result, \
             detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(r.seq)
        .bind(r.at.timestamp_millis())
        .bind(&r.event.actor)
        .bind(r.event.action.token())
        .bind(&r.event.object)
        .bind(&r.event.source)
        .bind(r.event.result.token())
        .bind(&r.event.detail)
        .bind(&r.prev_hash[..])
        .bind(&r.hash[..])
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(r)
    }
}

#[async_trait]
impl Audit for GpkgStore {
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord, StoreError> {
        append_retrying(|| self.try_append(event)).await
    }

    async fn audit_records(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, object, source, result, detail, prev_hash, hash \
             FROM gridgov_audit WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_record).collect()
    }
}
