//! Rebuilds ops-core when a migration file is added or changed: `sqlx::migrate!` embeds the SQL files at
//! compile time, and cargo cannot see a new file in the directory by itself.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
