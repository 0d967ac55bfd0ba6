//! The maintainer page: what the network maintainers did lately, from the status event each pass leaves
//! on its node: for each node that passed in the last day, its latest pass's networks left alone (busy,
//! settling, unknown, cooling down, breaker open), repaired, deleted and refused, and a warning when that
//! pass is minutes old; then the recent passes, newest first. For the `system` namespace only: the
//! passes name every namespace's networks.

use axum::extract::State;
use maud::{Markup, html};
use ops_core::network::Listed;
use ops_core::{NetworkId, NodeId, ObjectRef, RecordedPass};

use super::PageError;
use super::layout::{self, Section};
use super::object::object_path;
use super::session::Viewer;
use crate::server::AppState;

/// How far back the page reads passes, in seconds.
const WINDOW: f64 = 24.0 * 3600.0;

/// How many recent passes it lists.
const RECENT: u32 = 50;

/// How long after a node's latest pass the page asks whether its maintainer still runs, in seconds: ten
/// of `opsctl maintain`'s default intervals.
const STALE: f64 = 300.0;

/// `GET /dashboard/maintainer`.
pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    viewer.system_only("the maintainer's passes")?;
    let now = layout::now();
    let latest = state.store.latest_maintainer_passes(now - WINDOW).await?;
    let passes = state.store.maintainer_passes(now - WINDOW, RECENT).await?;
    let body = html! {
        h1 { "Network maintainer" }
        @if passes.is_empty() {
            p #no-passes { "No maintainer pass in the last 24 hours. Is " code { "opsctl maintain" } " running?" }
        }
        @for pass in &latest {
            @let node = pass.node;
            section.pass aria-labelledby={ "node-" (node) } {
                h2 id={ "node-" (node) } { "Node " code { (node) } }
                p {
                    "Latest pass " (layout::time(pass.at)) " on " code { (pass.host) } ", as "
                    (role_name(pass)) ": " (pass.record.networks) " networks, " (pass.record.okay) " fine."
                    @if pass.record.skipped_for_queue_depth {
                        " " strong { "Skipped" } ": the network queues held " (pass.record.queue_depth) " ops."
                    }
                }
                @if now - pass.at > STALE {
                    p.notice role="alert" id={ "stale-" (node) } {
                        "No pass for " (layout::duration(now - pass.at)) ": is this node's maintainer running?"
                    }
                }
                (outcome(node, "busy", "Left alone: an operation is working on them", &pass.record.busy))
                (outcome(node, "repaired", "Repaired", &repaired(&pass.record.repaired)))
                (outcome(node, "cooling-down", "Cooling down after a failed repair", &pass.record.cooling_down))
                (outcome(node, "breaker-open", "Breaker open: repairs keep failing; an operator should look", &pass.record.breaker_open))
                (outcome(node, "unknown", "Health unknown", &pass.record.unknown))
                (outcome(node, "settling", "Settling: their state just changed", &pass.record.settling))
                (outcome(node, "deleted", "Deleted, their last interface gone", &repaired(&pass.record.deleted)))
                (outcome(node, "refused", "Repair refused", &Listed {
                    count: pass.record.refused.count,
                    first: pass.record.refused.first.iter().map(|r| r.network).collect(),
                }))
            }
        }
        @if !passes.is_empty() {
            h2 { "Recent passes" }
            div.table-wrap role="region" aria-label="Recent passes" tabindex="0" {
                table #pass-table {
                    caption {
                        @if passes.len() == 1 { "The only pass of the last 24 hours" }
                        @else { "The last " (passes.len()) " passes of the last 24 hours, newest first" }
                    }
                    thead { tr {
                        th scope="col" { "Time" } th scope="col" { "Node" }
                        th.number scope="col" { "Networks" } th.number scope="col" { "Busy" }
                        th.number scope="col" { "Repaired" } th.number scope="col" { "Cooling down" }
                        th.number scope="col" { "Breaker open" } th.number scope="col" { "Queue depth" }
                    } }
                    tbody {
                        @for pass in &passes {
                            tr {
                                td { (layout::time(pass.at)) }
                                td { code { (pass.node.to_string().get(..8).unwrap_or("")) } }
                                td.number { (pass.record.networks) }
                                td.number { (pass.record.busy.count) }
                                td.number { (pass.record.repaired.count) }
                                td.number { (pass.record.cooling_down.count) }
                                td.number { (pass.record.breaker_open.count) }
                                td.number { (pass.record.queue_depth) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::document(
        "Network maintainer",
        Some(Section::Maintainer),
        Some(&viewer),
        None,
        body,
    ))
}

fn role_name(pass: &RecordedPass) -> &'static str {
    match pass.record.maintainer {
        ops_core::network::Role::NetworkNode(_) => "the network node",
        ops_core::network::Role::Hypervisor(_) => "a hypervisor",
    }
}

fn repaired(listed: &Listed<ops_core::network::Repaired>) -> Listed<NetworkId> {
    Listed {
        count: listed.count,
        first: listed.first.iter().map(|r| r.network).collect(),
    }
}

/// One outcome's networks in `node`'s latest pass, linked to their pages; nothing when there are none.
/// Its list's id is the outcome's and the node's: `busy-<node>`.
fn outcome(node: NodeId, outcome: &str, heading: &str, networks: &Listed<NetworkId>) -> Markup {
    html! {
        @if networks.count > 0 {
            h3 { (heading) " (" (networks.count) ")" }
            ul id={ (outcome) "-" (node) } {
                @for network in &networks.first {
                    li { a href=(object_path(ObjectRef::from(*network))) { "network " code { (network) } } }
                }
                @if networks.is_truncated() {
                    li.hint { "and " (networks.count - networks.first.len()) " more" }
                }
            }
        }
    }
}
