//! One object's page: the gate's answer as a busy / idle banner, the ops in flight on it, its latest op,
//! and every op that ever targeted it as a timeline, newest first, a page at a time. The same store calls
//! answer `opsctl pending`, `latest` and `history`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use ops_core::{ObjectRecord, ObjectRef, ObjectType, OpId, OpRecord, OpRef, TargetingOp};
use serde::Deserialize;

use super::PageError;
use super::layout::{self, Section, maybe_time, none, op_link, state_badge};
use super::session::Viewer;
use crate::auth::CLUSTER_OPERATION_READ;
use crate::clusterops::may_see;
use crate::objects::{Deleted, visible_object};
use crate::server::AppState;

/// The object types the dashboard looks up: those with a registry, which ops target.
const LOOKUP_TYPES: [ObjectType; 7] = [
    ObjectType::Network,
    ObjectType::Instance,
    ObjectType::Interface,
    ObjectType::Artifact,
    ObjectType::Blob,
    ObjectType::Node,
    ObjectType::AgentOperation,
];

/// How many ops one page of an object's history shows.
pub(crate) const HISTORY_PAGE: u32 = 50;

/// `GET /dashboard`: find an object by type and uuid (or name).
pub(crate) async fn lookup_page(viewer: Viewer) -> Markup {
    layout::document(
        "Find an object",
        Some(Section::Objects),
        Some(&viewer),
        None,
        lookup_form(None, ""),
    )
}

fn lookup_form(chosen: Option<ObjectType>, reference: &str) -> Markup {
    let chosen = chosen.unwrap_or(ObjectType::Network);
    html! {
        h1 { "Find an object" }
        p { "What is being done to an object, and what was done to it before: its operations in flight, its latest, and its whole history." }
        form.lookup method="get" action="/dashboard/objects" {
            p {
                label for="type" { "Type" }
                select #type name="type" {
                    @for object_type in LOOKUP_TYPES {
                        option value=(object_type.as_str()) selected[object_type == chosen] { (object_type.as_str()) }
                    }
                }
            }
            p {
                label for="ref" { "UUID or name" }
                input #ref name="ref" type="text" required spellcheck="false" value=(reference)
                    placeholder="e.g. 0c6e1f9a-… or a network's name";
            }
            p { button type="submit" { "Show" } }
        }
    }
}

