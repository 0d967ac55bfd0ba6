//! `opsctl`: the command-line tool for the cluster-operation store.
//!
//! Exit codes are in `exit.rs` (and `--help`). Every error is one line on standard error, and a failed
//! command writes nothing.

mod admin;
mod bench;
mod cli;
mod demo;
mod exit;
mod logging;
mod maintain;
mod output;
mod progress;
mod render;
mod signal;
mod simulate;
mod worker;

use std::process::ExitCode;

use ops_core::{
    Dependency, EnqueueError, ObjectRef, ObjectType, OpId, Priority, Store, StoreError,
    StoreOptions,
};
use ops_schemas::{EnqueueRequest, RequestError};
use serde_json::json;

use cli::{Cli, Command, ObjectArgs};

/// Why a command failed, and so which exit code it gets.
#[derive(Debug, thiserror::Error)]
enum CliError {
    /// The user's input was wrong: exit 2.
    #[error("{0}")]
    Input(String),
    /// The store failed: exit 1, 3 or 4 by what failed (`exit.rs`).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something else outside the user's input failed (a file could not be written): exit 1.
    #[error("{0}")]
    Failed(String),
}

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    logging::init(
        cli.verbose,
        cli.quiet,
        matches!(cli.command, Command::Bench(_)),
    );
    // The API server answers clients side by side on every core; every other command does one thing at a
    // time on one thread.
    let runtime = match cli.command {
        Command::Serve { .. } => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    }
    .enable_all()
    .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", ops_core::ErrorChain(&error));
            exit::code(&error)
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
            // A bar on a terminal, one step per migration; nothing otherwise: the summary says what ran.
            let bar = progress::bar(0, "migrations");
            let report = store
                .migrate_with_progress(|step| {
                    if let Some(bar) = &bar {
                        bar.set_length(step.total as u64);
                        bar.set_position(step.index as u64);
                        bar.set_message(format!("applying {}: {}", step.version, step.description));
                    }
                })
                .await;
            store.close().await;
            let report = report?;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            if cli.json {
                crate::output::outln!(
                    "{}",
                    json!({
                        "previous_version": report.previous,
                        "version": report.current,
                        "applied": report.applied,
                        "backfill": report.backfill,
                        "resumed": report.resumed,
                    })
                );
            } else {
                crate::output::outln!("{}", render::migrated(&report));
            }
        }
        Command::Pending(object) => {
            let target = parse_object(&object)?;
            let ops = with_store(&cli.database_url, async |store| {
                Ok(store.pending(target).await?)
            })
            .await?;
            if cli.json {
                crate::output::outln!(
                    "{}",
                    json!({"object_type": target.object_type, "uuid": target.uuid, "pending": ops})
                );
            } else {
                crate::output::out!("{}", render::pending(target, &ops));
            }
        }
        Command::Latest(object) => {
            let target = parse_object(&object)?;
            let latest = with_store(&cli.database_url, async |store| {
                Ok(store.latest(target).await?)
            })
            .await?;
            if cli.json {
                crate::output::outln!(
                    "{}",
                    json!({"object_type": target.object_type, "uuid": target.uuid, "last_cluster_operation": latest})
                );
            } else {
                crate::output::outln!("{}", render::latest(target, latest.as_ref()));
            }
        }
        Command::View(object) => {
            let object = parse_viewable(&object)?;
            let view = with_store(&cli.database_url, async |store| {
                Ok(store.external_view(object).await?)
            })
            .await?
            .ok_or(StoreError::ObjectNotFound(object))?;
            let view = serde_json::to_value(view)
                .map_err(|e| CliError::Failed(format!("cannot write the view as JSON: {e}")))?;
            if cli.json {
                crate::output::outln!("{view}");
            } else {
                crate::output::out!("{}", render::view(object, &view));
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
            let page = with_store(&cli.database_url, async |store| {
                Ok(store.history(target, before, limit).await?)
            })
            .await?;
            if cli.json {
                crate::output::outln!(
                    "{}",
                    json!({"object_type": target.object_type, "uuid": target.uuid, "ops": page.ops,
                           "next_before": page.next_before})
                );
            } else {
                crate::output::out!("{}", render::history(target, &page));
            }
        }
        Command::Enqueue {
            op_type,
            input,
            priority,
            tasks,
            depends_on,
            runs_after,
            request_id,
        } => {
            let kind = ops_schemas::lookup(&op_type).map_err(|e| CliError::Input(e.to_string()))?;
            let body = read_json(&input)?;
            let op = kind
                .parse(body)
                .map_err(|e| CliError::Input(e.to_string()))?;
            let priority: Priority = priority
                .parse()
                .map_err(|e: ops_core::UnknownPriority| CliError::Input(e.to_string()))?;
            let request = EnqueueRequest {
                priority,
                tasks,
                depends_on: depends_on
                    .iter()
                    .map(|d| parse_dependency("--depends-on", d))
                    .collect::<Result<_, _>>()?,
                runs_after: runs_after
                    .iter()
                    .map(|d| parse_dependency("--runs-after", d))
                    .collect::<Result<_, _>>()?,
                request_id,
            };
            let queue = op.queue_name(priority);
            let targets: Vec<ObjectRef> = op.targets().iter().copied().collect();
            let op_uuid = with_store(&cli.database_url, async |store| {
                op.enqueue(store, request)
                    .await
                    .map_err(|error| match error {
                        RequestError::UnknownTask { .. } => CliError::Input(error.to_string()),
                        RequestError::Enqueue(
                            EnqueueError::Database(source) | EnqueueError::Contended { source, .. },
                        ) => CliError::Failed(format!("enqueue failed: {source}")),
                        RequestError::Enqueue(other) => {
                            CliError::Input(ops_core::ErrorChain(&other).to_string())
                        }
                    })
            })
            .await?;
            if cli.json {
                crate::output::outln!(
                    "{}",
                    json!({"op_uuid": op_uuid, "op_type": kind.name, "queue": queue, "targets": targets})
                );
            } else {
                crate::output::outln!("{op_uuid}");
            }
        }
        Command::Show { op_uuid } => {
            let op: OpId = op_uuid
                .parse()
                .map_err(|e| CliError::Input(format!("invalid uuid `{op_uuid}`: {e}")))?;
            let record = with_store(&cli.database_url, async |store| {
                Ok(store.op_record(op).await?)
            })
            .await?
            .ok_or(CliError::Store(StoreError::OpNotFound(op)))?;
            if cli.json {
                crate::output::outln!("{}", serde_json::to_string(&record).unwrap_or_default());
            } else {
                crate::output::out!("{}", render::op_record(&record));
            }
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            command.set_bin_name("opsctl");
            command.build();
            let mut script = Vec::new();
            clap_complete::Generator::try_generate(&shell, &command, &mut script).map_err(|e| {
                CliError::Failed(format!("cannot write the {shell} completions: {e}"))
            })?;
            match std::io::Write::write_all(&mut std::io::stdout(), &script) {
                // The reader stopped early (`| head`): not an error of ours.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(e) => {
                    return Err(CliError::Failed(format!(
                        "cannot write to standard output: {e}"
                    )));
                }
                Ok(()) => {}
            }
        }
        Command::Demo { file } => demo::run(&file).await?,
        Command::Simulate {
            seeds,
            first_seed,
            backend,
            networks,
            steps,
        } => {
            let mut options = ops_sim::SimOptions::default();
            options.networks = networks;
            options.steps = steps;
            simulate::run(backend.as_deref(), first_seed, seeds, options, cli.json).await?;
        }
        Command::Maintain(args) => {
            with_store(&cli.database_url, async |store| {
                maintain::run(store.clone(), &args, cli.json).await
            })
            .await?;
        }
        Command::Worker(args) => {
            with_store(&cli.database_url, async |store| {
                let worker = worker::build(store.clone(), &args)?;
                worker::run(worker, &args, cli.json).await
            })
            .await?;
        }
        Command::Prune {
            retention,
            dry_run,
            batch_size,
            hard_delete_finished_after,
        } => {
            let (report, hard_deleted) = with_store(&cli.database_url, async |store| {
                let policy = ops_core::PrunePolicy::new(retention)
                    .batch_size(batch_size as usize)
                    .dry_run(dry_run);
                // A bar on a terminal (rows examined of rows there were), nothing otherwise: the summary line
                // below says what happened.
                let bar = progress::bar(0, "rows examined");
                let report = store
                    .prune_with_progress(&policy, |so_far| {
                        if let Some(bar) = &bar {
                            bar.set_length(so_far.to_examine);
                            bar.set_position(so_far.examined);
                            bar.set_message(render::pruned(so_far));
                        }
                    })
                    .await?;
                if let Some(bar) = bar {
                    bar.finish_and_clear();
                }
                let hard_deleted = match hard_delete_finished_after {
                    Some(grace) => Some(store.hard_delete_finished_ops(grace, usize::MAX).await?),
                    None => None,
                };
                Ok((report, hard_deleted))
            })
            .await?;
            if cli.json {
                let mut value = serde_json::to_value(report).unwrap_or_default();
                if let Some(count) = hard_deleted {
                    value["hard_deleted_ops"] = json!(count);
                }
                crate::output::outln!("{value}");
            } else {
                crate::output::outln!("{}", render::pruned(&report));
                if let Some(count) = hard_deleted {
                    crate::output::outln!("hard-deleted {count} finished operations");
                }
            }
        }
        Command::Bench(args) => bench::run(&args, cli.json).await?,
        Command::Serve {
            listen,
            secret_file,
            token_lifetime,
        } => {
            // The database first: one that cannot be served leaves no secret file behind.
            let store = StoreOptions::new(&cli.database_url)
                .require_current_schema(true)
                .connect()
                .await?;
            let secret = match std::env::var_os("OPS_SERVER_SECRET") {
                Some(secret) => ops_server::tokens::TokenSecret::new(secret.into_encoded_bytes())
                    .map_err(|e| CliError::Input(format!("OPS_SERVER_SECRET: {e}"))),
                None => ops_server::tokens::TokenSecret::load_or_create(&secret_file)
                    .map_err(|e| CliError::Failed(ops_core::ErrorChain(&e).to_string())),
            };
            let secret = match secret {
                Ok(secret) => secret,
                Err(error) => {
                    store.close().await;
                    return Err(error);
                }
            };
            let tokens = ops_server::tokens::TokenIssuer::new(secret, "ops-server", token_lifetime);
            let served = serve(&store, tokens, listen).await;
            store.close().await;
            served?;
        }
        Command::Namespace { command } => {
            with_store(&cli.database_url, async |store| {
                admin::namespace(store, command, cli.json).await
            })
            .await?
        }
        Command::Key { command } => {
            with_store(&cli.database_url, async |store| {
                admin::key(store, command, cli.json).await
            })
            .await?
        }
        Command::Object { command } => {
            with_store(&cli.database_url, async |store| {
                admin::object(store, command, cli.json).await
            })
            .await?
        }
        Command::Schema { out } => {
            let written = ops_schemas::schema::write_all(&out).map_err(|e| {
                CliError::Failed(format!("cannot write schemas to `{}`: {e}", out.display()))
            })?;
            if cli.json {
                crate::output::outln!("{}", json!({"out": out, "files": written}));
            } else {
                crate::output::outln!("wrote {} schema files to {}", written.len(), out.display());
            }
        }
    }
    Ok(())
}

