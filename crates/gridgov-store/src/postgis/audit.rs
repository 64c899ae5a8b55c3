//! The audit log ([`crate::Audit`]) in PostGIS: table `gridgov_audit`
//! (`migrations/0004_audit.sql`), whose triggers refuse `UPDATE`, `DELETE` and `TRUNCATE`.
//! Each append reads the last record and inserts the next in one transaction; one that lost
//! the race to another server (the sequence number taken) is tried again.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::PgStore;
use crate::audit::{append_retrying, next_record, record_from_row};
use crate::{Audit, AuditEvent, AuditRecord, StoreError};

/// Decodes a whole `gridgov_audit` row.
fn read_record(row: &PgRow) -> Result<AuditRecord, StoreError> {
    record_from_row(
        row.try_get("seq")?,
        row.try_get("at")?,
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

impl PgStore {
    /// One try at appending: the last record and the insert of the next in one transaction.
    async fn try_append(&self, event: &AuditEvent) -> Result<AuditRecord, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let last: Option<(i64, DateTime<Utc>, Vec<u8>)> =
            sqlx::query_as("SELECT seq, at, hash FROM gridgov_audit ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let last = match last {
            Some((seq, at, hash)) => {
                let hash: [u8; 32] = hash.as_slice().try_into().map_err(|_| {
                    sqlx::Error::Decode(format!("audit record {seq}'s hash is not 32 bytes").into())
                })?;
                Some((seq, at, hash))
            }
            None => None,
        };
        let r = next_record(last, Utc::now(), event);
        sqlx::query(
            "INSERT INTO gridgov_audit (seq, at, actor, action, object, source, result, \
             detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(r.seq)
        .bind(r.at)
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
impl Audit for PgStore {
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord, StoreError> {
        append_retrying(|| self.try_append(event)).await
    }

    async fn audit_records(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, object, source, result, detail, prev_hash, hash \
             FROM gridgov_audit WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(read_record).collect()
    }
}
