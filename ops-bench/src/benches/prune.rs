//! `prune_under_load`: the retention prune works in short batches so that enqueues never wait long
//! behind it — their p99 while it runs stays within twice the idle p99.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ops_core::{PrunePolicy, Store};

use super::enqueue::builder_enqueue;
use super::joined;
use crate::fill::{Targets, a_year_ago, net_ops, networks};
use crate::sample::{Samples, ratio};
use crate::{Bar, BenchError, Outcome, Profile};

/// Enqueuers running beside the prune.
const ENQUEUERS: usize = 2;

/// A year-old history of the profile's size on a hundred rows per network, all finished. The same
/// enqueuers run twice: idle, for as many enqueues as the profile measures, then while `prune` removes all
/// but each network's newest row. The ratio is their p99 during the prune over their p99 idle.
pub(super) async fn under_load(store: &Store, profile: &Profile) -> Result<Outcome, BenchError> {
    let objects = networks((profile.prune_rows / 100).max(1));
    net_ops(
        store,
        profile.prune_rows,
        "complete",
        Targets::Cycle(&objects),
        a_year_ago(),
    )
    .await?;
    for _ in 0..profile.warmup {
        builder_enqueue(store).await?;
    }
    let idle = enqueue_while(store, Until::Count(profile.prune_idle_enqueues)).await?;

    let started = Instant::now();
    let prune = tokio::spawn({
        let store = store.clone();
        async move {
            let policy = PrunePolicy::new(Duration::from_secs(24 * 3600));
            store.prune(&policy).await
        }
    });
    let during = enqueue_while(store, Until::Done(prune.abort_handle())).await?;
    let report = prune.await.map_err(joined)??;
    let prune_secs = started.elapsed().as_secs_f64();
    Ok(Outcome::new("prune_under_load", super::backend(store))
        .ratio(
            ratio(during.p99_us(), idle.p99_us()),
            Bar::AtMost(2.0),
            profile.at_bar_size,
        )
        .figure("target_rows", profile.prune_rows)
        .figure("pruned_target_rows", report.target_rows)
        .figure("pruned_ops", report.ops)
        .figure("prune_batches", report.batches)
        .figure("prune_secs", prune_secs)
        .figure("idle_p99_us", idle.p99_us())
        .figure("idle_median_us", idle.median_us())
        .figure("during_p99_us", during.p99_us())
        .figure("during_median_us", during.median_us())
        .figure("enqueues_idle", idle.len())
        .figure("enqueues_during", during.len())
        .figure("enqueuers", ENQUEUERS))
}

/// How long the enqueuers of [`enqueue_while`] run.
enum Until {
    /// Until they have made this many enqueues between them.
    Count(usize),
    /// Until this task has finished.
    Done(tokio::task::AbortHandle),
}

/// Runs [`ENQUEUERS`] enqueuers side by side `until` says, timing every enqueue.
async fn enqueue_while(store: &Store, until: Until) -> Result<Samples, BenchError> {
    let until = Arc::new(until);
    let samples = Arc::new(Mutex::new(Samples::new()));
    let mut enqueuers = Vec::new();
    for _ in 0..ENQUEUERS {
        let (store, until, samples) = (store.clone(), Arc::clone(&until), Arc::clone(&samples));
        enqueuers.push(tokio::spawn(async move {
            loop {
                let made = samples.lock().map(|s| s.len()).unwrap_or_default();
                match &*until {
                    Until::Count(count) if made >= *count => break,
                    Until::Done(task) if task.is_finished() => break,
                    _ => {}
                }
                let began = Instant::now();
                builder_enqueue(&store).await?;
                let took = began.elapsed();
                if let Ok(mut samples) = samples.lock() {
                    samples.push(took);
                }
            }
            Ok::<_, BenchError>(())
        }));
    }
    for enqueuer in enqueuers {
        enqueuer.await.map_err(joined)??;
    }
    Ok(samples.lock().map(|s| s.clone()).unwrap_or_default())
}
