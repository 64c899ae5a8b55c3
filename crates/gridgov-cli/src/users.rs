//! `gridgov user add|list|disable|enable|reset`: accounts in a store, and the first county
//! admin of a new embedded store.

use std::io::BufRead;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use gridgov_model::{Layer, Role, Scope, UserName};
use gridgov_server::auth::password;
use gridgov_store::{AuditAction, NewUser, Query, Store, UserChange};
use serde_json::json;

use crate::audit;

/// `gridgov user …`.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
    /// A GeoPackage path or postgres:// URL (default ./gridgov.gpkg).
    #[arg(long, global = true)]
    store: Option<String>,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. Without --password-stdin a random password is made and printed
    /// once.
    Add {
        /// The login name (letters, digits, '.', '_', '-').
        name: String,
        #[expect(
            clippy::doc_markdown,
            reason = "clap prints this text as the option's help, where backticks would show"
        )]
        /// county_admin, township_officer, village_officer, grid_worker, command_screen or
        /// judicial_officer.
        #[arg(long)]
        role: String,
        /// The division code (or, for a grid worker, the grid code) the role applies to.
        #[arg(long)]
        scope: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List,
    /// Disable an account and end its sessions.
    Disable {
        /// The login name.
        name: String,
    },
    /// Enable a disabled account.
    Enable {
        /// The login name.
        name: String,
    },
    /// Set a new password (random unless --password-stdin), clear the lock and end every
    /// session of the account.
    Reset {
        /// The login name.
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Runs `gridgov user …`.
pub async fn run(args: UserArgs) -> Result<()> {
    let store = crate::open_existing(args.store).await?;
    match args.command {
        UserCommand::Add {
            name,
            role,
            scope,
            password_stdin,
        } => {
            let name: UserName = name.parse()?;
            let role: Role = role.parse()?;
            let scope: Scope = scope
                .parse()
                .with_context(|| format!("--scope '{scope}'"))?;
            role.check_scope(&scope)?;
            check_scope_exists(store.as_ref(), &scope).await?;
            let (password, shown) = new_password(password_stdin)?;
            let hash = hash(password).await?;
            let user = store
                .add_user(NewUser {
                    name,
                    role,
                    scope,
                    password_hash: hash,
                })
                .await?;
            let detail = json!({"role": user.role.token(), "scope": user.scope.to_string()});
            audit::record(store.as_ref(), AuditAction::UserAdd, object(&user), detail).await?;
            eprintln!(
                "gridgov: created {} ({} {}, scope {})",
                user.name,
                user.role,
                user.role.zh(),
                user.scope
            );
            if let Some(p) = shown {
                eprintln!("gridgov: its password (shown only now):");
                println!("{p}");
            }
        }
        UserCommand::List => {
            println!("name\trole\tscope\tdisabled\tcreated");
            for u in store.users().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.name,
                    u.role,
                    u.scope,
                    u.disabled,
                    u.created_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
            }
        }
        UserCommand::Disable { name } => {
            let user = change(store.as_ref(), &name, |c| c.disabled = Some(true)).await?;
            let detail = json!({"disabled": true});
            audit::record(
                store.as_ref(),
                AuditAction::UserChange,
                object(&user),
                detail,
            )
            .await?;
            eprintln!("gridgov: disabled {}; its sessions have ended", user.name);
        }
        UserCommand::Enable { name } => {
            let user = change(store.as_ref(), &name, |c| c.disabled = Some(false)).await?;
            let detail = json!({"disabled": false});
            audit::record(
                store.as_ref(),
                AuditAction::UserChange,
                object(&user),
                detail,
            )
            .await?;
            eprintln!("gridgov: enabled {}", user.name);
        }
        UserCommand::Reset {
            name,
            password_stdin,
        } => {
            let (password, shown) = new_password(password_stdin)?;
            let hash = hash(password).await?;
            let user = change(store.as_ref(), &name, |c| c.password_hash = Some(hash)).await?;
            let detail = json!({"password": "reset"});
            audit::record(
                store.as_ref(),
                AuditAction::UserChange,
                object(&user),
                detail,
            )
            .await?;
            eprintln!(
                "gridgov: new password for {}; its lock is cleared and its sessions have ended",
                user.name
            );
            if let Some(p) = shown {
                eprintln!("gridgov: the password (shown only now):");
                println!("{p}");
            }
        }
    }
    Ok(())
}

/// The audit log's name of an account.
fn object(user: &gridgov_store::User) -> String {
    format!("user/{}", user.name)
}

async fn change(
    store: &dyn Store,
    name: &str,
    edit: impl FnOnce(&mut UserChange),
) -> Result<gridgov_store::User> {
    let name: UserName = name.parse()?;
    let mut c = UserChange::default();
    edit(&mut c);
    Ok(store.change_user(&name, c).await?)
}

/// The password to set: read from standard input, or made up (and then returned to show).
fn new_password(from_stdin: bool) -> Result<(String, Option<String>)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let p = line.trim_end_matches(['\r', '\n']).to_owned();
        password::check_new(&p)?;
        Ok((p, None))
    } else {
        let p = password::generate();
        Ok((p.clone(), Some(p)))
    }
}

async fn hash(password: String) -> Result<String> {
    Ok(tokio::task::spawn_blocking(move || password::hash(&password)).await??)
}

/// Refuses a scope naming a division or grid the store does not hold.
async fn check_scope_exists(store: &dyn Store, scope: &Scope) -> Result<()> {
    let found = match scope {
        Scope::Division(d) => store.division(*d).await?.is_some(),
        Scope::Grid(g) => {
            let q = Query {
                division: Some(g.village()),
                ..Query::default()
            };
            let code = g.to_string();
            store
                .query(Layer::Grids, &q)
                .await?
                .iter()
                .any(|f| f.text("code") == Some(code.as_str()))
        }
    };
    if !found {
        bail!("--scope {scope}: the store has no such division or grid");
    }
    Ok(())
}

/// On the first start of an embedded store without accounts: creates the county admin
/// `admin`, scoped to the store's county, with a random password, and returns the password
/// (to print once). `None` when the store has accounts already, or no single county.
pub async fn first_admin(store: &dyn Store) -> Result<Option<String>> {
    if !store.users().await?.is_empty() {
        return Ok(None);
    }
    let counties = store.query(Layer::Counties, &Query::default()).await?;
    let [county] = &counties[..] else {
        return Ok(None);
    };
    let p = password::generate();
    let hash = hash(p.clone()).await?;
    let user = store
        .add_user(NewUser {
            name: "admin".parse()?,
            role: Role::CountyAdmin,
            scope: Scope::Division(county.division),
            password_hash: hash,
        })
        .await?;
    let detail =
        json!({"role": user.role.token(), "scope": user.scope.to_string(), "first_start": true});
    audit::record(store, AuditAction::UserAdd, object(&user), detail).await?;
    Ok(Some(p))
}
