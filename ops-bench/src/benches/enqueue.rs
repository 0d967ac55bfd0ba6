//! `enqueue_vs_raw`: what the generated builder costs over the physical limit — the same rows written by
//! hand-made INSERTs in one transaction, on the same pool.

use ops_core::Store;
use serde_json::json;
use uuid::Uuid;

use crate::fill::{now, on_pool};
use crate::sample::compare;
use crate::{Bar, BenchError, Outcome, Profile};

/// Interleaved rounds of raw and builder enqueues of a 3-target op; the ratio is builder over raw.
pub(super) async fn vs_raw(store: &Store, profile: &Profile) -> Result<Outcome, BenchError> {
    let comparison = compare(
        profile.warmup,
        profile.rounds,
        profile.per_round,
        |_| raw_enqueue(store),
        |_| builder_enqueue(store),
    )
    .await?;
    let (low, high) = comparison.spread();
    Ok(Outcome::new("enqueue_vs_raw", super::backend(store))
        .ratio(comparison.ratio(), Bar::AtMost(1.15), profile.at_bar_size)
        .figure("ours_median_us", comparison.b.median_us())
        .figure("raw_median_us", comparison.a.median_us())
        .figure("ours_p99_us", comparison.b.p99_us())
        .figure("raw_p99_us", comparison.a.p99_us())
        .figure("round_ratio_min", low)
        .figure("round_ratio_max", high)
        .figure("enqueues_each", comparison.a.len()))
}

/// One hot-plug op through the generated builder.
pub(super) async fn builder_enqueue(store: &Store) -> Result<(), BenchError> {
    crate::sample_ops::three_target_op(store).await.map(|_| ())
}

/// The rows the builder writes for such an op — header, `queued` state, work-queue row, three target
/// rows, the audit event and its five links — as a hand-written transaction would write them: one
/// statement per table, multi-row where there are several rows, values made just before.
async fn raw_enqueue(store: &Store) -> Result<(), BenchError> {
    let failed = |source| BenchError::Sql {
        what: "the hand-written enqueue",
        source,
    };
    let [op, node, instance, network, interface, event] =
        [(); 6].map(|()| Uuid::new_v4().to_string());
    let created_at = now();
    let queue = format!("{node}-clusteroperation-user_waiting");
    let metadata = json!({
        "uuid": op, "version": 1, "priority": "user_waiting", "request_id": null,
        "tasks": ["hot_plug_instance_interface"], "depends_on": [], "runs_after": [],
        "node_uuid": node, "instance_uuid": instance, "network_uuid": network, "interface_uuid": interface,
    })
    .to_string();
    let payload =
        json!({"operation_type": "node_inst_net_iface_op", "operation_uuid": op}).to_string();
    let extra = json!({
        "op_uuid": op, "op_type": "node_inst_net_iface_op", "version": 1, "priority": "user_waiting",
        "request_id": null, "tasks": ["hot_plug_instance_interface"], "depends_on": [], "runs_after": [],
        "node_uuid": node, "instance_uuid": instance, "network_uuid": network, "interface_uuid": interface,
    })
    .to_string();
    let targets = [
        ("instance", instance.as_str()),
        ("network", network.as_str()),
        ("interface", interface.as_str()),
    ];
    let links = [
        ("node_inst_net_iface_op", op.as_str()),
        ("instance", instance.as_str()),
        ("network", network.as_str()),
        ("interface", interface.as_str()),
        ("node", node.as_str()),
    ];
    on_pool!(store, |pool| {
        let mut tx = pool.begin().await.map_err(failed)?;
        let mut header = sqlx::QueryBuilder::new(
            "INSERT INTO cluster_operations (uuid, operation_type, version, created_at, node_uuid, \
             instance_uuid, network_uuid, priority, queue_name, request_id, metadata_json, coalesce_key) ",
        );
        header.push_values([()], |mut row, ()| {
            row.push_bind(op.as_str())
                .push_bind("node_inst_net_iface_op")
                .push_bind(1_i64)
                .push_bind(created_at)
                .push_bind(node.as_str())
                .push_bind(instance.as_str())
                .push_bind(network.as_str())
                .push_bind("user_waiting")
                .push_bind(queue.as_str())
                .push_bind(None::<&str>)
                .push_bind(metadata.as_str())
                .push_bind(None::<&str>);
        });
        header.build().execute(&mut *tx).await.map_err(failed)?;
        let mut state = sqlx::QueryBuilder::new(
            "INSERT INTO object_states (object_type, object_uuid, state_value, update_time, message) ",
        );
        state.push_values([()], |mut row, ()| {
            row.push_bind("node_inst_net_iface_op")
                .push_bind(op.as_str())
                .push_bind("queued")
                .push_bind(created_at)
                .push_bind(None::<&str>);
        });
        state.build().execute(&mut *tx).await.map_err(failed)?;
        let mut work = sqlx::QueryBuilder::new(
            "INSERT INTO work_queue (queue_name, scheduled_at, claimed_at, claimed_by, attempts, payload, \
             created_at, operation_uuid, operation_type, priority) ",
        );
        work.push_values([()], |mut row, ()| {
            row.push_bind(queue.as_str())
                .push_bind(created_at)
                .push_bind(None::<f64>)
                .push_bind(None::<&str>)
                .push_bind(0_i64)
                .push_bind(payload.as_str())
                .push_bind(created_at)
                .push_bind(op.as_str())
                .push_bind("node_inst_net_iface_op")
                .push_bind(0_i64);
        });
        work.build().execute(&mut *tx).await.map_err(failed)?;
        let mut rows = sqlx::QueryBuilder::new(
            "INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, \
             target_uuid, created_at) ",
        );
        rows.push_values(targets, |mut row, (object_type, uuid)| {
            row.push_bind(op.as_str())
                .push_bind("node_inst_net_iface_op")
                .push_bind(object_type)
                .push_bind(uuid)
                .push_bind(created_at);
        });
        rows.build().execute(&mut *tx).await.map_err(failed)?;
        let mut audit = sqlx::QueryBuilder::new(
            "INSERT INTO events (event_uuid, event_type, timestamp, fqdn, duration, message, extra, \
             request_id) ",
        );
        audit.push_values([()], |mut row, ()| {
            row.push_bind(event.as_str())
                .push_bind("audit")
                .push_bind(created_at)
                .push_bind("bench")
                .push_bind(None::<f64>)
                .push_bind("node_inst_net_iface_op operation created with tasks hot_plug_instance_interface")
                .push_bind(extra.as_str())
                .push_bind(None::<&str>);
        });
        audit.build().execute(&mut *tx).await.map_err(failed)?;
        let mut linked = sqlx::QueryBuilder::new(
            "INSERT INTO event_objects (object_type, object_uuid, event_uuid) ",
        );
        linked.push_values(links, |mut row, (object_type, uuid)| {
            row.push_bind(object_type)
                .push_bind(uuid)
                .push_bind(event.as_str());
        });
        linked.build().execute(&mut *tx).await.map_err(failed)?;
        tx.commit().await.map_err(failed)?;
    });
    Ok(())
}
