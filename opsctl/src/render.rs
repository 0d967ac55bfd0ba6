//! Human-readable output: short sentences and aligned tables.

use std::fmt::Write;
use std::time::{Duration, UNIX_EPOCH};

use ops_core::{HistoryPage, MigrationReport, ObjectRef, OpRecord, OpRef, TargetingOp};

pub(crate) fn migrated(report: &MigrationReport) -> String {
    let now = report.current;
    let mut line = match report.previous {
        Some(before) if before == now => format!("schema already at version {now}"),
        Some(before) => format!("schema upgraded from version {before} to {now}"),
        None => format!("schema created at version {now}"),
    };
    if let Some(version) = report.resumed {
        line += &format!("; finished migration {version}, which an earlier run left half-applied");
    }
    if let Some(backfill) = report.backfill {
        line += &format!(
            "; legacy pointers: {} found, {} backfilled as target rows, {} skipped (they named no operation)",
            backfill.pointers, backfill.backfilled, backfill.skipped
        );
    }
    line
}

pub(crate) fn latest(target: ObjectRef, latest: Option<&OpRef>) -> String {
    match latest {
        Some(op) => format!(
            "{target}: last cluster operation {} {}",
            op.op_type, op.op_uuid
        ),
        None => format!("{target}: no cluster operation has targeted it"),
    }
}

/// An external view as `field: value` lines, by field name; `last_cluster_operation` as
/// `type uuid`, and null as `-`.
pub(crate) fn view(object: ObjectRef, view: &serde_json::Value) -> String {
    let mut out = format!("{object}\n");
    let Some(fields) = view.as_object() else {
        return out;
    };
    let width = fields.keys().map(String::len).max().unwrap_or(0);
    for (field, value) in fields {
        let value = match value {
            serde_json::Value::Null => "-".to_owned(),
            serde_json::Value::String(text) => text.clone(),
            serde_json::Value::Object(op) => match (op.get("op_type"), op.get("op_uuid")) {
                (
                    Some(serde_json::Value::String(op_type)),
                    Some(serde_json::Value::String(op_uuid)),
                ) => {
                    format!("{op_type} {op_uuid}")
                }
                _ => value.to_string(),
            },
            other => other.to_string(),
        };
        let _ = writeln!(out, "  {field:<width$}  {value}");
    }
    out
}

/// "1 operation", "2 operations".
fn operations(count: usize) -> String {
    if count == 1 {
        "1 operation".to_owned()
    } else {
        format!("{count} operations")
    }
}

pub(crate) fn pending(target: ObjectRef, ops: &[TargetingOp]) -> String {
    if ops.is_empty() {
        return format!("{target}: no operation in flight\n");
    }
    format!(
        "{target}: {} in flight\n{}",
        operations(ops.len()),
        table(ops)
    )
}

pub(crate) fn history(target: ObjectRef, page: &HistoryPage) -> String {
    if page.ops.is_empty() {
        return format!("{target}: no operation has targeted it\n");
    }
    let mut out = format!(
        "{target}: {}, newest first\n{}",
        operations(page.ops.len()),
        table(&page.ops)
    );
    if let Some(before) = page.next_before {
        let _ = writeln!(out, "more: --before {before}");
    }
    out
}

pub(crate) fn op_record(op: &OpRecord) -> String {
    let mut out = String::new();
    let state = op
        .state
        .map_or("(no state row)".to_owned(), |s| s.to_string());
    let _ = writeln!(
        out,
        "{} {} (version {})",
        op.op_type, op.op_uuid, op.version
    );
    let _ = writeln!(
        out,
        "state:    {state}{}",
        op.state_message
            .as_deref()
            .map(|m| format!(" ({m})"))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "priority: {}", op.priority);
    let _ = writeln!(out, "queue:    {}", op.queue_name);
    let _ = writeln!(out, "created:  {}", timestamp(op.created_at));
    if let Some(request_id) = &op.request_id {
        let _ = writeln!(out, "request:  {request_id}");
    }
    let _ = writeln!(out, "targets:");
    for target in &op.targets {
        let _ = writeln!(
            out,
            "  {:<6} {} {}",
            target.sequence_number, target.object_type, target.uuid
        );
    }
    if op.targets.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    let _ = writeln!(out, "events:");
    for event in &op.events {
        let _ = writeln!(
            out,
            "  {}  {:<6} {}",
            timestamp(event.timestamp),
            event.event_type,
            event.summary()
        );
    }
    let _ = writeln!(out, "wire form:");
    let wire = serde_json::to_string_pretty(&op.wire).unwrap_or_default();
    for line in wire.lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// A prune's counts, as the progress line and the summary say them.
pub(crate) fn pruned(report: &ops_core::PruneReport) -> String {
    if report.disabled {
        return "prune disabled: the retention is 0".to_owned();
    }
    let verb = if report.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    let batches = match report.batches {
        1 => "1 batch".to_owned(),
        n => format!("{n} batches"),
    };
    let what = match report.maintainer_passes {
        0 => format!(
            "{} target rows and {} finished operations",
            report.target_rows, report.ops
        ),
        passes => format!(
            "{} target rows, {} finished operations and {passes} maintainer pass records",
            report.target_rows, report.ops
        ),
    };
    format!(
        "{verb} {what} ({} rows examined in {batches})",
        report.examined
    )
}

fn table(ops: &[TargetingOp]) -> String {
    let rows: Vec<[String; 5]> = ops
        .iter()
        .map(|op| {
            [
                op.sequence_number.to_string(),
                op.op_type.clone(),
                op.op_uuid.to_string(),
                op.state.map_or("(gone)".to_owned(), |s| s.to_string()),
                timestamp(op.created_at),
            ]
        })
        .collect();
    let header = ["SEQ", "OP TYPE", "OP UUID", "STATE", "CREATED"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

fn timestamp(unix_seconds: f64) -> String {
    let time = UNIX_EPOCH + Duration::from_secs_f64(unix_seconds.max(0.0));
    humantime::format_rfc3339_seconds(time).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(timestamp(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_700_000_000.4), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn migrate_messages_say_what_changed() {
        let report = |previous, applied: &[i64], backfill| MigrationReport {
            previous,
            current: 4,
            applied: applied.to_vec(),
            backfill,
            resumed: None,
        };
        assert_eq!(
            migrated(&report(None, &[1, 2, 3, 4], None)),
            "schema created at version 4"
        );
        assert_eq!(
            migrated(&report(Some(2), &[3, 4], None)),
            "schema upgraded from version 2 to 4"
        );
        assert_eq!(
            migrated(&report(Some(4), &[], None)),
            "schema already at version 4"
        );
        let backfill = ops_core::BackfillReport {
            pointers: 40_000,
            backfilled: 39_997,
            skipped: 3,
        };
        assert_eq!(
            migrated(&report(Some(1), &[2, 3, 4], Some(backfill))),
            "schema upgraded from version 1 to 4; legacy pointers: 40000 found, 39997 backfilled as target rows, \
             3 skipped (they named no operation)"
        );
        let resumed = MigrationReport {
            resumed: Some(2),
            ..report(Some(1), &[2, 3, 4], None)
        };
        assert_eq!(
            migrated(&resumed),
            "schema upgraded from version 1 to 4; finished migration 2, which an earlier run left half-applied"
        );
    }
}
