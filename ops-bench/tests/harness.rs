//! The harness cannot rot: every bench runs once at a tiny size on every backend, its outcome serialises
//! to the documented JSON, and its scratch databases are gone afterwards. No duration is asserted.

use ops_bench::{Bench, Curve, Profile, Scratch};
use ops_testkit::{Backend, TestDb, backend_tests};

/// What `Bench::run` is given for `db`'s backend: `sqlite`, or the server URL beside which scratch
/// databases are made.
fn backend_of(db: &TestDb) -> &str {
    match db.backend() {
        Backend::Sqlite => "sqlite",
        _ => db.url(),
    }
}

backend_tests! {
    async fn every_bench_runs_at_a_tiny_size_and_reports_json(db: &TestDb) {
        for bench in Bench::ALL {
            let outcome = bench.run(backend_of(db), &Profile::tiny()).await.unwrap_or_else(|e| panic!("{}: {}", bench.name(), ops_core::ErrorChain(&e)));
            let json = serde_json::to_value(&outcome).unwrap();
            assert_eq!(json["bench"], bench.name());
            let store = db.store().await;
            assert_eq!(json["backend"], store.dialect().name(), "{json}");
            // A tiny run is never judged against a bar.
            assert!(json.get("pass").is_none(), "{json}");
            match json.get("bar") {
                Some(bar) => {
                    assert!(bar.as_str().unwrap().starts_with("<= ") || bar.as_str().unwrap().starts_with(">= "), "{json}");
                    assert!(json["ratio"].as_f64().unwrap() > 0.0, "{json}");
                }
                None => assert!(json.get("ratio").is_none(), "{json}"),
            }
            let figures = json.as_object().unwrap().len();
            assert!(figures >= 5, "{}: too few figures: {json}", bench.name());
        }
    }

    async fn every_curve_measures_each_size_at_a_tiny_size_and_draws(db: &TestDb) {
        let backend = db.store().await.dialect().name();
        for curve in Curve::ALL {
            let series = curve.measure(backend_of(db), &Profile::tiny()).await.unwrap_or_else(|e| panic!("{}: {}", curve.name(), ops_core::ErrorChain(&e)));
            let xs: Vec<f64> = match curve {
                // Tiny: a history of 200, 50 objects; 1, 2, 4 and 8 workers.
                Curve::HasPendingVsHistory => vec![10.0, 100.0, 200.0],
                Curve::FilterPendingVsObjects => vec![10.0, 50.0],
                Curve::ThroughputVsWorkers => vec![1.0, 2.0, 4.0, 8.0],
            };
            let lines = if curve == Curve::FilterPendingVsObjects { 2 } else { 1 };
            assert_eq!(series.len(), lines, "{}", curve.name());
            for line in &series {
                assert_eq!(line.backend, backend);
                assert_eq!(line.points.iter().map(|p| p.0).collect::<Vec<_>>(), xs, "{}", curve.name());
                assert!(line.points.iter().all(|p| p.1 > 0.0), "{}: {:?}", curve.name(), line.points);
            }
            let svg = ops_bench::plot::svg(curve, &series).unwrap();
            assert!(svg.contains(&format!("{}, {backend}", series[0].label)), "{}", curve.name());
        }
    }

    async fn a_scratch_database_is_gone_once_removed(db: &TestDb) {
        let scratch = Scratch::create(backend_of(db)).await.unwrap();
        let url = scratch.url().to_owned();
        assert_eq!(scratch.store().schema_version().await.unwrap().applied, Some(scratch.store().dialect().latest_schema_version()));
        scratch.remove().await.unwrap();
        let reopened = ops_core::StoreOptions::new(&url).connect().await;
        assert!(reopened.is_err(), "{url} is still there");
    }

    async fn a_scratch_database_is_removed_under_an_open_transaction(db: &TestDb) {
        // A session the bench lost track of (its store gave up on it while closing) still holds a
        // transaction's locks on the scratch tables: MariaDB's DROP DATABASE would wait on them for a day.
        let scratch = Scratch::create(backend_of(db)).await.unwrap();
        let holder = ops_core::StoreOptions::new(scratch.url()).connect().await.unwrap();
        macro_rules! hold_a_transaction {
            ($pool:expr) => {{
                let mut transaction = $pool.begin().await.unwrap();
                sqlx::raw_sql("SELECT count(*) FROM cluster_operations").execute(&mut *transaction).await.unwrap();
                transaction
            }};
        }
        let (mut on_mariadb, mut on_postgres) = (None, None);
        match holder.sqlx_pool() {
            ops_core::SqlxPool::MariaDb(pool) => on_mariadb = Some(hold_a_transaction!(pool)),
            ops_core::SqlxPool::Postgres(pool) => on_postgres = Some(hold_a_transaction!(pool)),
            _ => {}
        }
        tokio::time::timeout(std::time::Duration::from_secs(60), scratch.remove())
            .await
            .expect("the scratch database's removal waited on a session's transaction")
            .unwrap();
        drop((on_mariadb, on_postgres));
    }
}

#[test]
fn benches_are_found_by_name() {
    for bench in Bench::ALL {
        assert_eq!(Bench::from_name(bench.name()).unwrap(), bench);
    }
    let error = Bench::from_name("enqueue").unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown bench `enqueue`; the benches: enqueue_vs_raw, has_pending_history_growth, \
         has_pending_backlog_growth, filter_pending_vs_loop, prune_under_load, worker_throughput, read_latency, api_load"
    );
}
