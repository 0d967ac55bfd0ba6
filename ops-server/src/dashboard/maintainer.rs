//! The maintainer page: what the network maintainers did lately, from the status event each pass leaves
//! on its node: for each node, its latest pass's networks left alone (busy, settling, unknown, cooling
//! down, breaker open), repaired, deleted and refused; then the recent passes, newest first. For the
//! `system` namespace only: the passes name every namespace's networks.

use std::collections::HashSet;

use axum::extract::State;
use maud::{Markup, html};
use ops_core::network::Listed;
use ops_core::{NetworkId, ObjectRef, RecordedPass};

use super::PageError;
use super::layout;
use super::object::object_path;
use super::queues::system_only;
use super::session::Viewer;
use crate::server::AppState;

/// How far back the page reads passes, in seconds.
const WINDOW: f64 = 24.0 * 3600.0;

/// How many recent passes it lists.
const RECENT: u32 = 50;

/// `GET /dashboard/maintainer`.
pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Markup, PageError> {
    system_only(&viewer, "the maintainer's passes")?;
    let passes = state
        .store
        .maintainer_passes(layout::now() - WINDOW, RECENT)
        .await
        .map_err(|error| PageError::from(crate::auth::internal(&error)))?;
    let mut nodes = HashSet::new();
    let latest: Vec<&RecordedPass> = passes
        .iter()
        .filter(|pass| nodes.insert(pass.node))
        .collect();
    let body = html! {
        h1 { "Network maintainer" }
        @if passes.is_empty() {
            p #no-passes { "No maintainer pass in the last 24 hours. Is " code { "opsctl maintain" } " running?" }
        }
        @for pass in &latest {
            section.pass aria-labelledby={ "node-" (pass.node) } {
                h2 id={ "node-" (pass.node) } { "Node " code { (pass.node) } }
                p {
                    "Latest pass " (layout::time(pass.at)) " on " code { (pass.host) } ", as "
                    (role_name(pass)) ": " (pass.record.networks) " networks, " (pass.record.okay) " fine."
                    @if pass.record.skipped_for_queue_depth {
                        " " strong { "Skipped" } ": the network queues held " (pass.record.queue_depth) " ops."
                    }
                }
                (outcome("busy", "Left alone: an operation is working on them", &pass.record.busy))
                (outcome("repaired", "Repaired", &repaired(&pass.record.repaired)))
                (outcome("cooling-down", "Cooling down after a failed repair", &pass.record.cooling_down))
                (outcome("breaker-open", "Breaker open: repairs keep failing; an operator should look", &pass.record.breaker_open))
                (outcome("unknown", "Health unknown", &pass.record.unknown))
                (outcome("settling", "Settling: their state just changed", &pass.record.settling))
                (outcome("deleted", "Deleted, their last interface gone", &repaired(&pass.record.deleted)))
                (outcome("refused", "Repair refused", &Listed {
                    count: pass.record.refused.count,
                    first: pass.record.refused.first.iter().map(|r| r.network).collect(),
                }))
            }
        }
        @if !passes.is_empty() {
            h2 { "Recent passes" }
            div.table-wrap {
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
    Ok(layout::page("Network maintainer", Some(&viewer), body))
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

/// One outcome's networks, linked to their pages; nothing when there are none.
fn outcome(id: &str, heading: &str, networks: &Listed<NetworkId>) -> Markup {
    html! {
        @if networks.count > 0 {
            h3 { (heading) " (" (networks.count) ")" }
            ul id=(id) {
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