/// Opens an existing, fully migrated store (never creating a database), runs `command` on it, and closes
/// it whatever the outcome. Closing checkpoints a SQLite file's write-ahead log into the file and removes
/// the `-wal` and `-shm` files, so the file alone is the whole database: copied, nothing is missing.
async fn with_store<T>(
    url: &str,
    command: impl AsyncFnOnce(&Store) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let store = StoreOptions::new(url)
        .require_current_schema(true)
        .connect()
        .await?;
    let outcome = command(&store).await;
    store.close().await;
    outcome
}

/// `opsctl serve`: binds, says where on standard output (also with `--json`: a line a script waits for),
/// and serves until a signal.
async fn serve(
    store: &Store,
    tokens: ops_server::tokens::TokenIssuer,
    listen: std::net::SocketAddr,
) -> Result<(), CliError> {
    let failed =
        |e: ops_server::ServerError| CliError::Failed(ops_core::ErrorChain(&e).to_string());
    let server = ops_server::Server::bind(
        store.clone(),
        tokens,
        listen,
        ops_server::ServerOptions::default(),
    )
    .await
    .map_err(failed)?;
    let addr = server.local_addr().map_err(failed)?;
    crate::output::outln!("listening on http://{addr}");
    server
        .run_until(signal::wait_for_signal())
        .await
        .map_err(failed)
}

