//! `opsctl bench`: the benchmarks of DESIGN.md §11 on fresh scratch databases, one line (or one JSON
//! object) per bench and backend; exit 1 when a bench run at its bar's sizes misses the bar.

use ops_bench::{Bench, Outcome, Profile};

use crate::CliError;
use crate::cli::BenchArgs;

/// Runs the benches `args` name on each backend, printing each outcome as it comes.
pub(crate) async fn run(args: &BenchArgs, json: bool) -> Result<(), CliError> {
    let benches = match args.only.as_slice() {
        [] => Bench::ALL.to_vec(),
        names => names
            .iter()
            .map(|name| Bench::from_name(name.trim()))
            .collect::<Result<_, _>>()
            .map_err(|e| CliError::Input(e.to_string()))?,
    };
    let backends = if args.backends.is_empty() {
        vec!["sqlite".to_owned()]
    } else {
        args.backends.clone()
    };
    let profile = if args.smoke {
        Profile::tiny()
    } else if args.quick {
        Profile::quick()
    } else {
        Profile::full()
    };
    // SIGINT or SIGTERM stops the bench that is running; it removes its scratch databases on the way out.
    let (signalled, stop) = tokio::sync::watch::channel(false);
    let on_signal = tokio::spawn(async move {
        crate::signal::wait_for_signal().await;
        let _ = signalled.send(true);
    });
    let result = run_all(&benches, &backends, &profile, json, &stop).await;
    on_signal.abort();
    result
}

/// Runs every bench on every backend, in order, until one fails or `stop` turns true.
async fn run_all(
    benches: &[Bench],
    backends: &[String],
    profile: &Profile,
    json: bool,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Result<(), CliError> {
    let bar = crate::progress::bar((benches.len() * backends.len()) as u64, "benches");
    // The table's header comes with its first row: a bench that fails before has printed nothing.
    let mut header_due = !json;
    let mut missed = Vec::new();
    for backend in backends {
        for bench in benches {
            if let Some(bar) = &bar {
                bar.set_message(format!("{} on {}", bench.name(), backend_name(backend)));
            }
            let mut stop = stop.clone();
            let stopped = async move {
                if stop.wait_for(|stopped| *stopped).await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            let outcome = bench
                .run_until(backend, profile, stopped)
                .await
                .map_err(|error| match error {
                    ops_bench::BenchError::Store(store) => CliError::Store(store),
                    ops_bench::BenchError::Stopped => CliError::Failed(format!(
                        "interrupted: {} on {} stopped before it finished; its scratch databases were removed",
                        bench.name(),
                        backend_name(backend)
                    )),
                    other => CliError::Failed(format!(
                        "{} failed: {}",
                        bench.name(),
                        ops_core::ErrorChain(&other)
                    )),
                })?;
            if outcome.pass == Some(false) {
                missed.push(format!("{} on {}", outcome.bench, outcome.backend));
            }
            let line = if json {
                serde_json::to_string(&outcome).unwrap_or_default()
            } else if std::mem::take(&mut header_due) {
                format!("{}\n{}", header(), row(&outcome))
            } else {
                row(&outcome)
            };
            match &bar {
                Some(bar) => {
                    bar.println(line);
                    bar.inc(1);
                }
                None => crate::output::outln!("{line}"),
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if missed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "missed the bar: {}",
            missed.join(", ")
        )))
    }
}

/// `sqlite`, or a server URL's scheme and host (never its password).
fn backend_name(backend: &str) -> String {
    match backend.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{}", host.split('/').next().unwrap_or_default())
        }
        None => backend.to_owned(),
    }
}

fn header() -> String {
    format!(
        "{:<28}  {:<8}  {:>8}  {:<8}  {:<4}  FIGURES",
        "BENCH", "BACKEND", "RATIO", "BAR", "PASS"
    )
}

/// One outcome as a table row: the ratio against its bar, then its figures.
fn row(outcome: &Outcome) -> String {
    let ratio = outcome.ratio.map_or("-".to_owned(), |r| format!("{r:.3}"));
    let bar = outcome.bar.map_or("-".to_owned(), |b| b.to_string());
    let pass = match outcome.pass {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    };
    let figures: Vec<String> = outcome
        .figures
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!(
        "{:<28}  {:<8}  {ratio:>8}  {bar:<8}  {pass:<4}  {}",
        outcome.bench,
        outcome.backend,
        figures.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backend_is_named_without_its_password_or_database() {
        assert_eq!(backend_name("sqlite"), "sqlite");
        assert_eq!(
            backend_name("postgres://ops:secret@db.example:5432/ops"),
            "postgres://db.example:5432"
        );
        assert_eq!(
            backend_name("mysql://root@127.0.0.1:3306/test"),
            "mysql://127.0.0.1:3306"
        );
    }
}
