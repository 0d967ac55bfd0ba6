//! The gate's benches: `has_pending` must not grow with an object's history nor with the queue's backlog,
//! and `filter_pending` must answer many objects at once far faster than asking each.

use std::collections::BTreeSet;

use ops_core::{NetworkId, ObjectRef, Store};
use uuid::Uuid;

use crate::curves::{Series, by_tens};
use crate::fill::{Targets, a_year_ago, net_ops, networks};
use crate::sample::{Comparison, Samples, compare, time};
use crate::{Bar, BenchError, Outcome, Profile};

/// The history growth bench's bar, and the backlog's.
const FLAT: Bar = Bar::AtMost(1.5);

fn network(uuid: Uuid) -> ObjectRef {
    ObjectRef::from(NetworkId::from(uuid))
}

/// `has_pending` calls per timed sample. A call alone lasts tens of microseconds, about what it takes to wake
/// a sleeping thread: through sqlx, each SQLite connection runs on a thread of its own, and whether the first
/// call of a side found its thread awake decided single-call timings (the same store against itself read
/// anything from 0.4x to 3x). Timing a run of calls spreads one wake-up over all of them.
const CALLS: usize = 20;

/// `has_pending` on `a` against on `b`, each checked first to answer `expected`; each sample is [`CALLS`]
/// calls (the figures divide by it).
async fn compare_has_pending(
    (store_a, a): (&Store, ObjectRef),
    (store_b, b): (&Store, ObjectRef),
    expected: bool,
    profile: &Profile,
) -> Result<Comparison, BenchError> {
    for (store, object) in [(store_a, a), (store_b, b)] {
        if store.has_pending(object).await? != expected {
            return Err(BenchError::WrongAnswer(format!(
                "has_pending({object}) is not {expected}"
            )));
        }
    }
    compare(
        profile.warmup,
        profile.rounds,
        profile.per_round,
        |_| calls(store_a, a),
        |_| calls(store_b, b),
    )
    .await
}

/// One timed sample of the gate benches: [`CALLS`] `has_pending` calls on `object`.
async fn calls(store: &Store, object: ObjectRef) -> Result<(), BenchError> {
    for _ in 0..CALLS {
        store.has_pending(object).await?;
    }
    Ok(())
}

/// A median of [`compare_has_pending`]'s samples, per call.
fn per_call(samples: &Samples) -> f64 {
    samples.median_us() / CALLS as f64
}

/// 10 finished ops on one network, the profile's history on another; both asked all finished, then each
/// with one op in flight. The ratio is the larger of the two (large over small).
pub(super) async fn history_growth(
    store: &Store,
    profile: &Profile,
) -> Result<Outcome, BenchError> {
    let (small, large) = (Uuid::new_v4(), Uuid::new_v4());
    net_ops(store, 10, "complete", Targets::One(small), a_year_ago()).await?;
    net_ops(
        store,
        profile.history_rows,
        "complete",
        Targets::One(large),
        a_year_ago(),
    )
    .await?;
    let finished = compare_has_pending(
        (store, network(small)),
        (store, network(large)),
        false,
        profile,
    )
    .await?;
    for object in [small, large] {
        net_ops(store, 1, "queued", Targets::One(object), a_year_ago()).await?;
    }
    let in_flight = compare_has_pending(
        (store, network(small)),
        (store, network(large)),
        true,
        profile,
    )
    .await?;
    Ok(
        Outcome::new("has_pending_history_growth", super::backend(store))
            .ratio(
                finished.ratio().max(in_flight.ratio()),
                FLAT,
                profile.at_bar_size,
            )
            .figure("history_rows", profile.history_rows)
            .figure("finished_ratio", finished.ratio())
            .figure("in_flight_ratio", in_flight.ratio())
            .figure("small_median_us", per_call(&finished.a))
            .figure("large_median_us", per_call(&finished.b))
            .figure("small_in_flight_median_us", per_call(&in_flight.a))
            .figure("large_in_flight_median_us", per_call(&in_flight.b)),
    )
}

/// The same idle network (10 finished ops) in two databases, one with no other work and one with the
/// profile's backlog of ops in flight on other networks; the ratio is busy over quiet.
pub(super) async fn backlog_growth(
    quiet: &Store,
    busy: &Store,
    profile: &Profile,
) -> Result<Outcome, BenchError> {
    let idle = Uuid::new_v4();
    for store in [quiet, busy] {
        net_ops(store, 10, "complete", Targets::One(idle), a_year_ago()).await?;
    }
    let others = networks(profile.backlog_ops);
    net_ops(
        busy,
        profile.backlog_ops,
        "queued",
        Targets::Cycle(&others),
        a_year_ago(),
    )
    .await?;
    let comparison = compare_has_pending(
        (quiet, network(idle)),
        (busy, network(idle)),
        false,
        profile,
    )
    .await?;
    let (low, high) = comparison.spread();
    Ok(
        Outcome::new("has_pending_backlog_growth", super::backend(quiet))
            .ratio(comparison.ratio(), FLAT, profile.at_bar_size)
            .figure("backlog_ops", profile.backlog_ops)
            .figure("quiet_median_us", per_call(&comparison.a))
            .figure("busy_median_us", per_call(&comparison.b))
            .figure("calls_per_sample", CALLS)
            .figure("busy_sample_p99_us", comparison.b.p99_us())
            .figure("round_ratio_min", low)
            .figure("round_ratio_max", high),
    )
}

