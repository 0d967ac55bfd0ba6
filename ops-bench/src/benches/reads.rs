//! `read_latency`: what an operator's and an API client's reads cost on an object with a long history —
//! its latest op, a page of its history, its external view. Reported with no bar.

use ops_core::{NetworkId, NewObject, ObjectRef, Store};
use uuid::Uuid;

use crate::fill::{Targets, a_year_ago, net_ops};
use crate::sample::compare;
use crate::{BenchError, Outcome, Profile};

pub(super) async fn latency(store: &Store, profile: &Profile) -> Result<Outcome, BenchError> {
    let uuid = Uuid::new_v4();
    let id = NetworkId::from(uuid);
    store
        .create_object(&NewObject::network(id, "bench", "bench", 0x1234))
        .await?;
    net_ops(
        store,
        profile.read_rows,
        "complete",
        Targets::One(uuid),
        a_year_ago(),
    )
    .await?;
    let object = ObjectRef::from(id);
    let latest_and_history = compare(
        profile.warmup,
        profile.rounds,
        profile.per_round,
        |_| super::ran(store.latest(object)),
        |_| super::ran(store.history(object, None, ops_core::store::DEFAULT_HISTORY_LIMIT)),
    )
    .await?;
    let view = compare(
        profile.warmup,
        profile.rounds,
        profile.per_round,
        |_| super::ran(store.external_view(object)),
        |_| super::ran(store.has_pending(object)),
    )
    .await?;
    Ok(Outcome::new("read_latency", super::backend(store))
        .figure("history_rows", profile.read_rows)
        .figure("latest_median_us", latest_and_history.a.median_us())
        .figure("latest_p99_us", latest_and_history.a.p99_us())
        .figure("history_page_median_us", latest_and_history.b.median_us())
        .figure("history_page_p99_us", latest_and_history.b.p99_us())
        .figure("external_view_median_us", view.a.median_us())
        .figure("external_view_p99_us", view.a.p99_us())
        .figure("has_pending_median_us", view.b.median_us()))
}
