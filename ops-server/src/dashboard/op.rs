//! One op's page: its header, tasks, targets (linking to their pages), its own fields, its events in
//! order, what it waits for (`depends_on`, `runs_after`) as a small tree, and its error report.

use std::collections::HashSet;

use axum::extract::{Path, State};
use maud::{Markup, html};
use ops_core::{Dependency, ObjectRef, ObjectType, OpId, OpRecord, OpState};
use serde_json::Value;

use super::PageError;
use super::layout::{self, json_block, maybe_time, none, op_link, state_badge};
use super::object::object_path;
use super::session::Viewer;
use crate::auth::CLUSTER_OPERATION_READ;
use crate::clusterops::{check_visible, may_see, op_view};
use crate::server::AppState;

/// The most ops the dependency tree reads: a page, not a crawl of the whole store.
const MAX_TREE: usize = 50;

/// `GET /dashboard/ops/<uuid>`: the op's page. 404 for an op that does not exist; 403 when the viewer's
/// namespace does not own every object it targets.
pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(uuid): Path<String>,
) -> Result<Markup, PageError> {
    viewer.0.require_scope(CLUSTER_OPERATION_READ)?;
    let not_found = || PageError::not_found("operation not found");
    let op: OpId = uuid.parse().map_err(|_| not_found())?;
    let record = state.store.op_record(op).await?.ok_or_else(not_found)?;
    check_visible(&state, &viewer.0, &record.targets).await?;
    let error_report = if record.state == Some(OpState::Error) {
        state.store.error_report(op).await?
    } else {
        None
    };
    let tree = dependency_tree(&state, &viewer, &record).await?;
    let timeline = record.timeline();
    let view = op_view(&record);
    let fields: Vec<(&String, &Value)> = view
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(key, _)| !matches!(key.as_str(), "operation_type" | "uuid" | "state" | "tasks"))
        .collect();
    let tasks: Vec<String> = record
        .wire
        .get("tasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|task| {
            task.as_str()
                .map_or_else(|| task.to_string(), str::to_owned)
        })
        .collect();
    let title = format!("{} {}", record.op_type, record.op_uuid);
    let body = html! {
        h1 { (record.op_type) " " span.uuid { (record.op_uuid) } }
        dl.facts {
            dt { "State" } dd #op-state { (state_badge(record.state))
                @if let Some(message) = &record.state_message { " " (message) } }
            dt { "Priority" } dd { (record.priority) }
            dt { "Queue" } dd { code { (record.queue_name) } }
            dt { "Created" } dd { (layout::time(record.created_at)) }
            dt { "Started" } dd { (maybe_time(timeline.started_at)) }
            dt { "Finished" } dd { (maybe_time(timeline.finished_at)) }
            dt { "Duration" } dd { @match timeline.duration() { Some(s) => (layout::duration(s)), None => (none()) } }
            dt { "Worker" } dd { @match &timeline.worker { Some(worker) => code { (worker) }, None => (none()) } }
            dt { "Attempts" } dd { (timeline.attempts) }
            dt { "Request" } dd { @match &record.request_id { Some(id) => code { (id) }, None => (none()) } }
            dt { "Version" } dd { (record.version) }
        }
        @if let Some(report) = &error_report {
            section aria-labelledby="error" {
                h2 #error { "Error report" }
                (json_block(report))
            }
        } @else if record.state == Some(OpState::Error) {
            section aria-labelledby="error" {
                h2 #error { "Error report" }
                p { "None was written" @if let Some(m) = &record.state_message { ": " (m) } "." }
            }
        }
        section aria-labelledby="tasks" {
            h2 #tasks { "Tasks" }
            @if tasks.is_empty() { p { "None." } } @else {
                ol { @for task in &tasks { li { code { (task) } } } }
            }
        }
        section aria-labelledby="targets" {
            h2 #targets { "Targets" }
            @if record.targets.is_empty() { p { "None: this operation targets no object." } } @else {
                ul #target-list {
                    @for target in &record.targets {
                        li {
                            @match target_ref(&target.object_type, &target.uuid) {
                                Some(object) => a href=(object_path(object)) { (target.object_type) " " code { (target.uuid) } },
                                None => { (target.object_type) " " code { (target.uuid) } },
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="fields" {
            h2 #fields { "Fields" }
            @if fields.is_empty() { p { "None." } } @else {
                dl.facts {
                    @for (key, value) in &fields {
                        dt { code { (key) } }
                        dd { @match value { Value::String(text) => code { (text) }, Value::Null => (none()), other => code { (other) } } }
                    }
                }
            }
        }
        section aria-labelledby="chain" {
            h2 #chain { "Waits for" }
            @if tree.is_empty() { p { "Nothing: it depends on no other operation." } } @else {
                p.hint { "Each operation below waits for those under it: " em { "depends on" } " needs the other to complete; " em { "runs after" } " only needs it to finish." }
                (tree_markup(&record, &tree))
            }
        }
        section aria-labelledby="events" {
            h2 #events { "Events" }
            div.table-wrap role="region" aria-label="Events" tabindex="0" {
                table #event-list {
                    caption { "Its events, oldest first" }
                    thead { tr { th scope="col" { "Time" } th scope="col" { "Type" } th scope="col" { "Message" } th scope="col" { "Detail" } } }
                    tbody {
                        @for event in &record.events {
                            tr {
                                td { (layout::time(event.timestamp)) }
                                td { (event.event_type) }
                                td { (event.summary()) }
                                td { @if event.extra.is_null() { (none()) } @else {
                                    details { summary { "Detail" } (json_block(&event.extra)) }
                                } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(&title, Some(&viewer), body))
}

fn target_ref(object_type: &str, uuid: &str) -> Option<ObjectRef> {
    Some(ObjectRef {
        object_type: object_type.parse::<ObjectType>().ok()?,
        uuid: uuid.parse().ok()?,
    })
}

/// How one op waits for another.
#[derive(Clone, Copy)]
enum Wait {
    DependsOn,
    RunsAfter,
}

/// An op's waits, from its wire form; an entry that is not `{op_type, op_uuid}` is left out.
fn waits(record: &OpRecord) -> Vec<(Wait, Dependency)> {
    let list = |key: &str| -> Vec<Dependency> {
        record
            .wire
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|entry| serde_json::from_value(entry.clone()).ok())
            .collect()
    };
    let depends = list("depends_on").into_iter().map(|d| (Wait::DependsOn, d));
    let after = list("runs_after").into_iter().map(|d| (Wait::RunsAfter, d));
    depends.chain(after).collect()
}

/// An op of the tree, as the viewer may see it.
enum Seen {
    /// As stored.
    Op(Box<OpRecord>),
    /// No longer stored.
    Gone,
    /// It targets objects of a namespace the viewer is not (or none): only `system` sees it, or what it
    /// waits for.
    Hidden,
}

/// One op of the tree: how its parent waits for it, and the op.
struct Node {
    parent: OpId,
    wait: Wait,
    dependency: Dependency,
    seen: Seen,
}

/// The ops `root` waits for, directly or not, breadth first, at most [`MAX_TREE`], each once, as
/// `viewer` may see them.
async fn dependency_tree(
    state: &AppState,
    viewer: &Viewer,
    root: &OpRecord,
) -> Result<Vec<Node>, PageError> {
    let mut seen = HashSet::from([root.op_uuid]);
    let mut nodes: Vec<Node> = Vec::new();
    let mut frontier: Vec<(OpId, Vec<(Wait, Dependency)>)> = vec![(root.op_uuid, waits(root))];
    while let Some((parent, children)) = frontier.pop() {
        for (wait, dependency) in children {
            if nodes.len() >= MAX_TREE || !seen.insert(dependency.op_uuid) {
                continue;
            }
            let seen = match state.store.op_record(dependency.op_uuid).await? {
                None => Seen::Gone,
                Some(record) if !may_see(state, &viewer.0, &record.targets).await? => Seen::Hidden,
                Some(record) => {
                    frontier.insert(0, (record.op_uuid, waits(&record)));
                    Seen::Op(Box::new(record))
                }
            };
            nodes.push(Node {
                parent,
                wait,
                dependency,
                seen,
            });
        }
    }
    Ok(nodes)
}

fn tree_markup(root: &OpRecord, nodes: &[Node]) -> Markup {
    html! {
        ul.chain #chain-tree {
            li {
                (op_link(&root.op_type, root.op_uuid)) " " (state_badge(root.state)) " (this operation)"
                (children(root.op_uuid, nodes))
            }
        }
    }
}

fn wait_name(wait: Wait) -> Markup {
    html! { em { @match wait { Wait::DependsOn => "depends on", Wait::RunsAfter => "runs after" } } }
}

fn children(parent: OpId, nodes: &[Node]) -> Markup {
    let mine: Vec<&Node> = nodes.iter().filter(|node| node.parent == parent).collect();
    html! {
        @if !mine.is_empty() {
            ul {
                @for node in mine {
                        @match &node.seen {
                        Seen::Hidden => li { (wait_name(node.wait)) " " span.none { "an operation of another namespace" } },
                        seen => li data-op=(node.dependency.op_uuid) {
                            (wait_name(node.wait)) " "
                            (op_link(&node.dependency.op_type, node.dependency.op_uuid))
                            " "
                            @match seen {
                                Seen::Op(record) => (state_badge(record.state)),
                                _ => span.none { "no longer stored" },
                            }
                            (children(node.dependency.op_uuid, nodes))
                        },
                    }
                }
            }
        }
    }
}
