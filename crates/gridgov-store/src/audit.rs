//! The audit log: who did what to which object, when, from where, with what result, kept in
//! the store (table `gridgov_audit`) as an append-only, hash-chained list.
//!
//! Every record carries the SHA-256 of the record before it (`prev_hash`, 32 zero bytes for
//! the first) and its own hash over that and all its fields ([`chain_hash`]); sequence
//! numbers run 1, 2, 3… without gaps. Changing, removing or reordering any record breaks the
//! chain from there on, which [`verify`] finds. Cutting records off the end is only visible
//! against a head recorded elsewhere: [`AuditCheck`] reports the head hash and count for that.
//!
//! Both stores refuse `UPDATE` and `DELETE` of audit rows by trigger, and on PostGIS the
//! application role is granted `INSERT` and `SELECT` only. Appends are serialised (one writer
//! at a time takes the last record, chains to it and inserts), so concurrent servers and the
//! command line never fork the chain.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::StoreError;

/// What was done. The tokens are stored; new actions may be added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditAction {
    /// A login attempt (its result says whether it succeeded and why not).
    Login,
    /// A session ended by its user.
    Logout,
    /// A read of personal data (persons, households, tenancies, supervision…).
    Read,
    /// A masked value shown in clear, with the reason given.
    Reveal,
    /// Features written out in bulk (a download, an export).
    Export,
    /// A feature created.
    Create,
    /// A feature replaced or patched.
    Update,
    /// A feature deleted.
    Delete,
    /// An account created.
    UserAdd,
    /// An account's role, scope, password or state changed.
    UserChange,
}

impl AuditAction {
    /// Every action, in declaration order.
    pub const ALL: [AuditAction; 10] = [
        AuditAction::Login,
        AuditAction::Logout,
        AuditAction::Read,
        AuditAction::Reveal,
        AuditAction::Export,
        AuditAction::Create,
        AuditAction::Update,
        AuditAction::Delete,
        AuditAction::UserAdd,
        AuditAction::UserChange,
    ];

    /// The stored token (`login`, `read`, `user_add`…).
    pub fn token(self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::Logout => "logout",
            AuditAction::Read => "read",
            AuditAction::Reveal => "reveal",
            AuditAction::Export => "export",
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Delete => "delete",
            AuditAction::UserAdd => "user_add",
            AuditAction::UserChange => "user_change",
        }
    }

    /// The action of a stored token.
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.token() == token)
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditResult {
    /// Done.
    Ok,
    /// Refused: no permission, wrong password, locked account, outside the scope.
    Denied,
    /// Attempted and failed (invalid input, a stale tag, a store error).
    Failed,
}

impl AuditResult {
    /// The stored token (`ok`, `denied`, `failed`).
    pub fn token(self) -> &'static str {
        match self {
            AuditResult::Ok => "ok",
            AuditResult::Denied => "denied",
            AuditResult::Failed => "failed",
        }
    }

    /// The result of a stored token.
    pub fn from_token(token: &str) -> Option<Self> {
        [AuditResult::Ok, AuditResult::Denied, AuditResult::Failed]
            .into_iter()
            .find(|r| r.token() == token)
    }
}

/// One thing to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Who: the account name (for a failed login, the name tried), or `cli` for the command
    /// line.
    pub actor: String,
    /// What.
    pub action: AuditAction,
    /// Which object: `persons/42`, `persons` (a listing), `user/alice`.
    pub object: String,
    /// From where: the client's address, or `local` for the command line.
    pub source: String,
    /// How it ended.
    pub result: AuditResult,
    /// Particulars as JSON text (ids read, the reason of a reveal, why a login failed).
    /// Kept byte for byte: the hash covers the text as given.
    pub detail: String,
}

/// A stored record: the event, its place in the chain and when it was appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// 1, 2, 3… in order of appending.
    pub seq: i64,
    /// When it was appended (whole milliseconds).
    pub at: DateTime<Utc>,
    /// What was recorded.
    pub event: AuditEvent,
    /// The hash of the record before (zeros for the first).
    pub prev_hash: [u8; 32],
    /// This record's hash ([`chain_hash`]).
    pub hash: [u8; 32],
}

/// The hash of a record: SHA-256 over the previous hash, the sequence number, the instant in
/// unix milliseconds (both big-endian), then each text field (actor, action, object, source,
/// result, detail) as its byte length (8 bytes, big-endian) followed by its UTF-8 bytes. The
/// lengths make the encoding unambiguous: no two different records hash the same input.
pub fn chain_hash(prev: &[u8; 32], seq: i64, at: DateTime<Utc>, event: &AuditEvent) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(at.timestamp_millis().to_be_bytes());
    for text in [
        event.actor.as_str(),
        event.action.token(),
        event.object.as_str(),
        event.source.as_str(),
        event.result.token(),
        event.detail.as_str(),
    ] {
        h.update((text.len() as u64).to_be_bytes());
        h.update(text.as_bytes());
    }
    h.finalize().into()
}

