//! `opsctl bench`: the benchmarks of DESIGN.md §11 on fresh scratch databases, one line (or one JSON
//! object) per bench and backend; exit 1 when a bench run at its bar's sizes misses the bar.

use std::path::Path;

use ops_bench::{Bench, BenchError, Curve, Outcome, Profile};
use tokio::sync::watch;

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
    let (signalled, stop) = watch::channel(false);
    let on_signal = tokio::spawn(async move {
        crate::signal::wait_for_signal().await;
        let _ = signalled.send(true);
    });
    let result = match &args.plot {
        Some(dir) => plot_all(dir, &backends, &profile, json, &stop).await,
        None => run_all(&benches, &backends, &profile, json, &stop).await,
    };
    on_signal.abort();
    result
}

/// Runs every bench on every backend, in order, until one fails or `stop` turns true.
async fn run_all(
    benches: &[Bench],
    backends: &[String],
    profile: &Profile,
    json: bool,
    stop: &watch::Receiver<bool>,
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
            let outcome = bench
                .run_until(backend, profile, stopped(stop))
                .await
                .map_err(|error| failed(bench.name(), backend, error))?;
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

/// Measures every curve on every backend and draws each, all backends on one figure, into `dir`.
async fn plot_all(
    dir: &Path,
    backends: &[String],
    profile: &Profile,
    json: bool,
    stop: &watch::Receiver<bool>,
) -> Result<(), CliError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::Failed(format!("cannot create `{}`: {e}", dir.display())))?;
    let bar = crate::progress::bar((Curve::ALL.len() * backends.len()) as u64, "curves");
    for curve in Curve::ALL {
        let mut series = Vec::new();
        for backend in backends {
            if let Some(bar) = &bar {
                bar.set_message(format!("{} on {}", curve.name(), backend_name(backend)));
            }
            series.extend(
                curve
                    .measure_until(backend, profile, stopped(stop))
                    .await
                    .map_err(|error| failed(curve.name(), backend, error))?,
            );
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        }
        let svg = ops_bench::plot::svg(curve, &series)
            .map_err(|error| failed(curve.name(), "", error))?;
        let (x, y) = (curve.x_axis(), curve.y_axis());
        let points = serde_json::json!({
            "curve": curve.name(),
            "title": curve.title(),
            "x": {"label": x.0, "scale": x.1},
            "y": {"label": y.0, "scale": y.1},
            "series": series,
        });
        let svg_path = dir.join(format!("{}.svg", curve.name()));
        let json_path = dir.join(format!("{}.json", curve.name()));
        for (path, contents) in [(&svg_path, svg), (&json_path, format!("{points:#}\n"))] {
            std::fs::write(path, contents)
                .map_err(|e| CliError::Failed(format!("cannot write `{}`: {e}", path.display())))?;
        }
        let line = if json {
            serde_json::json!({
                "curve": curve.name(),
                "svg": svg_path,
                "points": json_path,
                "series": series.len(),
            })
            .to_string()
        } else {
            format!(
                "{}: {} and {} ({} series)",
                curve.name(),
                svg_path.display(),
                json_path.display(),
                series.len()
            )
        };
        match &bar {
            Some(bar) => bar.println(line),
            None => crate::output::outln!("{line}"),
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(())
}

/// Completes once `stop` turns true; never if its sender is gone without that.
fn stopped(stop: &watch::Receiver<bool>) -> impl Future<Output = ()> + use<> {
    let mut stop = stop.clone();
    async move {
        if stop.wait_for(|stopped| *stopped).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// What a bench or curve that failed on `backend` exits with.
fn failed(name: &str, backend: &str, error: BenchError) -> CliError {
    match error {
        BenchError::Store(store) => CliError::Store(store),
        BenchError::Stopped => CliError::Failed(format!(
            "interrupted: {name} on {} stopped before it finished; its scratch databases were removed",
            backend_name(backend)
        )),
        other => CliError::Failed(format!("{name} failed: {}", ops_core::ErrorChain(&other))),
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
