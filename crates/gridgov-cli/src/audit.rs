//! `gridgov audit verify|list`: the store's hash-chained audit log.

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use gridgov_store::audit::{hex, verify};
use gridgov_store::{AuditAction, AuditEvent, AuditResult, Store};

/// `gridgov audit …`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
    /// A GeoPackage path or postgres:// URL (default ./gridgov.gpkg).
    #[arg(long, global = true)]
    store: Option<String>,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Check the whole chain: every record present, unchanged and in order. Prints the head
    /// (last sequence number and hash) to keep elsewhere; exits 1 when the chain is broken.
    Verify,
    /// Print records as tab-separated lines, oldest first.
    List {
        /// Only records after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many records.
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
}

/// Runs `gridgov audit …`.
pub async fn run(args: AuditArgs) -> Result<()> {
    let store = crate::open_existing(args.store).await?;
    match args.command {
        AuditCommand::Verify => {
            let check = verify(store.as_ref()).await?;
            let head = check.head.map_or_else(
                || "none (the log is empty)".to_owned(),
                |(seq, hash)| format!("record {seq}, hash {}", hex(&hash)),
            );
            if let Some((seq, reason)) = check.broken {
                bail!(
                    "the audit log is broken at record {seq}: {reason}; the {} records before it are sound (last sound: {head})",
                    check.records
                );
            }
            println!("records\t{}\nhead\t{head}", check.records);
            eprintln!("gridgov: the audit log is sound");
        }
        AuditCommand::List { after, limit } => {
            println!("seq\tat\tactor\taction\tobject\tsource\tresult\tdetail");
            for r in store.audit_records(after, limit).await? {
                let e = &r.event;
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.seq,
                    r.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    e.actor,
                    e.action.token(),
                    e.object,
                    e.source,
                    e.result.token(),
                    e.detail
                );
            }
        }
    }
    Ok(())
}

/// Records what the command line did: accounts changed, files imported, layers exported. The actor is `cli:` and the operating
/// system's user name (`$USER`), the source `local`.
pub async fn record(
    store: &dyn Store,
    action: AuditAction,
    object: String,
    detail: serde_json::Value,
) -> Result<()> {
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    store
        .append_audit(&AuditEvent {
            actor: format!("cli:{who}"),
            action,
            object,
            source: "local".into(),
            result: AuditResult::Ok,
            detail: detail.to_string(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("the change is made but could not be audited: {e}"))?;
    Ok(())
}