/// The record that follows `last` (or starts the chain): its sequence number, instant and
/// hashes. The instant is `now` as the stores keep it, and never before the last record's,
/// so the log reads in time order even if the clock steps back.
pub(crate) fn next_record(
    last: Option<(i64, DateTime<Utc>, [u8; 32])>,
    now: DateTime<Utc>,
    event: &AuditEvent,
) -> AuditRecord {
    let now = crate::accounts::stored_instant(now);
    let (seq, at, prev_hash) = match last {
        Some((seq, at, hash)) => (seq + 1, now.max(at), hash),
        None => (1, now, [0; 32]),
    };
    AuditRecord {
        seq,
        at,
        hash: chain_hash(&prev_hash, seq, at, event),
        event: event.clone(),
        prev_hash,
    }
}

/// A stored audit row that cannot be read back (edited outside gridgov).
pub(crate) fn corrupt_audit(seq: i64, reason: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptAudit {
        seq,
        reason: reason.to_string(),
    }
}

/// The record of a stored row's columns; [`StoreError::CorruptAudit`] when a token or hash
/// is not one gridgov writes.
#[expect(clippy::too_many_arguments, reason = "one argument per stored column")]
pub(crate) fn record_from_row(
    seq: i64,
    at: DateTime<Utc>,
    actor: String,
    action: &str,
    object: String,
    source: String,
    result: &str,
    detail: String,
    prev_hash: &[u8],
    hash: &[u8],
) -> Result<AuditRecord, StoreError> {
    let bytes = |name: &str, b: &[u8]| -> Result<[u8; 32], StoreError> {
        b.try_into()
            .map_err(|_| corrupt_audit(seq, format!("{name} has {} bytes, not 32", b.len())))
    };
    Ok(AuditRecord {
        seq,
        at,
        event: AuditEvent {
            actor,
            action: AuditAction::from_token(action)
                .ok_or_else(|| corrupt_audit(seq, format!("unknown action '{action}'")))?,
            object,
            source,
            result: AuditResult::from_token(result)
                .ok_or_else(|| corrupt_audit(seq, format!("unknown result '{result}'")))?,
            detail,
        },
        prev_hash: bytes("prev_hash", prev_hash)?,
        hash: bytes("hash", hash)?,
    })
}

/// How often an append that lost a race to another writer (the same sequence number taken,
/// or the database busy) is tried again before giving up.
const APPEND_TRIES: u32 = 50;

/// Whether an append failed only because another writer appended first: a unique violation
/// of the sequence number, or SQLite's busy codes (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`).
fn lost_race(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || matches!(db.code().as_deref(), Some("5" | "517"))
        }
        _ => false,
    }
}

/// A short pause before try `n` (1, 2, …) of a contended append: a few milliseconds,
/// growing, with the try number's own jitter so racing writers part.
async fn back_off(n: u32) {
    let ms = u64::from(n.min(10)) * 2 + u64::from(n.wrapping_mul(7919) % 5);
    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
}

/// Runs one try at an append until it succeeds, fails for another reason than a lost race,
/// or [`APPEND_TRIES`] tries have lost.
pub(crate) async fn append_retrying<F, Fut>(mut try_append: F) -> Result<AuditRecord, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<AuditRecord, sqlx::Error>>,
{
    let mut n = 0;
    loop {
        n += 1;
        match try_append().await {
            Ok(r) => return Ok(r),
            Err(e) if n < APPEND_TRIES && lost_race(&e) => back_off(n).await,
            Err(e) => return Err(e.into()),
        }
    }
}

/// The audit log of a store; every [`crate::Store`] keeps one.
#[async_trait]
pub trait Audit: Send + Sync {
    /// Appends one record at the end of the chain, in its own transaction, and returns it.
    /// When this fails nothing is recorded, and a caller that may only act audited must not
    /// act.
    async fn append_audit(&self, event: &AuditEvent) -> Result<AuditRecord, StoreError>;