/// `GET /dashboard/objects`'s query.
#[derive(Deserialize)]
pub(crate) struct FindQuery {
    #[serde(rename = "type")]
    object_type: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// `GET /dashboard/objects?type=&ref=`: the object's page, found by its uuid or its name.
pub(crate) async fn find(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<FindQuery>,
) -> Result<Response, PageError> {
    let object_type = lookup_type(query.object_type.as_deref().unwrap_or("network"))?;
    viewer.0.require_scope(&format!("{object_type}.read"))?;
    let reference = query.reference.unwrap_or_default();
    let reference = reference.trim();
    if reference.is_empty() {
        return Ok((
            StatusCode::BAD_REQUEST,
            layout::page(
                "Find an object",
                Some(&viewer),
                lookup_form(Some(object_type), ""),
            ),
        )
            .into_response());
    }
    let record = visible_object(&state, &viewer.0, object_type, reference, Deleted::Found).await?;
    Ok(Redirect::to(&object_path(record.object)).into_response())
}

fn lookup_type(name: &str) -> Result<ObjectType, PageError> {
    name.parse()
        .ok()
        .filter(|object_type| LOOKUP_TYPES.contains(object_type))
        .ok_or_else(|| PageError::not_found(format!("no object type `{name}` to look up")))
}

/// The path of an object's page.
pub(crate) fn object_path(object: ObjectRef) -> String {
    format!("/dashboard/objects/{}/{}", object.object_type, object.uuid)
}

/// `GET /dashboard/objects/<type>/<uuid>`'s query: which page of the history.
#[derive(Deserialize)]
pub(crate) struct HistoryQuery {
    before: Option<i64>,
}

/// What the gate answered.
enum Gate {
    Busy,
    Idle,
    /// The store could not answer: treated as busy.
    Unknown,
}

/// `GET /dashboard/objects/<type>/<uuid>[?before=N]`: the object's page.
pub(crate) async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((object_type, uuid)): Path<(String, String)>,
    Query(query): Query<HistoryQuery>,
) -> Result<Markup, PageError> {
    let object_type = lookup_type(&object_type)?;
    if uuid.parse::<uuid::Uuid>().is_err() {
        return Err(PageError::not_found(format!("{object_type} not found")));
    }
    viewer.0.require_scope(&format!("{object_type}.read"))?;
    viewer.0.require_scope(CLUSTER_OPERATION_READ)?;
    let record = visible_object(&state, &viewer.0, object_type, &uuid, Deleted::Found).await?;
    let object = record.object;
    let store = &state.store;
    // The gate's own question, failing closed: an error is "unknown", which the maintainer treats as busy.
    let gate = match store.has_pending(object).await {
        Ok(true) => Gate::Busy,
        Ok(false) => Gate::Idle,
        Err(error) => {
            tracing::error!(error = %ops_core::ErrorChain(&error), %object, "the gate could not answer");
            Gate::Unknown
        }
    };
    let pending = match store.pending(object).await {
        Ok(pending) => Some(Shown::of(&state, &viewer, &pending).await?),
        Err(error) => {
            tracing::error!(error = %ops_core::ErrorChain(&error), %object, "pending ops unreadable");
            None
        }
    };
    let latest = match store.latest(object).await? {
        Some(latest) => match store.op_record(latest.op_uuid).await? {
            Some(record) if !may_see(&state, &viewer.0, &record.targets).await? => Latest::Hidden,
            _ => Latest::Op(latest),
        },
        None => Latest::None,
    };
    let history = store.history(object, query.before, HISTORY_PAGE).await?;
    let history_shown = Shown::of(&state, &viewer, &history.ops).await?;
    let title = format!("{} {}", object_type, record.name);
    let body = html! {
        h1 { (object_type) " " (record.name) }
        (facts(&record))
        (banner(&gate, pending.as_ref().map(|shown| shown.records.len() + shown.hidden)))
        section aria-labelledby="pending" {
            h2 #pending { "In flight" }
            @match &pending {
                Some(pending) if pending.records.is_empty() && pending.hidden == 0 => p { "No operation is in flight on this " (object_type) "." },
                Some(pending) => {
                    @if !pending.records.is_empty() {
                        (timeline_table("pending-ops", "Operations in flight, oldest first", &pending.records))
                    }
                    (hidden_note(pending.hidden))
                },
                None => p.notice role="alert" { "The operations in flight could not be read (the error is in the server's log)." },
            }
        }
        section aria-labelledby="latest" {
            h2 #latest { "Latest operation" }
            p {
                @match &latest {
                    Latest::Op(latest) => { span #latest-op data-op=(latest.op_uuid) { (op_link(&latest.op_type, latest.op_uuid)) } }
                    Latest::Hidden => { "An operation that also targets another namespace's objects." }
                    Latest::None => { "None: no operation has targeted it." }
                }
                " "
                span.hint { "(Shaken Fist's " code { "last_cluster_operation" } ")" }
            }
        }
        section aria-labelledby="history" {
            h2 #history { "History" }
            @if history_shown.records.is_empty() && history_shown.hidden == 0 {
                p { "No operation has targeted it" @if query.before.is_some() { " before these" } "." }
            } @else if !history_shown.records.is_empty() {
                (timeline_table("history-ops", "Every operation that targeted it, newest first", &history_shown.records))
            }
            (hidden_note(history_shown.hidden))
            nav.pager aria-label="History pages" {
                @if query.before.is_some() {
                    a href=(object_path(object)) { "Newest" }
                }
                @if let Some(next) = history.next_before {
                    a href={ (object_path(object)) "?before=" (next) } rel="next" { "Older operations" }
                }
            }
        }
    };
    Ok(layout::document(
        &title,
        Some(Section::Objects),
        Some(&viewer),
        None,
        body,
    ))
}

/// The latest op, as the viewer may see it.
enum Latest {
    Op(OpRef),
    /// It also targets objects of a namespace the viewer is not.
    Hidden,
    None,
}

/// Ops as a viewer may see them: the records of those it may, and how many it may not (they also target
/// another namespace's objects: as in the API, only `system` sees them).
struct Shown {
    records: Vec<OpRecord>,
    hidden: usize,
}

impl Shown {
    /// `ops`' records, in their order, for `viewer`; an op whose header is gone (hard-deleted) is left out.
    async fn of(
        state: &AppState,
        viewer: &Viewer,
        ops: &[TargetingOp],
    ) -> Result<Shown, PageError> {
        let ids: Vec<OpId> = ops.iter().map(|op| op.op_uuid).collect();
        let records = state.store.op_records(&ids).await?;
        let mut shown = Shown {
            records: Vec::with_capacity(records.len()),
            hidden: 0,
        };
        for record in records {
            if viewer.0.is_system() || may_see(state, &viewer.0, &record.targets).await? {
                shown.records.push(record);
            } else {
                shown.hidden += 1;
            }
        }
        Ok(shown)
    }
}

fn hidden_note(hidden: usize) -> Markup {
    html! {
        @if hidden > 0 {
            p.hint {
                (hidden) " more operation" @if hidden != 1 { "s" }
                ", which also target another namespace's objects, " @if hidden != 1 { "are" } @else { "is" }
                " not shown."
            }
        }
    }
}

fn facts(record: &ObjectRecord) -> Markup {
    html! {
        dl.facts {
            dt { "UUID" } dd.uuid { (record.object.uuid) }
            dt { "Namespace" } dd { (record.namespace) }
            dt { "State" } dd {
                @match record.state {
                    Some(state) => (state.as_str()),
                    None => (none()),
                }
                @if let Some(message) = &record.state_message { " — " (message) }
            }
            dt { "Registered" } dd { (layout::time(record.created_at)) }
            dt { "State changed" } dd { (maybe_time(record.state_updated)) }
        }
    }
}

/// The gate's answer; `pending`: how many ops are in flight, when they could be read.
fn banner(gate: &Gate, pending: Option<usize>) -> Markup {
    html! {
        @match gate {
            Gate::Busy => div #gate .banner.banner-busy role="status" data-gate="busy" {
                strong { "Busy" } " — "
                @match pending {
                    Some(pending) => { (pending) " operation" @if pending != 1 { "s" } " in flight. " },
                    None => { "an operation is in flight. " },
                }
                "The network maintainer leaves it alone until "
                @if pending == Some(1) { "it finishes." } @else { "they finish." }
            },
            Gate::Idle => div #gate .banner.banner-idle role="status" data-gate="idle" {
                strong { "Idle" } " — no operation is in flight on it."
            },
            Gate::Unknown => div #gate .banner.banner-unknown role="status" data-gate="unknown" {
                strong { "Unknown — treated as busy" } ". The store could not say whether an operation is in "
                "flight (the error is in the server's log), so the maintainer leaves it alone."
            },
        }
    }
}

