//! The migration story on every backend: a legacy schema-1 database with pointers upgrades to the head
//! schema with every object's latest op unchanged; unknown and half-applied schemas are refused.

mod support;

use ops_core::worker::{OpError, Worker};
use ops_core::{
    ArtifactId, BackfillReport, InstanceId, NetworkId, ObjectId, ObjectRef, OpId, OpRef, OpState,
    QueueTarget, StoreError, StoreOptions,
};
use ops_testkit::{Backend, TestDb, backend_tests};
use support::NodeInstNetIfaceOp;

/// One legacy op: header and state row, as the schema-1 store wrote them.
fn legacy_op(op_type: &str, op: OpId, created_at: f64, state: &str) -> String {
    format!(
        "INSERT INTO cluster_operations (uuid, operation_type, version, created_at, priority, queue_name, metadata_json) \
         VALUES ('{op}', '{op_type}', 1, {created_at}, 'background', 'any-clusteroperation-background', '{{}}'); \
         INSERT INTO object_states (object_type, object_uuid, state_value, update_time) \
         VALUES ('{op_type}', '{op}', '{state}', {created_at});"
    )
}

/// One legacy object with its pointer column as given (`None` for NULL).
fn legacy_pointer(object: ObjectRef, pointer: Option<&str>) -> String {
    legacy_pointers(&[(object, pointer.map(str::to_owned))])
}

async fn insert_migration_row(db: &TestDb, version: i64, success: bool) {
    let checksum = match db.backend() {
        Backend::Postgres => "'\\x00'::bytea",
        Backend::Sqlite | Backend::MariaDb => "X'00'",
    };
    let success = match (db.backend(), success) {
        (Backend::Postgres, true) => "TRUE",
        (Backend::Postgres, false) => "FALSE",
        (_, true) => "1",
        (_, false) => "0",
    };
    db.execute(&format!(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ({version}, 'test', {success}, {checksum}, 0)"
    ))
    .await;
}

