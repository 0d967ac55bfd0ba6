//! The retention prune on every backend, over 100,000 ops written the way a long-lived fleet leaves them:
//! it removes exactly what the policy says, keeps every in-flight op's targets and every object's latest
//! op, and a dry run counts the same without deleting.

use std::time::Duration;

mod support;

use ops_core::{NetworkId, ObjectRef, OpState, PrunePolicy};
use ops_testkit::{TestDb, backend_tests};
use support::enqueue_net_op;
use uuid::Uuid;

const OPS: usize = 100_000;
/// Ops `0..OLD` were enqueued 30 days ago, the rest within the last hour.
const OLD: usize = 90_000;
const OBJECTS: usize = 1_000;

/// The fleet: which object op `i` targets, and what became of it.
fn object_of(i: usize) -> usize {
    // Recent ops touch only the first half of the objects: the other half's latest op is old.
    if i < OLD {
        i % OBJECTS
    } else {
        i % (OBJECTS / 2)
    }
}

fn state_of(i: usize) -> &'static str {
    if i.is_multiple_of(20) {
        "queued"
    } else if i.is_multiple_of(3) {
        "error"
    } else {
        "complete"
    }
}

struct Fleet {
    ops: Vec<Uuid>,
    objects: Vec<Uuid>,
}

/// Writes the fleet's headers, states and target rows straight into the tables, 1,000 rows a statement.
async fn write_fleet(db: &TestDb) -> Fleet {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs_f64();
    let fleet = Fleet {
        ops: (0..OPS).map(|_| Uuid::new_v4()).collect(),
        objects: (0..OBJECTS).map(|_| Uuid::new_v4()).collect(),
    };
    let created = |i: usize| {
        if i < OLD {
            now - 30.0 * 86_400.0 + i as f64 * 0.01
        } else {
            now - 3_600.0 + (i - OLD) as f64 * 0.01
        }
    };
    for start in (0..OPS).step_by(1_000) {
        let rows = start..start + 1_000;
        let headers: Vec<String> = rows
            .clone()
            .map(|i| {
                format!(
                    "('{}', 'net_op', 3, {}, '{}', 'background', 'networknode-clusteroperation-background', '{{}}')",
                    fleet.ops[i], created(i), fleet.objects[object_of(i)]
                )
            })
            .collect();
        let states: Vec<String> = rows
            .clone()
            .map(|i| {
                format!(
                    "('net_op', '{}', '{}', {})",
                    fleet.ops[i],
                    state_of(i),
                    created(i)
                )
            })
            .collect();
        let targets: Vec<String> = rows
            .map(|i| {
                format!(
                    "('{}', 'net_op', 'network', '{}', {})",
                    fleet.ops[i],
                    fleet.objects[object_of(i)],
                    created(i)
                )
            })
            .collect();
        db.execute(&format!(
            "INSERT INTO cluster_operations (uuid, operation_type, version, created_at, network_uuid, priority, \
             queue_name, metadata_json) VALUES {}; \
             INSERT INTO object_states (object_type, object_uuid, state_value, update_time) VALUES {}; \
             INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, target_uuid, \
             created_at) VALUES {};",
            headers.join(", "),
            states.join(", "),
            targets.join(", ")
        ))
        .await;
    }
    fleet
}

fn network(fleet: &Fleet, object: usize) -> ObjectRef {
    NetworkId::from(fleet.objects[object]).into()
}

/// Writes `count` finished `net_op`s a year old over `networks`, with their headers, states and target rows.
async fn write_old_finished(db: &TestDb, count: usize, networks: &[Uuid]) {
    let year_ago = 1_700_000_000.0;
    let ops: Vec<(Uuid, Uuid)> = (0..count)
        .map(|i| (Uuid::new_v4(), networks[i % networks.len()]))
        .collect();
    let values =
        |row: &dyn Fn(&(Uuid, Uuid)) -> String| ops.iter().map(row).collect::<Vec<_>>().join(", ");
    db.execute(&format!(
        "INSERT INTO cluster_operations (uuid, operation_type, version, created_at, network_uuid, priority, \
         queue_name, metadata_json) VALUES {}; \
         INSERT INTO object_states (object_type, object_uuid, state_value, update_time) VALUES {}; \
         INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, target_uuid, \
         created_at) VALUES {};",
        values(&|(op, network)| format!(
            "('{op}', 'net_op', 3, {year_ago}, '{network}', 'background', 'networknode-clusteroperation-background', '{{}}')"
        )),
        values(&|(op, _)| format!("('net_op', '{op}', 'complete', {year_ago})")),
        values(&|(op, network)| format!("('{op}', 'net_op', 'network', '{network}', {year_ago})")),
    ))
    .await;
}

