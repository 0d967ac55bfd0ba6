//! The queues page: each work queue's depth by priority (waiting, delayed, running, oldest wait), and the
//! last hour's rescues, completions, failures and error rate. For the `system` namespace only: the queues
//! hold every namespace's work. It reloads itself every few seconds when asked (`?refresh=N`), without
//! script.

use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use super::PageError;
use super::layout::{self, Section, none};
use super::session::Viewer;
use crate::server::AppState;

/// The window the rates cover, in seconds.
const WINDOW: f64 = 3600.0;

/// The reload period offered, and the bounds of one asked for, in seconds.
const REFRESH: u32 = 10;
const REFRESH_BOUNDS: (u32, u32) = (2, 600);

/// `GET /dashboard/queues`'s query.
#[derive(Deserialize)]
pub(crate) struct QueuesQuery {
    refresh: Option<u32>,
}

/// `GET /dashboard/queues[?refresh=N]`.
pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<QueuesQuery>,
) -> Result<Markup, PageError> {
    viewer.system_only("the cluster's queues")?;
    let now = layout::now();
    let overview = state.store.queue_overview(now - WINDOW).await?;
    let refresh = query
        .refresh
        .map(|seconds| seconds.clamp(REFRESH_BOUNDS.0, REFRESH_BOUNDS.1));
    let waiting: u64 = overview.queues.iter().map(|q| q.queued).sum();
    let running: u64 = overview.queues.iter().map(|q| q.in_flight).sum();
    let oldest = overview
        .queues
        .iter()
        .filter_map(|q| q.oldest_queued_at)
        .min_by(f64::total_cmp);
    let body = html! {
        h1 { "Queues" }
        p.pager {
            span { "As of " (layout::time(now)) " (UTC)." }
            @match refresh {
                Some(seconds) => { span { "Reloading every " (seconds) " s." } a href="/dashboard/queues" { "Stop reloading" } },
                None => a href={ "/dashboard/queues?refresh=" (REFRESH) } { "Reload every " (REFRESH) " s" },
            }
        }
        div.summary #queue-summary {
            div { span.figure #waiting { (waiting) } "waiting" }
            div { span.figure #running { (running) } "running now" }
            div { span.figure #oldest { @match oldest { Some(at) => (layout::duration(now - at)), None => (none()) } } "oldest wait" }
            div { span.figure #rescued { (overview.rescued) } "rescued in the last hour" }
            div { span.figure #error-rate {
                @match overview.error_rate() { Some(rate) => { (format!("{:.1}", rate * 100.0)) " %" }, None => (none()) }
            } "error rate in the last hour (" (overview.failed) " failed, " (overview.completed) " completed)" }
        }
        @if overview.queues.is_empty() {
            p { "Every queue is empty." }
        } @else {
            div.table-wrap role="region" aria-label="Queues by priority" tabindex="0" {
                table #queue-table {
                    caption { "Each queue by priority (10 is the most urgent)" }
                    thead { tr {
                        th scope="col" { "Queue" }
                        th.number scope="col" { "Priority" }
                        th.number scope="col" { "Waiting" }
                        th.number scope="col" { "Of which delayed" }
                        th.number scope="col" { "Running" }
                        th.number scope="col" { "Oldest wait" }
                    } }
                    tbody {
                        @for queue in &overview.queues {
                            tr {
                                th scope="row" { code { (queue.queue_name) } }
                                td.number { (queue.priority) }
                                td.number { (queue.queued) }
                                td.number { (queue.delayed) }
                                td.number { (queue.in_flight) }
                                td.number { @match queue.oldest_queued_at { Some(at) => (layout::duration(now - at)), None => (none()) } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::document(
        "Queues",
        Some(Section::Queues),
        Some(&viewer),
        refresh,
        body,
    ))
}