    /// Up to `limit` records with sequence numbers above `after`, in order.
    async fn audit_records(&self, after: i64, limit: u32) -> Result<Vec<AuditRecord>, StoreError>;
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCheck {
    /// How many records were read (up to the first break, if any).
    pub records: u64,
    /// The last good record's sequence number and hash: write it down elsewhere to detect
    /// records later cut off the end.
    pub head: Option<(i64, [u8; 32])>,
    /// The first record that breaks the chain, and how.
    pub broken: Option<(i64, String)>,
}

/// Reads the whole log in order and checks the chain: sequence numbers without gaps from 1,
/// each record chained to the one before, each hash recomputed from the fields.
///
/// # Errors
/// A store error or a row that cannot be read back ([`StoreError::CorruptAudit`]).
pub async fn verify(log: &dyn Audit) -> Result<AuditCheck, StoreError> {
    const PAGE: u32 = 10_000;
    let mut check = AuditCheck {
        records: 0,
        head: None,
        broken: None,
    };
    let mut after = 0;
    loop {
        let page = match log.audit_records(after, PAGE).await {
            Ok(page) => page,
            Err(StoreError::CorruptAudit { seq, reason }) => {
                check.broken = Some((seq, reason));
                return Ok(check);
            }
            Err(e) => return Err(e),
        };
        for r in &page {
            if let Some(reason) = breaks(check.head, r) {
                check.broken = Some((r.seq, reason));
                return Ok(check);
            }
            check.records += 1;
            check.head = Some((r.seq, r.hash));
        }
        match page.last() {
            Some(r) if page.len() == PAGE as usize => after = r.seq,
            _ => return Ok(check),
        }
    }
}

/// Why `r` does not follow `head` in a sound chain, if it does not.
fn breaks(head: Option<(i64, [u8; 32])>, r: &AuditRecord) -> Option<String> {
    let (expected_seq, expected_prev) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, [0; 32]),
    };
    if r.seq != expected_seq {
        return Some(format!(
            "record {expected_seq} is missing (the next is {})",
            r.seq
        ));
    }
    if r.prev_hash != expected_prev {
        return Some("its previous hash is not the hash of the record before".into());
    }
    if chain_hash(&r.prev_hash, r.seq, r.at, &r.event) != r.hash {
        return Some("its fields do not hash to its stored hash (the record was changed)".into());
    }
    None
}

/// Lower-case hex of a hash.
pub fn hex(hash: &[u8; 32]) -> String {
    use std::fmt::Write as _;
    hash.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(detail: &str) -> AuditEvent {
        AuditEvent {
            actor: "alice".into(),
            action: AuditAction::Read,
            object: "persons/7".into(),
            source: "127.0.0.1".into(),
            result: AuditResult::Ok,
            detail: detail.into(),
        }
    }

    #[test]
    fn tokens_round_trip() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::from_token(a.token()), Some(a));
        }
        for r in [AuditResult::Ok, AuditResult::Denied, AuditResult::Failed] {
            assert_eq!(AuditResult::from_token(r.token()), Some(r));
        }
        assert_eq!(AuditAction::from_token("drop"), None);
    }

    #[test]
    fn the_hash_covers_every_field_unambiguously() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap_or_default();
        let base = chain_hash(&[0; 32], 1, at, &event("{}"));
        let mut moved = event("{}");
        // The same bytes split differently between two fields hash differently.
        moved.actor = "alic".into();
        moved.object = "epersons/7".into();
        assert_ne!(chain_hash(&[0; 32], 1, at, &moved), base);
        assert_ne!(chain_hash(&[1; 32], 1, at, &event("{}")), base);
        assert_ne!(chain_hash(&[0; 32], 2, at, &event("{}")), base);
        assert_ne!(
            chain_hash(
                &[0; 32],
                1,
                at + chrono::Duration::milliseconds(1),
                &event("{}")
            ),
            base
        );
        assert_ne!(chain_hash(&[0; 32], 1, at, &event("{ }")), base);
    }

    #[test]
    fn records_chain_and_never_go_back_in_time() {
        let t = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap_or_default();
        let first = next_record(None, t, &event("{}"));
        assert_eq!((first.seq, first.prev_hash), (1, [0; 32]));
        let earlier = t - chrono::Duration::seconds(5);
        let second = next_record(
            Some((first.seq, first.at, first.hash)),
            earlier,
            &event("{}"),
        );
        assert_eq!(second.seq, 2);
        assert_eq!(second.prev_hash, first.hash);
        assert_eq!(second.at, first.at);
        assert_eq!(breaks(Some((1, first.hash)), &second), None);
        let mut changed = second.clone();
        changed.event.result = AuditResult::Denied;
        assert!(breaks(Some((1, first.hash)), &changed).is_some());
        assert!(breaks(None, &second).is_some());
    }
}