/// A table of ops as a timeline: state, created, started, finished, duration, worker, attempts.
pub(crate) fn timeline_table(id: &str, caption: &str, records: &[OpRecord]) -> Markup {
    html! {
        div.table-wrap role="region" aria-label=(caption) tabindex="0" {
            table #(id) {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Operation" }
                    th scope="col" { "State" }
                    th scope="col" { "Created" }
                    th scope="col" { "Started" }
                    th scope="col" { "Finished" }
                    th.number scope="col" { "Duration" }
                    th scope="col" { "Worker" }
                    th.number scope="col" { "Attempts" }
                } }
                tbody {
                    @for record in records {
                        @let timeline = record.timeline();
                        tr data-op=(record.op_uuid) {
                            th scope="row" { (op_link(&record.op_type, record.op_uuid)) }
                            td { (state_badge(record.state)) }
                            td { (layout::time(record.created_at)) }
                            td { (maybe_time(timeline.started_at)) }
                            td { (maybe_time(timeline.finished_at)) }
                            td.number {
                                @match timeline.duration() {
                                    Some(seconds) => (layout::duration(seconds)),
                                    None => (none()),
                                }
                            }
                            td { @match &timeline.worker { Some(worker) => code { (worker) }, None => (none()) } }
                            td.number { (timeline.attempts) }
                        }
                    }
                }
            }
        }
    }
}