/// `count` networks, one in ten with an op in flight, and the set of those: checked to be what
/// `filter_pending` answers for all of them.
async fn filter_fleet(
    store: &Store,
    count: usize,
) -> Result<(Vec<ObjectRef>, BTreeSet<ObjectRef>), BenchError> {
    let all = networks(count);
    let busy: Vec<Uuid> = all.iter().step_by(10).copied().collect();
    net_ops(
        store,
        busy.len(),
        "queued",
        Targets::Cycle(&busy),
        a_year_ago(),
    )
    .await?;
    let objects: Vec<ObjectRef> = all.iter().map(|uuid| network(*uuid)).collect();
    let expected: BTreeSet<ObjectRef> = busy.iter().map(|uuid| network(*uuid)).collect();
    if store.filter_pending(&objects).await? != expected {
        return Err(BenchError::WrongAnswer(
            "filter_pending does not give the objects with an op in flight".to_owned(),
        ));
    }
    Ok((objects, expected))
}

/// Timed passes per round of a filter comparison: each side is one pass over every object, so a few are
/// plenty.
fn filter_passes(profile: &Profile) -> usize {
    (profile.per_round / 60).max(1)
}

/// The profile's objects, one in ten with an op in flight; `filter_pending` over all of them against a
/// `has_pending` call for each. The ratio is the loop's time over the filter's.
pub(super) async fn filter_vs_loop(
    store: &Store,
    profile: &Profile,
) -> Result<Outcome, BenchError> {
    let (objects, expected) = filter_fleet(store, profile.filter_objects).await?;
    let objects = &objects;
    let comparison = compare(
        1,
        profile.rounds,
        filter_passes(profile),
        |_| super::ran(store.filter_pending(objects)),
        |_| async move {
            for object in objects {
                store.has_pending(*object).await?;
            }
            Ok(())
        },
    )
    .await?;
    Ok(
        Outcome::new("filter_pending_vs_loop", super::backend(store))
            .ratio(comparison.ratio(), Bar::AtLeast(20.0), profile.at_bar_size)
            .figure("objects", profile.filter_objects)
            .figure("pending_objects", expected.len())
            .figure("filter_median_ms", comparison.a.median_us() / 1000.0)
            .figure("loop_median_ms", comparison.b.median_us() / 1000.0),
    )
}

/// `has_pending` on one idle network as its history grows by tens to the profile's history: one point
/// per size, the median per call.
pub(crate) async fn history_curve(
    store: &Store,
    profile: &Profile,
) -> Result<Vec<Series>, BenchError> {
    let uuid = Uuid::new_v4();
    let object = network(uuid);
    let mut filled = 0;
    let mut points = Vec::new();
    for size in by_tens(profile.history_rows) {
        net_ops(
            store,
            size - filled,
            "complete",
            Targets::One(uuid),
            a_year_ago(),
        )
        .await?;
        filled = size;
        if store.has_pending(object).await? {
            return Err(BenchError::WrongAnswer(format!(
                "has_pending({object}) is true with only finished ops"
            )));
        }
        time(profile.warmup, |_| calls(store, object)).await?;
        let samples = time(profile.rounds * profile.per_round, |_| calls(store, object)).await?;
        points.push((size as f64, per_call(&samples)));
    }
    Ok(vec![Series {
        label: "has_pending",
        backend: super::backend(store),
        points,
    }])
}

/// `filter_pending` over the first N of the profile's objects (one in ten with an op in flight) against
/// a `has_pending` call for each, N by tens: two lines, the median time to answer all N, in ms.
pub(crate) async fn filter_curve(
    store: &Store,
    profile: &Profile,
) -> Result<Vec<Series>, BenchError> {
    let (objects, _) = filter_fleet(store, profile.filter_objects).await?;
    let (mut filter, mut each) = (Vec::new(), Vec::new());
    for size in by_tens(profile.filter_objects) {
        let some = &objects[..size];
        let comparison = compare(
            1,
            profile.rounds,
            filter_passes(profile),
            |_| super::ran(store.filter_pending(some)),
            |_| async move {
                for object in some {
                    store.has_pending(*object).await?;
                }
                Ok(())
            },
        )
        .await?;
        filter.push((size as f64, comparison.a.median_us() / 1000.0));
        each.push((size as f64, comparison.b.median_us() / 1000.0));
    }
    let backend = super::backend(store);
    Ok(vec![
        Series {
            label: "filter_pending",
            backend,
            points: filter,
        },
        Series {
            label: "has_pending per object",
            backend,
            points: each,
        },
    ])
}