/// The prune's deletes of finished ops stay key probes beside a queue backlog that the statistics have
/// not seen (gathered when the queue was empty, as a young database's are, or autovacuum is off):
/// PostgreSQL priced the queue rows of 25 ops at a few percent of the table and scanned the whole work
/// queue for each chunk of deletes.
#[tokio::test]
async fn postgres_prune_never_scans_the_work_queue_backlog() {
    ops_testkit::run_on(ops_testkit::Backend::Postgres, |db| async move {
        db.migrated_store().await.close().await;
        db.execute("ANALYZE work_queue").await;
        db.execute(
            "INSERT INTO work_queue (queue_name, scheduled_at, payload, created_at, operation_uuid, operation_type) \
             SELECT 'networknode-clusteroperation-background', 0, '{}', 0, gen_random_uuid()::text, 'net_op' \
             FROM generate_series(1, 20000)",
        )
        .await;
        write_old_finished(&db, 200, &[Uuid::new_v4(), Uuid::new_v4()]).await;
        let before = db.settled_table_counter("work_queue", "seq_scan").await;
        let store = db.store().await;
        let report = store.prune(&PrunePolicy::new(Duration::from_secs(86_400))).await.unwrap();
        assert!(report.ops > 0, "{report:?}");
        store.close().await;
        assert_eq!(db.settled_table_counter("work_queue", "seq_scan").await, before, "{report:?}");
        db
    })
    .await;
}