/// Reads the JSON input of `enqueue` from a file or standard input; a malformed document names where.
fn read_json(input: &str) -> Result<serde_json::Value, CliError> {
    let (name, text) = if input == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| CliError::Input(format!("cannot read standard input: {e}")))?;
        ("standard input".to_owned(), text)
    } else {
        let text = std::fs::read_to_string(input)
            .map_err(|e| CliError::Input(format!("cannot read `{input}`: {e}")))?;
        (format!("`{input}`"), text)
    };
    serde_json::from_str(&text)
        .map_err(|e| CliError::Input(format!("malformed JSON in {name}: {e}")))
}

/// `OP_TYPE:UUID`, with a known op type.
fn parse_dependency(flag: &str, value: &str) -> Result<Dependency, CliError> {
    let bad = |why: String| CliError::Input(format!("{flag} `{value}`: {why}"));
    let (op_type, uuid) = value
        .split_once(':')
        .ok_or_else(|| bad("expected OP_TYPE:UUID".to_owned()))?;
    let kind = ops_schemas::lookup(op_type).map_err(|e| bad(e.to_string()))?;
    let op_uuid = uuid
        .parse()
        .map_err(|e| bad(format!("invalid uuid: {e}")))?;
    Ok(Dependency {
        op_type: kind.name.to_owned(),
        op_uuid,
    })
}

/// Checks the object arguments before anything touches the database.
/// The object types `opsctl view` shows.
const VIEWABLE: [ObjectType; 6] = [
    ObjectType::Instance,
    ObjectType::Network,
    ObjectType::Artifact,
    ObjectType::Blob,
    ObjectType::Interface,
    ObjectType::Node,
];

fn parse_viewable(args: &ObjectArgs) -> Result<ObjectRef, CliError> {
    let names = || {
        VIEWABLE
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let object_type = args
        .object_type
        .parse::<ObjectType>()
        .ok()
        .filter(|t| VIEWABLE.contains(t))
        .ok_or_else(|| {
            CliError::Input(format!(
                "`{}` has no view; expected one of: {}",
                args.object_type,
                names()
            ))
        })?;
    let uuid = uuid::Uuid::parse_str(&args.uuid)
        .map_err(|e| CliError::Input(format!("invalid uuid `{}`: {e}", args.uuid)))?;
    Ok(ObjectRef { object_type, uuid })
}

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