/// The pointers a long-lived fleet holds beside the valid ones, none of which names an op.
fn junk_pointers(valid: OpId) -> Vec<Option<String>> {
    let upper_braced = format!("{{{}}}", valid.to_string().to_uppercase());
    let long_type = "x".repeat(65);
    vec![
        None,
        Some("{}".to_owned()),
        Some("null".to_owned()),
        Some("not json".to_owned()),
        Some(r#"["net_op"]"#.to_owned()),
        Some(r#""just text""#.to_owned()),
        Some(r#"{"op_type": "net_op"}"#.to_owned()),
        Some(r#"{"op_type": "net_op", "op_uuid": null}"#.to_owned()),
        Some(r#"{"op_type": "net_op", "op_uuid": 12345}"#.to_owned()),
        Some(format!(
            r#"{{"op_type": "net_op", "op_uuid": "{valid}-and-a-tail-longer-than-the-column"}}"#
        )),
        Some(format!(
            r#"{{"op_type": "net_op", "op_uuid": "{upper_braced}"}}"#
        )),
        Some(
            r#"{"op_type": "net_op", "op_uuid": "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"}"#
                .to_owned(),
        ),
        Some(format!(r#"{{"op_type": 7, "op_uuid": "{valid}"}}"#)),
        Some(format!(r#"{{"op_type": "", "op_uuid": "{valid}"}}"#)),
        Some(format!(
            r#"{{"op_type": "{long_type}", "op_uuid": "{valid}"}}"#
        )),
    ]
}

/// `INSERT INTO object_metadata` of many objects in one statement.
fn legacy_pointers(rows: &[(ObjectRef, Option<String>)]) -> String {
    let values: Vec<String> = rows
        .iter()
        .map(|(object, pointer)| {
            let pointer = pointer
                .as_deref()
                .map_or("NULL".to_owned(), |p| format!("'{p}'"));
            format!(
                "('{}', '{}', '{{}}', {pointer})",
                object.object_type, object.uuid
            )
        })
        .collect();
    format!(
        "INSERT INTO object_metadata (object_type, object_uuid, metadata_json, last_cluster_operation_json) VALUES {};",
        values.join(", ")
    )
}

backend_tests! {
    async fn a_fleets_pointers_of_every_kind_upgrade_and_junk_is_skipped(db: &TestDb) {
        // Thousands of valid pointers, some written upper case or without dashes (Shaken Fist's mix), and
        // every kind of junk a long-lived fleet holds: the upgrade neither fails nor backfills junk.
        let store = db.store().await;
        store.migrate_to(1).await.unwrap();
        let mut rows: Vec<(ObjectRef, Option<String>)> = Vec::new();
        let mut expected: Vec<(ObjectRef, Option<OpRef>)> = Vec::new();
        for i in 0..2_000 {
            let object = NetworkId::new_v4().object_ref();
            let op = OpId::new_v4();
            let written = match i % 4 {
                0 => op.to_string().to_uppercase(),
                1 => op.as_uuid().simple().to_string(),
                2 => op.as_uuid().simple().to_string().to_uppercase(),
                _ => op.to_string(),
            };
            rows.push((object, Some(format!(r#"{{"op_type": "net_op", "op_uuid": "{written}"}}"#))));
            expected.push((object, Some(OpRef { op_type: "net_op".to_owned(), op_uuid: op })));
        }
        for _ in 0..40 {
            for pointer in junk_pointers(OpId::new_v4()) {
                let object = InstanceId::new_v4().object_ref();
                rows.push((object, pointer));
                expected.push((object, None));
            }
        }
        for chunk in rows.chunks(500) {
            db.execute(&legacy_pointers(chunk)).await;
        }

        // The report counts in the same run: 2,000 valid, 14 kinds of non-NULL junk x 40 skipped.
        let report = store.migrate().await.unwrap();
        assert_eq!((report.previous, report.current, report.applied.as_slice()), (Some(1), 12, &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12][..]));
        assert_eq!(report.backfill, Some(BackfillReport { pointers: 2_560, backfilled: 2_000, skipped: 560 }));
        store.require_current_schema().await.unwrap();
        assert_eq!(db.count("cluster_operation_targets").await, 2_000);
        for (object, latest) in &expected {
            assert_eq!(&store.latest(*object).await.unwrap(), latest, "{object}");
            let history = store.history(*object, None, 10).await.unwrap();
            assert_eq!(history.ops.len(), usize::from(latest.is_some()), "{object}");
            assert!(store.pending(*object).await.unwrap().is_empty(), "{object}");
        }
    }

    /// A years-old fleet's scale: 100,000 valid pointers on instances, networks and artifacts, written in
    /// Shaken Fist's mix of cases and dash styles, beside 1,400 junk ones. Every valid pointer becomes its
    /// object's one target row — counted, and joined back to its object — and a sample reads back as the
    /// object's latest op.
    async fn a_hundred_thousand_pointers_upgrade_with_every_valid_one_kept(db: &TestDb) {
        let store = db.store().await;
        store.migrate_to(1).await.unwrap();
        let mut rows: Vec<(ObjectRef, Option<String>)> = Vec::with_capacity(101_400);
        let mut sample: Vec<(ObjectRef, OpRef)> = Vec::new();
        for i in 0..100_000 {
            let (object, op_type) = match i % 3 {
                0 => (InstanceId::new_v4().object_ref(), "instance_op"),
                1 => (NetworkId::new_v4().object_ref(), "net_op"),
                _ => (ArtifactId::new_v4().object_ref(), "artifact_fetch_op"),
            };
            let op = OpId::new_v4();
            let written = match i % 4 {
                0 => op.to_string().to_uppercase(),
                1 => op.as_uuid().simple().to_string(),
                _ => op.to_string(),
            };
            rows.push((object, Some(format!(r#"{{"op_type": "{op_type}", "op_uuid": "{written}"}}"#))));
            if i % 50 == 0 {
                sample.push((object, OpRef { op_type: op_type.to_owned(), op_uuid: op }));
            }
        }
        for _ in 0..100 {
            for pointer in junk_pointers(OpId::new_v4()) {
                rows.push((InstanceId::new_v4().object_ref(), pointer));
            }
        }
        for chunk in rows.chunks(1_000) {
            db.execute(&legacy_pointers(chunk)).await;
        }
        let started = std::time::Instant::now();
        let report = store.migrate().await.unwrap();
        eprintln!("{:?}: 101,400 pointers upgraded in {:.1} s", db.backend(), started.elapsed().as_secs_f64());
        assert_eq!(report.backfill, Some(BackfillReport { pointers: 101_400, backfilled: 100_000, skipped: 1_400 }));
        assert_eq!(db.count("cluster_operation_targets").await, 100_000);
        assert_eq!(
            db.count(
                "cluster_operation_targets t JOIN object_metadata m \
                 ON m.object_type = t.target_object_type AND m.object_uuid = t.target_uuid"
            )
            .await,
            100_000
        );
        for (object, latest) in &sample {
            assert_eq!(store.latest(*object).await.unwrap().as_ref(), Some(latest), "{object}");
        }
    }

    async fn a_backfill_that_failed_midway_is_finished_by_the_next_migrate(db: &TestDb) {
        // Fail migration 2 in its backfill: its table already exists (as an interrupted run on MariaDB, whose
        // DDL commits as it goes, leaves it) and refuses inserts, once.
        let store = db.store().await;
        store.migrate_to(1).await.unwrap();
        let objects: Vec<(ObjectRef, OpId)> = (0..50).map(|_| (NetworkId::new_v4().object_ref(), OpId::new_v4())).collect();
        let rows: Vec<(ObjectRef, Option<String>)> = objects
            .iter()
            .map(|(object, op)| (*object, Some(format!(r#"{{"op_type": "net_op", "op_uuid": "{op}"}}"#))))
            .collect();
        db.execute(&legacy_pointers(&rows)).await;
        let dir = match db.backend() {
            Backend::Sqlite => "sqlite",
            Backend::MariaDb => "mariadb",
            Backend::Postgres => "postgres",
        };
        let migration = std::fs::read_to_string(format!(
            "{}/migrations/{dir}/0002_cluster_operation_targets.sql",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let start = migration.find("CREATE TABLE IF NOT EXISTS cluster_operation_targets").unwrap();
        let end = start + migration[start..].find(';').unwrap() + 1;
        db.execute(&migration[start..end]).await;
        db.inject_failure(
            "ops_fail",
            "INSERT ON cluster_operation_targets",
            "1 = 1",
            "injected backfill failure",
        )
        .await;
        let err = store.migrate().await.unwrap_err();
        let cause = std::error::Error::source(&err).map(ToString::to_string).unwrap_or_default();
        assert!(cause.contains("injected backfill failure"), "{err}: {cause}");
        if db.backend() == Backend::MariaDb {
            // What MariaDB is left with: migration 2 marked unfinished, which readers refuse.
            let readers = StoreOptions::new(db.url()).require_current_schema(true).connect().await.unwrap_err();
            assert_eq!(readers.to_string(), "migration 2 did not finish; run `opsctl migrate` to finish it");
        }

        db.remove_failure("ops_fail", "cluster_operation_targets").await;
        // Another process (a store with a pool of its own) finishes it: the failed run must not have left
        // its migration lock held by a pooled connection, or this waits forever.
        let other = db.store().await;
        let report = tokio::time::timeout(std::time::Duration::from_secs(60), other.migrate())
            .await
            .expect("the failed migration's lock was released")
            .unwrap();
        assert_eq!((report.previous, report.current), (Some(1), 12), "{report:?}");
        // SQLite and PostgreSQL rolled the failed migration back; MariaDB's is finished from its mark.
        let resumed = if db.backend() == Backend::MariaDb { Some(2) } else { None };
        assert_eq!(report.resumed, resumed);
        assert_eq!(report.backfill, Some(BackfillReport { pointers: 50, backfilled: 50, skipped: 0 }));
        store.require_current_schema().await.unwrap();
        for (object, op) in &objects {
            assert_eq!(store.latest(*object).await.unwrap().map(|latest| latest.op_uuid), Some(*op));
        }
    }

    async fn upgrading_a_legacy_database_keeps_every_latest_op(db: &TestDb) {
        let store = db.store().await;
        store.migrate_to(1).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap().applied, Some(1));

        let mut sql = String::new();
        let mut expected: Vec<(ObjectRef, Option<OpRef>)> = Vec::new();
        let objects: Vec<ObjectRef> = (0..12)
            .map(|i| match i % 3 {
                0 => InstanceId::new_v4().object_ref(),
                1 => NetworkId::new_v4().object_ref(),
                _ => ArtifactId::new_v4().object_ref(),
            })
            .collect();
        for (i, object) in objects.iter().enumerate() {
            let op = OpId::new_v4();
            let op_type = ["node_inst_op", "net_op", "artifact_fetch_op"][i % 3];
            let state = ["queued", "complete", "error", "executing"][i % 4];
            sql += &legacy_op(op_type, op, 1_700_000_000.0 + (100 - i) as f64, state);
            let pointer = format!(r#"{{"op_type": "{op_type}", "op_uuid": "{op}"}}"#);
            sql += &legacy_pointer(*object, Some(&pointer));
            expected.push((*object, Some(OpRef { op_type: op_type.to_owned(), op_uuid: op })));
        }
        // A pointer to an op whose header was already hard-deleted still names it.
        let orphan_object = NetworkId::new_v4().object_ref();
        let orphan = OpId::new_v4();
        sql += &legacy_pointer(orphan_object, Some(&format!(r#"{{"op_type": "net_op", "op_uuid": "{orphan}"}}"#)));
        expected.push((orphan_object, Some(OpRef { op_type: "net_op".to_owned(), op_uuid: orphan })));
        // No pointer, the etcd era's empty pointer, and a malformed one: no op, and no failed migration.
        for pointer in [None, Some("{}"), Some("not json"), Some("null")] {
            let object = InstanceId::new_v4().object_ref();
            sql += &legacy_pointer(object, pointer);
            expected.push((object, None));
        }
        db.execute(&sql).await;

        store.migrate().await.unwrap();
        store.require_current_schema().await.unwrap();
        for (object, latest) in &expected {
            assert_eq!(&store.latest(*object).await.unwrap(), latest, "{object}");
        }
        assert_eq!(db.count("cluster_operation_targets").await, 13);
        // Backfilled rows join the gate: the queued and executing legacy ops are in flight.
        assert!(store.has_pending(objects[0]).await.unwrap(), "queued legacy op");
        assert!(!store.has_pending(objects[1]).await.unwrap(), "complete legacy op");
        assert!(store.has_pending(objects[3]).await.unwrap(), "executing legacy op");
        // Phase 4: the pointer column is gone.
        let column = match db.backend() {
            Backend::Sqlite => "pragma_table_info('object_metadata') WHERE name = 'last_cluster_operation_json'",
            // Every test database on the server shares information_schema: look in this one only.
            Backend::MariaDb => "information_schema.columns WHERE table_schema = DATABASE() \
                  AND table_name = 'object_metadata' AND column_name = 'last_cluster_operation_json'",
            Backend::Postgres => "information_schema.columns WHERE table_catalog = current_database() \
                  AND table_name = 'object_metadata' AND column_name = 'last_cluster_operation_json'",
        };
        assert_eq!(db.count(column).await, 0);
    }

    async fn migrating_twice_changes_nothing(db: &TestDb) {
        let store = db.store().await;
        let version = store.schema_version().await.unwrap();
        assert_eq!(version.applied, None);
        assert!(matches!(store.require_current_schema().await, Err(StoreError::SchemaMissing)));
        let created = store.migrate().await.unwrap();
        assert_eq!((created.previous, created.applied.as_slice(), created.backfill), (None, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12][..], None));
        let again = store.migrate().await.unwrap();
        assert_eq!((again.previous, again.current, again.applied.len(), again.backfill), (Some(12), 12, 0, None));
        let version = store.schema_version().await.unwrap();
        assert!(version.is_current());
        assert_eq!(version.latest, 12);
    }

    /// Work queued before schema 5 names its op only in the payload: the upgrade copies it out (junk
    /// payloads name none and are never claimed) and reads each row's priority from its queue name.
    async fn work_queued_before_schema_5_is_claimable_after_it(db: &TestDb) {
        let store = db.store().await;
        store.migrate_to(4).await.unwrap();
        let op = uuid::Uuid::new_v4();
        db.execute(&format!(
            "INSERT INTO work_queue (queue_name, scheduled_at, attempts, payload, created_at) VALUES \
             ('networknode-clusteroperation-user_waiting', 1, 0, '{{\"operation_type\": \"net_op\", \"operation_uuid\": \"{op}\"}}', 1), \
             ('any-clusteroperation-user_facing_high_io', 2, 0, 'not json', 2), \
             ('n-network-background_high_io', 3, 0, '{{\"operation_uuid\": 7}}', 3), \
             ('n-clusteroperation-user_facing', 4, 0, '[]', 4), \
             ('n-clusteroperation-background', 5, 0, '{{}}', 5)"
        ))
        .await;
        let report = store.migrate().await.unwrap();
        assert_eq!(report.applied, [5, 6, 7, 8, 9, 10, 11, 12]);
        let ops = db.strings("SELECT operation_uuid FROM work_queue ORDER BY id").await;
        assert_eq!(ops, [Some(op.to_string()), None, None, None, None]);
        let types = db.strings("SELECT operation_type FROM work_queue ORDER BY id").await;
        assert_eq!(types[0].as_deref(), Some("net_op"));
        let by_priority = db.strings("SELECT queue_name FROM work_queue ORDER BY priority").await;
        let suffixes: Vec<_> = by_priority.iter().map(|q| q.as_deref().unwrap().rsplit_once('-').unwrap().1.to_owned()).collect();
        assert_eq!(suffixes, ["user_waiting", "user_facing", "user_facing_high_io", "background", "background_high_io"]);
        assert_eq!(db.count("work_queue WHERE priority IN (10, 20, 25, 30, 40)").await, 5);
        assert_eq!(db.count("work_queue WHERE defer_count = 0 AND lease_token IS NULL").await, 5);
    }

    /// Work a legacy worker claimed before schema 5 holds no lease: after the upgrade the first rescue puts
    /// its op back in the queue (and removes the row of an op already finished), so a drain does not wait
    /// for it forever.
    async fn work_claimed_before_schema_5_is_rescued_after_the_upgrade(db: &TestDb) {
        let store = db.store().await;
        store.migrate_to(4).await.unwrap();
        let (running, finished) = (OpId::new_v4(), OpId::new_v4());
        db.execute(&legacy_op("net_op", running, 1.0, "executing")).await;
        db.execute(&legacy_op("net_op", finished, 1.0, "complete")).await;
        let claimed = |op: OpId| {
            format!(
                "('networknode-clusteroperation-user_waiting', 1, 2, 'legacy-node', 1, \
                 '{{\"operation_type\": \"net_op\", \"operation_uuid\": \"{op}\"}}', 1)"
            )
        };
        db.execute(&format!(
            "INSERT INTO work_queue (queue_name, scheduled_at, claimed_at, claimed_by, attempts, payload, created_at) \
             VALUES {}, {}, ('networknode-clusteroperation-background', 3, NULL, NULL, 0, '{{}}', 3)",
            claimed(running),
            claimed(finished)
        ))
        .await;
        let report = store.migrate().await.unwrap();
        assert_eq!(report.applied, [5, 6, 7, 8, 9, 10, 11, 12]);
        assert_eq!(db.floats("SELECT lease_expires_at FROM work_queue WHERE claimed_at IS NOT NULL").await, [2.0, 2.0]);
        assert_eq!(db.count("work_queue WHERE claimed_at IS NULL AND lease_expires_at IS NULL").await, 1);
        // A worker with no handler for these ops: it rescues them, and claims nothing.
        let worker = Worker::builder(store.clone())
            .serve(QueueTarget::NetworkNode)
            .handle(|_op: NodeInstNetIfaceOp, _ctx| async { Ok::<_, OpError>(()) })
            .build()
            .unwrap();
        let summary = worker.run_once().await.unwrap();
        assert_eq!((summary.rescued, summary.claimed), (1, 0), "{summary:?}");
        assert_eq!(store.op_state(running).await.unwrap(), Some(OpState::Queued));
        let rows = db.strings("SELECT operation_uuid FROM work_queue WHERE claimed_at IS NULL AND lease_expires_at IS NULL ORDER BY id").await;
        assert_eq!(rows, [Some(running.to_string()), None]);
        assert_eq!(db.count("work_queue").await, 2);
    }

    /// An upgrade tells its progress one migration at a time, in order, before each runs.
    async fn an_upgrade_tells_each_migration_before_it_runs(db: &TestDb) {
        let store = db.store().await;
        store.migrate_to(3).await.unwrap();
        let mut steps = Vec::new();
        let report = store
            .migrate_with_progress(|step| steps.push((step.index, step.total, step.version, step.description.to_owned())))
            .await
            .unwrap();
        assert_eq!(report.applied, [4, 5, 6, 7, 8, 9, 10, 11, 12]);
        let versions: Vec<_> = steps.iter().map(|(index, total, version, _)| (*index, *total, *version)).collect();
        assert_eq!(versions, [(0, 9, 4), (1, 9, 5), (2, 9, 6), (3, 9, 7), (4, 9, 8), (5, 9, 9), (6, 9, 10), (7, 9, 11), (8, 9, 12)]);
        assert_eq!(steps[1].3, "worker claims");
        let mut again = 0;
        store.migrate_with_progress(|_| again += 1).await.unwrap();
        assert_eq!(again, 0, "nothing to apply, nothing told");
    }

    async fn a_schema_behind_this_build_is_reported(db: &TestDb) {
        let store = db.store().await;
        store.migrate_to(2).await.unwrap();
        let err = store.require_current_schema().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "the database schema is at version 2 but this build needs 12; run `opsctl migrate`"
        );
    }

    async fn stores_that_require_the_newest_schema_refuse_an_older_one_at_connect(db: &TestDb) {
        db.store().await.migrate_to(2).await.unwrap();
        let options = || StoreOptions::new(db.url()).require_current_schema(true);
        assert!(matches!(options().connect().await, Err(StoreError::SchemaBehind { found: 2, needed: 12 })));
        StoreOptions::new(db.url()).connect().await.unwrap().migrate().await.unwrap();
        options().connect().await.unwrap();
    }

    async fn a_schema_newer_than_this_build_is_refused(db: &TestDb) {
        db.migrated_store().await;
        insert_migration_row(db, 99, true).await;
        let err = StoreOptions::new(db.url()).connect().await.unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { found: 99, known: 12 }), "{err}");
        assert_eq!(
            err.to_string(),
            "the database schema is at version 99, newer than this build knows (up to 12); upgrade opsctl"
        );
    }

    async fn a_half_applied_migration_is_refused_by_readers_and_finished_by_migrate(db: &TestDb) {
        let store = db.store().await;
        store.migrate_to(1).await.unwrap();
        insert_migration_row(db, 2, false).await;
        let err = StoreOptions::new(db.url()).require_current_schema(true).connect().await.unwrap_err();
        assert!(matches!(err, StoreError::SchemaDirty { version: 2 }), "{err}");
        // `opsctl migrate` opens a store of its own to finish it: that is allowed.
        let store = StoreOptions::new(db.url()).connect().await.unwrap();
        let report = store.migrate().await.unwrap();
        assert_eq!((report.resumed, report.current), (Some(2), 12));
        store.require_current_schema().await.unwrap();
    }
}

#[tokio::test]
async fn a_missing_sqlite_file_is_not_created_unless_asked() {
    let path =
        std::env::temp_dir().join(format!("ops-missing-{}.db", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}", path.display());
    let err = StoreOptions::new(&url).connect().await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot connect to the sqlite database at `sqlite://"),
        "{err}"
    );
    assert!(!path.exists());
}

#[tokio::test]
async fn unsupported_urls_are_rejected_with_the_accepted_schemes() {
    let err = StoreOptions::new("redis://localhost")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid database url `redis://localhost`: unsupported scheme; \
         expected sqlite:, mysql:, mariadb:, postgres: or postgresql:"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_connect_error_without_the_password() {
    let err = StoreOptions::new("postgres://ops:secret@127.0.0.1:1/ops")
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with(
            "cannot connect to the postgres database at `postgres://ops:***@127.0.0.1:1/ops`"
        ),
        "{message}"
    );
    assert!(!message.contains("secret"));
}

/// Schema 9: a connection whose trigger plans were made while the statistics said the tables were tiny
/// keeps probing keys as they grow. Without it, each of the 200 target rows below scanned all of
/// object_states (measured: 3.9 ms an op at 20,000 ops, growing with the table).
#[tokio::test]
async fn postgres_trigger_lookups_stay_key_probes_after_statistics_of_a_tiny_table() {
    ops_testkit::run_on(Backend::Postgres, |db| async move {
        db.migrated_store().await.close().await;
        let ops = |count: usize| {
            format!(
                "FOR i IN 1..{count} LOOP
                     op := gen_random_uuid()::text;
                     INSERT INTO object_states VALUES ('net_op', op, 'complete', 0, NULL);
                     INSERT INTO cluster_operation_targets
                         (operation_uuid, operation_type, target_object_type, target_uuid, created_at)
                         VALUES (op, 'net_op', 'network', gen_random_uuid()::text, 0);
                 END LOOP;"
            )
        };
        // One connection, one transaction: 10 ops, statistics of those, then 200 more; the scans of the
        // 200 are counted before the transaction ends.
        db.execute(&format!(
            "DO $$ DECLARE op text; BEGIN
                 {}
                 ANALYZE object_states; ANALYZE cluster_operation_targets;
                 {}
                 CREATE TABLE trigger_scans AS SELECT relname::text AS relname, seq_scan
                     FROM pg_stat_xact_user_tables
                     WHERE relname IN ('object_states', 'cluster_operation_targets');
             END $$",
            ops(10),
            ops(200)
        ))
        .await;
        let scans = db.strings("SELECT relname || ' ' || seq_scan FROM trigger_scans ORDER BY relname").await;
        assert_eq!(scans, [Some("cluster_operation_targets 0".to_owned()), Some("object_states 0".to_owned())]);
        db
    })
    .await;
}

/// Schema 10: a target row's trigger reads its op's state row and no other, also for an op type the
/// statistics have never seen. Looked up by type and uuid, the state was priced by
/// `idx_object_states_type_state` at one row for such a type (missing from the most common values) and
/// read there: every state row of the type, for each target row (3-4 ms an enqueue in a bench, 2,000-3,000
/// rows each). Here 1,000 queued ops of a new type wait when 100 more are enqueued, by hand as another
/// program would, in one connection; the state rows its index scans fetched are counted in the transaction.
#[tokio::test]
async fn postgres_target_trigger_reads_one_state_row_for_a_type_the_statistics_never_saw() {
    ops_testkit::run_on(Backend::Postgres, |db| async move {
        db.migrated_store().await.close().await;
        let ops = |count: usize, op_type: &str, state: &str, targets: bool| {
            let target = if targets {
                format!(
                    "INSERT INTO cluster_operation_targets
                         (operation_uuid, operation_type, target_object_type, target_uuid, created_at)
                         VALUES (op, '{op_type}', 'network', gen_random_uuid()::text, 0);"
                )
            } else {
                String::new()
            };
            format!(
                "FOR i IN 1..{count} LOOP
                     op := gen_random_uuid()::text;
                     INSERT INTO object_states VALUES ('{op_type}', op, '{state}', 0, NULL);
                     {target}
                 END LOOP;"
            )
        };
        db.execute(&format!("DO $$ DECLARE op text; BEGIN {} END $$", ops(2_000, "net_op", "complete", true)))
            .await;
        db.execute("ANALYZE object_states").await;
        db.execute(&format!("DO $$ DECLARE op text; BEGIN {} END $$", ops(1_000, "new_op", "queued", false)))
            .await;
        db.execute(&format!(
            "DO $$ DECLARE op text; BEGIN
                 {}
                 CREATE TABLE trigger_reads AS SELECT idx_tup_fetch AS rows_read
                     FROM pg_stat_xact_user_tables WHERE relname = 'object_states';
             END $$",
            ops(100, "new_op", "queued", true)
        ))
        .await;
        let read = db.strings("SELECT rows_read::text FROM trigger_reads").await;
        assert_eq!(read, [Some("100".to_owned())], "state rows read for 100 target rows");
        assert_eq!(db.count("in_flight_targets WHERE operation_type = 'new_op'").await, 100);
        db
    })
    .await;
}

/// The POSIX locks this process holds on the file at `path`, as `/proc/locks` lists them.
fn posix_locks_of_this_process_on(path: &str) -> usize {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata(path).expect("the database file").ino();
    let pid = std::process::id().to_string();
    std::fs::read_to_string("/proc/locks")
        .expect("linux lists its locks in /proc/locks")
        .lines()
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            fields.get(1) == Some(&"POSIX")
                && fields.get(4) == Some(&pid.as_str())
                && fields
                    .get(5)
                    .and_then(|id| id.rsplit(':').next())
                    .is_some_and(|ino| ino == inode.to_string())
        })
        .count()
}

/// A program that migrates its SQLite database and goes on using it keeps SQLite's shared lock on the
/// file, which tells other processes it is there. The migration lock is a file of its own, because
/// closing any descriptor of the database file would drop every POSIX lock the process holds on it
/// (sqlite.org/howtocorrupt.html, §2.2); and it is removed once released.
#[tokio::test]
async fn migrating_a_sqlite_file_keeps_the_programs_own_locks_on_it() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    let path = db.url().trim_start_matches("sqlite://").to_owned();
    let store = StoreOptions::new(db.url())
        .create_if_missing(true)
        .connect()
        .await
        .unwrap();
    assert!(
        posix_locks_of_this_process_on(&path) > 0,
        "sqlite holds a shared lock once connected"
    );
    store.migrate().await.unwrap();
    assert!(
        posix_locks_of_this_process_on(&path) > 0,
        "the migration lock dropped sqlite's locks on the database file"
    );
    assert!(!std::path::Path::new(&format!("{path}-migrate")).exists());
    store.close().await;
    db.finish().await;
}
