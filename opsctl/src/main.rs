//! `opsctl`: the command-line tool for the cluster-operation store.
//!
//! Exit codes: 0 success, 1 the database failed or refused, 2 the input was wrong. Every error is one line
//! on standard error, and a failed command writes nothing.

mod cli;
mod render;

use std::process::ExitCode;

use clap::Parser;
use ops_core::{ObjectRef, ObjectType, Store, StoreError, StoreOptions};
use serde_json::json;

use cli::{Cli, Command, ObjectArgs};

/// Why a command failed, and so which exit code it gets.
#[derive(Debug, thiserror::Error)]
enum CliError {
    /// The user's input was wrong: exit 2.
    #[error("{0}")]
    Input(String),
    /// The database failed or refused: exit 1.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            match error {
                CliError::Input(_) => ExitCode::from(2),
                CliError::Store(_) => ExitCode::from(1),
            }
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Migrate => {
            let store = StoreOptions::new(&cli.database_url)
                .create_if_missing(true)
                .connect()
                .await?;
            let before = store.schema_version().await?.applied;
            store.migrate().await?;
            let after = store.schema_version().await?;
            if cli.json {
                println!(
                    "{}",
                    json!({"previous_version": before, "version": after.applied})
                );
            } else {
                println!("{}", render::migrated(before, after.latest));
            }
        }
        Command::Pending(object) => {
            let target = parse_object(&object)?;
            let store = open(&cli.database_url).await?;
            let ops = store.pending(target).await?;
            if cli.json {
                println!(
                    "{}",
                    json!({"object_type": target.object_type, "uuid": target.uuid, "pending": ops})
                );
            } else {
                print!("{}", render::pending(target, &ops));
            }
        }
        Command::Latest(object) => {
            let target = parse_object(&object)?;
            let store = open(&cli.database_url).await?;
            let latest = store.latest(target).await?;
            if cli.json {
                println!(
                    "{}",
                    json!({"object_type": target.object_type, "uuid": target.uuid, "last_cluster_operation": latest})
                );
            } else {
                println!("{}", render::latest(target, latest.as_ref()));
            }
        }
        Command::History {
            object,
            limit,
            before,
        } => {
            let target = parse_object(&object)?;
            if limit == 0 {
                return Err(CliError::Input("--limit must be at least 1".to_owned()));
            }
            let store = open(&cli.database_url).await?;
            let page = store.history(target, before, limit).await?;
            if cli.json {
                println!(
                    "{}",
                    json!({"object_type": target.object_type, "uuid": target.uuid, "ops": page.ops,
                           "next_before": page.next_before})
                );
            } else {
                print!("{}", render::history(target, &page));
            }
        }
    }
    Ok(())
}

/// Opens an existing, fully migrated store; never creates a database.
async fn open(url: &str) -> Result<Store, CliError> {
    let store = Store::connect(url).await?;
    store.require_current_schema().await?;
    Ok(store)
}

/// Checks the object arguments before anything touches the database.
fn parse_object(args: &ObjectArgs) -> Result<ObjectRef, CliError> {
    let object_type: ObjectType = args.object_type.parse().map_err(|_| {
        CliError::Input(format!(
            "unknown object type `{}`; expected one of: {}",
            args.object_type,
            ObjectType::target_names()
        ))
    })?;
    let uuid = uuid::Uuid::parse_str(&args.uuid)
        .map_err(|e| CliError::Input(format!("invalid uuid `{}`: {e}", args.uuid)))?;
    ObjectRef::target(object_type, uuid).map_err(|e| CliError::Input(e.to_string()))
}
