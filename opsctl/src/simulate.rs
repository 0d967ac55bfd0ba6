//! `opsctl simulate`: the seeded race simulator, with a progress bar on a terminal and the side-by-side
//! counts at the end.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ops_core::{Store, StoreOptions};
use ops_sim::{SimOptions, SimReport};
use serde_json::json;

use crate::CliError;

/// Where the simulation runs: a database the user named, or a temporary SQLite file removed afterwards.
struct Scratch {
    url: String,
    file: Option<PathBuf>,
}

impl Scratch {
    fn new(backend: Option<&str>) -> Scratch {
        match backend {
            Some(url) => Scratch {
                url: url.to_owned(),
                file: None,
            },
            None => {
                let file = std::env::temp_dir().join(format!(
                    "opsctl-simulate-{}.db",
                    uuid::Uuid::new_v4().simple()
                ));
                Scratch {
                    url: format!("sqlite://{}", file.display()),
                    file: Some(file),
                }
            }
        }
    }

    /// The temporary file is created and migrated; a named database must be migrated already.
    async fn store(&self) -> Result<Store, CliError> {
        let options = StoreOptions::new(&self.url);
        let store = match &self.file {
            Some(_) => options.create_if_missing(true),
            None => options.require_current_schema(true),
        }
        .connect()
        .await?;
        if self.file.is_some() {
            store.migrate().await?;
        }
        Ok(store)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
    }
}

/// Runs the seeds and prints the counts: a table, or one JSON object.
pub(crate) async fn run(
    backend: Option<&str>,
    first_seed: u64,
    seeds: u64,
    options: SimOptions,
    json_output: bool,
) -> Result<(), CliError> {
    if seeds == 0 {
        return Err(CliError::Input("--seeds must be at least 1".to_owned()));
    }
    if options.networks == 0 {
        return Err(CliError::Input("--networks must be at least 1".to_owned()));
    }
    let scratch = Scratch::new(backend);
    let store = scratch.store().await?;
    let bar = crate::progress::bar(seeds, "seeds");
    let started = std::time::Instant::now();
    let (mut legacy, mut targets) = (0, 0);
    // SIGINT or SIGTERM stops the run after the seed that is running: each seed cleans up after itself,
    // so a --backend database is left with nothing live, and the temporary file is removed on return.
    let interrupted = Arc::new(AtomicBool::new(false));
    let on_signal = tokio::spawn({
        let interrupted = Arc::clone(&interrupted);
        async move {
            crate::signal::wait_for_signal().await;
            interrupted.store(true, Ordering::SeqCst);
        }
    });
    let report = ops_sim::simulate(&store, first_seed, seeds, options, |seed| {
        legacy += seed.legacy_spurious;
        targets += seed.targets_spurious;
        if let Some(bar) = &bar {
            bar.inc(1);
            bar.set_message(format!(
                "spurious recreates: legacy {legacy}, targets {targets}"
            ));
        }
        if interrupted.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .await;
    on_signal.abort();
    store.close().await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report =
        report.map_err(|error| CliError::Failed(ops_core::ErrorChain(&error).to_string()))?;
    if report.seeds < seeds {
        tracing::warn!(
            ran = report.seeds,
            asked = seeds,
            "interrupted: the counts are those of the seeds that ran"
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    if json_output {
        let mut value = serde_json::to_value(report).unwrap_or_default();
        value["backend"] = json!(store.dialect().name());
        value["networks_per_seed"] = json!(options.networks);
        value["steps_per_seed"] = json!(options.steps);
        value["seconds"] = json!((seconds * 1000.0).round() / 1000.0);
        crate::output::outln!("{value}");
    } else {
        crate::output::out!("{}", render(&report, seconds));
    }
    Ok(())
}

fn render(report: &SimReport, seconds: f64) -> String {
    let last = report.first_seed + report.seeds - 1;
    let legacy = format!(
        "{} (on {} seeds)",
        report.legacy_spurious, report.seeds_with_legacy_spurious
    );
    let targets = format!(
        "{} (on {} seeds)",
        report.targets_spurious, report.seeds_with_targets_spurious
    );
    let row = |label: &str, legacy: &dyn std::fmt::Display, targets: &dyn std::fmt::Display| {
        format!("{label:<36}{:<30}{targets}\n", legacy.to_string())
    };
    format!(
        "seeds {}..={last}: {} ops, {} maintainer passes, {seconds:.1} s\n\n{}{}{}{}",
        report.first_seed,
        report.ops,
        report.passes,
        row(
            "",
            &"legacy gate (latest op only)",
            &"targets gate (has_pending)"
        ),
        row("spurious recreates", &legacy, &targets),
        row(
            "repairs of really broken networks",
            &report.legacy_repairs,
            &report.targets_repairs
        ),
        row("broken idle networks missed", &"-", &report.targets_missed),
    )
}
