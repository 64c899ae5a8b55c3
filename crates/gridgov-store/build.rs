//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds `migrations/` at build
//! time and tracks the files it saw, not the folder, so a new file would otherwise be left out
//! of an incremental build (sqlx's documented remedy).

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