backend_tests! {
    /// A prune beside enqueuers: on MariaDB its deletes and their inserts deadlock now and then (InnoDB's
    /// gap locks); each batch is retried as an enqueue is, so neither side sees the deadlock.
    async fn a_prune_beside_enqueuers_retries_what_it_loses_to_them(db: &TestDb) {
        let store = db.migrated_store().await;
        let networks: Vec<Uuid> = (0..20).map(|_| Uuid::new_v4()).collect();
        for _ in 0..3 {
            write_old_finished(db, 1_000, &networks).await;
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let enqueuers: Vec<_> = (0..2)
                .map(|_| {
                    let (store, stop, networks) = (store.clone(), stop.clone(), networks.clone());
                    tokio::spawn(async move {
                        let mut i = 0;
                        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                            enqueue_net_op(&store, NetworkId::from(networks[i % networks.len()])).await;
                            i += 1;
                        }
                    })
                })
                .collect();
            let pruned = store.prune(&PrunePolicy::new(Duration::from_secs(86_400)).batch_size(50)).await;
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            for enqueuer in enqueuers {
                enqueuer.await.unwrap();
            }
            let report = pruned.unwrap_or_else(|e| panic!("{}", ops_core::ErrorChain(&e)));
            assert!(report.target_rows >= 980, "{report:?}");
        }
    }

    async fn a_prune_over_a_hundred_thousand_ops_removes_only_what_the_policy_says(db: &TestDb) {
        let store = db.migrated_store().await;
        let fleet = write_fleet(db).await;
        assert_eq!(db.count("in_flight_targets").await, 5_000);
        // Kept: the 10,000 recent rows, the 4,500 old in-flight ones, and the old latest row of each of
        // the 500 objects no recent op touched (25 of which are in flight already).
        let kept = (OPS - OLD) + 4_500 + 475;
        let removed = (OPS - kept) as u64;
        let policy = PrunePolicy::new(Duration::from_secs(7 * 86_400)).batch_size(2_000);

        let dry = store.prune(&policy.dry_run(true)).await.unwrap();
        assert_eq!((dry.target_rows, dry.ops, dry.dry_run), (removed, removed, true), "{dry:?}");
        // Every target row examined once, however many windows it took, and every op old enough to go:
        // the walk over ops ends at the cutoff, before the 10,000 recent ones.
        let examined = (OPS + OLD) as u64;
        assert_eq!((dry.examined, dry.to_examine), (examined, examined), "{dry:?}");
        assert_eq!(db.count("cluster_operation_targets").await, OPS as i64);

        let mut batches = 0;
        let report = store.prune_with_progress(&policy, |_| batches += 1).await.unwrap();
        assert_eq!((report.target_rows, report.ops), (removed, removed), "{report:?}");
        assert_eq!(report.batches, batches);
        assert!(batches >= 2 * removed / 2_000, "{batches} batches");
        assert_eq!(db.count("cluster_operation_targets").await, kept as i64);
        assert_eq!(db.count("cluster_operations").await, kept as i64);
        assert_eq!(db.count("object_states").await, kept as i64);

        // Every in-flight op keeps its target and its gate answer.
        assert_eq!(db.count("in_flight_targets").await, 5_000);
        let in_flight_targets = db
            .count(
                "cluster_operation_targets t JOIN object_states s ON s.object_type = t.operation_type \
                 AND s.object_uuid = t.operation_uuid WHERE s.state_value = 'queued'",
            )
            .await;
        assert_eq!(in_flight_targets, 5_000);
        assert!(store.has_pending(network(&fleet, 0)).await.unwrap());
        // Every object keeps its latest op: the old one, for objects no recent op touched.
        for object in [500, 501, 777, 999] {
            let latest = store.latest(network(&fleet, object)).await.unwrap().unwrap();
            assert_eq!(latest.op_uuid.as_uuid(), fleet.ops[89_000 + object]);
            assert!(store.op_record(latest.op_uuid).await.unwrap().is_some(), "the latest op keeps its header");
        }
        for object in [0, 499] {
            let latest = store.latest(network(&fleet, object)).await.unwrap().unwrap();
            let newest = (OLD..OPS).rev().find(|&i| object_of(i) == object).unwrap();
            assert_eq!(latest.op_uuid.as_uuid(), fleet.ops[newest]);
        }
        // An old finished op that was no object's latest is gone whole.
        assert!(store.op_record(fleet.ops[1].into()).await.unwrap().is_none());

        // Nothing is left to prune.
        let again = store.prune(&policy).await.unwrap();
        assert_eq!((again.target_rows, again.ops), (0, 0), "{again:?}");
    }

    /// Shaken Fist's sweep: finished ops past the grace go whole, target rows included; `error` stays.
    async fn the_sweep_hard_deletes_finished_ops_past_the_grace(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        let mut ops = Vec::new();
        for end in [OpState::Complete, OpState::Abort, OpState::Error, OpState::Complete] {
            let op = enqueue_net_op(&store, network).await;
            store.transition(op, OpState::Executing, None).await.unwrap();
            store.transition(op, end, None).await.unwrap();
            ops.push(op);
        }
        let in_flight = enqueue_net_op(&store, network).await;
        // The first three ended a minute ago; the last just now.
        for op in &ops[..3] {
            db.execute(&format!("UPDATE object_states SET update_time = update_time - 60 WHERE object_uuid = '{op}'")).await;
        }
        let deleted = store.hard_delete_finished_ops(ops_core::store::HARD_DELETE_GRACE, 100).await.unwrap();
        assert_eq!(deleted, 2);
        for (op, kept) in ops.iter().zip([false, false, true, true]) {
            assert_eq!(store.op_record(*op).await.unwrap().is_some(), kept, "{op}");
        }
        assert!(store.op_record(in_flight).await.unwrap().is_some());
        assert_eq!(db.count("cluster_operation_targets").await, 3);
        assert_eq!(store.latest(network).await.unwrap().unwrap().op_uuid, in_flight);
    }

    /// Ops created at one instant (an import, a clock's resolution) are each walked once, across as many
    /// windows as they fill: the walk's cursor breaks creation-time ties by uuid.
    async fn ops_created_at_one_instant_are_each_pruned_once(db: &TestDb) {
        let store = db.migrated_store().await;
        let networks = [Uuid::new_v4(), Uuid::new_v4()];
        write_old_finished(db, 250, &networks).await;
        let policy = PrunePolicy::new(Duration::from_secs(86_400)).batch_size(100);
        let report = store.prune(&policy).await.unwrap();
        // Each network's newest row stays, and its op with it.
        assert_eq!((report.target_rows, report.ops), (248, 248), "{report:?}");
        assert_eq!((report.examined, report.to_examine), (500, 500), "{report:?}");
        assert_eq!(db.count("cluster_operations").await, 2);
    }

    async fn a_zero_retention_disables_the_prune(db: &TestDb) {
        let store = db.migrated_store().await;
        db.execute(&format!(
            "INSERT INTO cluster_operation_targets (operation_uuid, operation_type, target_object_type, target_uuid, \
             created_at) VALUES ('{}', 'net_op', 'network', '{}', 0), ('{}', 'net_op', 'network', '{}', 1)",
            Uuid::new_v4(), Uuid::nil(), Uuid::new_v4(), Uuid::nil()
        ))
        .await;
        let report = store.prune(&PrunePolicy::new(Duration::ZERO)).await.unwrap();
        assert!(report.disabled);
        assert_eq!(db.count("cluster_operation_targets").await, 2);
        // With a retention, the older of the two goes: the newer is the object's latest.
        let report = store.prune(&PrunePolicy::new(Duration::from_secs(1))).await.unwrap();
        assert_eq!(report.target_rows, 1);
        assert_eq!(db.count("cluster_operation_targets WHERE created_at = 1").await, 1);
    }

    /// Maintainer pass records older than the retention go with their links, in batches; newer ones, and
    /// a node's other events, stay. A dry run counts the same and deletes nothing.
    async fn old_maintainer_pass_records_are_pruned(db: &TestDb) {
        let store = db.migrated_store().await;
        let node = ops_core::NodeId::new_v4();
        let object = ObjectRef::from(node);
        let record = serde_json::json!({"maintainer": {"role": "network_node", "node": node}, "networks": 1});
        // Two passes and an audit line written ten days ago (their ids made then, as the store makes
        // them), and a pass of now.
        let ten_days_ago = std::time::SystemTime::now() - Duration::from_secs(10 * 24 * 3600);
        let since_epoch = ten_days_ago.duration_since(std::time::UNIX_EPOCH).unwrap();
        let mut old = Vec::new();
        for (event_type, message) in [
            ("status", ops_core::network::MAINTENANCE_PASS),
            ("audit", "network queue depth 60 exceeds 50; skipping maintenance"),
            ("status", ops_core::network::MAINTENANCE_PASS),
        ] {
            let id = Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, since_epoch.as_secs(), old.len() as u32 * 1_000_000)).to_string();
            db.execute(&format!(
                "INSERT INTO events (event_uuid, event_type, timestamp, fqdn, duration, message, extra, request_id) \
                 VALUES ('{id}', '{event_type}', {}, 'host', NULL, '{message}', '{record}', NULL); \
                 INSERT INTO event_objects (object_type, object_uuid, event_uuid) VALUES ('node', '{node}', '{id}')",
                since_epoch.as_secs_f64()
            )).await;
            old.push(id);
        }
        let audit = old[1].clone();
        store.record_object_event(object, "status", ops_core::network::MAINTENANCE_PASS, record.clone()).await.unwrap();
        let kept = db.strings(&format!("SELECT MAX(event_uuid) FROM event_objects WHERE object_uuid = '{node}'")).await[0].clone().unwrap();

        let policy = PrunePolicy::new(Duration::from_secs(7 * 24 * 3600)).batch_size(1);
        let dry = store.prune(&policy.dry_run(true)).await.unwrap();
        assert_eq!((dry.maintainer_passes, dry.to_examine), (2, 2), "{dry:?}");
        assert_eq!(db.count(&format!("event_objects WHERE object_uuid = '{node}'")).await, 4);
        let report = store.prune(&policy).await.unwrap();
        assert_eq!((report.maintainer_passes, report.examined, report.batches), (2, 2, 2), "{report:?}");
        let left = db.strings(&format!(
            "SELECT event_uuid FROM event_objects WHERE object_uuid = '{node}' ORDER BY event_uuid"
        )).await;
        assert_eq!(left, [Some(audit.clone()), Some(kept.clone())]);
        assert_eq!(db.count(&format!("events WHERE event_uuid IN ('{kept}', '{audit}')")).await, 2);
        assert_eq!(db.count("events WHERE event_type = 'status'").await, 1);
        let latest = store.latest_maintainer_passes(0.0).await.unwrap();
        assert_eq!((latest.len(), latest[0].node), (1, node));
    }
}
