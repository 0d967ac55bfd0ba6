//! An enqueue is all or nothing under faults the database and the machine inject: a trigger that rejects
//! a row is in `enqueue.rs`; here the server session is killed inside the enqueue's transaction, and a
//! SQLite file is locked by another program or opened read-only. After each the caller has an error,
//! never an op id, and not one row of the op is left. (A process killed inside the transaction is
//! `opsctl/tests/faults.rs`.)

mod support;

use std::time::Duration;

use ops_core::{NetworkId, OpId, Priority, Store, StoreOptions};
use ops_testkit::{Backend, PartialOpRows, TestDb, run_on};
use support::{NetOp, NetTask};

async fn enqueue(store: &Store, network: NetworkId) -> Result<OpId, ops_core::EnqueueError> {
    NetOp {
        network_uuid: network,
        node_uuid: None,
    }
    .enqueue(store)
    .priority(Priority::Background)
    .task(NetTask::NetworkDeploy)
    .await
}

async fn rows_of_ops(db: &TestDb) -> [i64; 4] {
    [
        db.count("cluster_operations").await,
        db.count("cluster_operation_targets").await,
        db.count("object_states").await,
        db.count("work_queue").await,
    ]
}

/// The session that runs the enqueue is killed by the server's administrator while it sits inside the
/// transaction (its header, state and queue rows written, its target row being inserted): the caller
/// gets the driver's error, the server rolls the transaction back, and the store goes on working.
// A test body, run on the servers by `run_on`: clippy allows `unwrap` in tests.
#[allow(clippy::unwrap_used)]
async fn a_session_killed_inside_an_enqueue_leaves_nothing(db: TestDb) -> TestDb {
    let store = db.migrated_store().await;
    db.inject_delay(
        "stall_network_target",
        "INSERT ON cluster_operation_targets",
        "NEW.target_object_type = 'network'",
    )
    .await;
    let running = tokio::spawn({
        let store = store.clone();
        async move { enqueue(&store, NetworkId::new_v4()).await }
    });
    let session = loop {
        if let Some(&session) = db.stalled_sessions().await.first() {
            break session;
        }
        assert!(
            !running.is_finished(),
            "the enqueue ended before it could be killed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    db.kill_session(session).await;
    let outcome = tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("the enqueue returns once its session is gone")
        .unwrap();
    let error = outcome.expect_err("a killed session is an error, never an op id");
    assert!(
        matches!(error, ops_core::EnqueueError::Database(_)),
        "{error}"
    );
    db.remove_failure("stall_network_target", "cluster_operation_targets")
        .await;
    assert_eq!(rows_of_ops(&db).await, [0; 4]);
    assert_eq!(db.partial_op_rows().await, PartialOpRows::NONE);
    // The pool replaced the dead connection: the next enqueue is whole.
    let network = NetworkId::new_v4();
    enqueue(&store, network).await.unwrap();
    assert!(store.has_pending(network).await.unwrap());
    assert_eq!(db.partial_op_rows().await, PartialOpRows::NONE);
    store.close().await;
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_session_killed_inside_an_enqueue_leaves_nothing() {
    run_on(
        Backend::MariaDb,
        a_session_killed_inside_an_enqueue_leaves_nothing,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_backend_terminated_inside_an_enqueue_leaves_nothing() {
    run_on(
        Backend::Postgres,
        a_session_killed_inside_an_enqueue_leaves_nothing,
    )
    .await;
}

/// The server ends the session of a connection that sits idle in the pool (an administrator's kill, as a
/// restart ends them all): once it has sat idle for a second, the pool checks it before handing it out,
/// finds it gone and opens another, and the next call works. (Connections used within the last second
/// are handed out unchecked, saving a round trip per statement.)
// A test body, run on the servers by `run_on`: clippy allows `unwrap` in tests.
#[allow(clippy::unwrap_used)]
async fn a_connection_whose_session_ended_while_idle_is_replaced(db: TestDb) -> TestDb {
    db.migrated_store().await.close().await;
    let store = StoreOptions::new(db.url())
        .max_connections(1)
        .connect()
        .await
        .unwrap();
    let network = NetworkId::new_v4();
    assert!(!store.has_pending(network).await.unwrap());
    let sessions = db.idle_sessions().await;
    assert_eq!(sessions.len(), 1, "the store's one connection, idle");
    db.kill_session(sessions[0]).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    assert!(!store.has_pending(network).await.unwrap());
    store.close().await;
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mariadb_connection_killed_while_idle_is_replaced() {
    run_on(
        Backend::MariaDb,
        a_connection_whose_session_ended_while_idle_is_replaced,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_connection_terminated_while_idle_is_replaced() {
    run_on(
        Backend::Postgres,
        a_connection_whose_session_ended_while_idle_is_replaced,
    )
    .await;
}

/// Another program holds SQLite's write lock for longer than the store will wait: the enqueue reports the
/// busy database after its retries and writes nothing; once the lock is gone the same enqueue works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_locked_by_another_program_fails_the_enqueue_and_writes_nothing() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    db.migrated_store().await.close().await;
    let store = StoreOptions::new(db.url())
        .busy_timeout(Duration::from_millis(50))
        .connect()
        .await
        .unwrap();
    let lock = db.open_transaction("BEGIN IMMEDIATE").await;
    let network = NetworkId::new_v4();
    let error = enqueue(&store, network)
        .await
        .expect_err("a locked database is an error, never an op id");
    let chain = ops_core::ErrorChain(&error).to_string();
    assert!(chain.contains("database is locked"), "{chain}");
    lock.release().await;
    assert_eq!(rows_of_ops(&db).await, [0; 4]);
    enqueue(&store, network).await.unwrap();
    assert_eq!(db.partial_op_rows().await, PartialOpRows::NONE);
    store.close().await;
    db.finish().await;
}

/// A SQLite database opened read-only (`mode=ro`, as a reporting host might): reading works, and an
/// enqueue is refused with SQLite's own words, writing nothing.
#[tokio::test]
async fn a_read_only_sqlite_database_refuses_the_enqueue_and_writes_nothing() {
    let db = TestDb::create(Backend::Sqlite).await.unwrap();
    db.migrated_store().await.close().await;
    let store = StoreOptions::new(format!("{}?mode=ro", db.url()))
        .connect()
        .await
        .unwrap();
    let network = NetworkId::new_v4();
    assert!(!store.has_pending(network).await.unwrap());
    let error = enqueue(&store, network)
        .await
        .expect_err("a read-only database is an error, never an op id");
    let chain = ops_core::ErrorChain(&error).to_string();
    assert!(chain.contains("readonly"), "{chain}");
    store.close().await;
    assert_eq!(rows_of_ops(&db).await, [0; 4]);
    db.finish().await;
}

/// The server vanishes under a running store (every connection reset, its port refusing): the gate
/// answers "pending" for an object it said was idle a moment before — it fails closed —, `has_pending`
/// is an error, and an enqueue gets an error, never an op id.
// A test body, run on the servers by `run_on`: clippy allows `unwrap` in tests.
#[allow(clippy::unwrap_used)]
async fn a_server_gone_under_the_store_fails_the_gate_closed(db: TestDb) -> TestDb {
    let proxy = db.proxy().await;
    let store = StoreOptions::new(proxy.url())
        .acquire_timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let idle = NetworkId::new_v4();
    assert!(!store.is_pending_or_unknown(idle).await);
    proxy.cut();
    assert!(
        store.is_pending_or_unknown(idle).await,
        "the gate said idle when it could not know"
    );
    assert!(store.has_pending(idle).await.is_err());
    enqueue(&store, idle)
        .await
        .expect_err("an unreachable server is an error, never an op id");
    store.close().await;
    assert_eq!(rows_of_ops(&db).await, [0; 4]);
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_fails_closed_when_the_mariadb_server_goes() {
    run_on(
        Backend::MariaDb,
        a_server_gone_under_the_store_fails_the_gate_closed,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gate_fails_closed_when_the_postgres_server_goes() {
    run_on(
        Backend::Postgres,
        a_server_gone_under_the_store_fails_the_gate_closed,
    )
    .await;
}

/// A query is abandoned (its future dropped by a timeout) while the server has gone silent, neither
/// answering nor closing: sqlx's task that returns the connection waits on the server for ever
/// (launchbadge/sqlx#4349), and `close` gives up on it after `Store::CLOSE_TIMEOUT` instead of waiting
/// with it. A program that stops on a signal, with a query in flight, stops.
// A test body, run on the servers by `run_on`: clippy allows `unwrap` in tests.
#[allow(clippy::unwrap_used)]
async fn close_gives_up_on_a_connection_the_server_stopped_answering(db: TestDb) -> TestDb {
    let proxy = db.proxy().await;
    let store = StoreOptions::new(proxy.url()).connect().await.unwrap();
    store.migrate().await.unwrap();
    // The connection is taken before the stall, so the query is abandoned on it, not in the pool's
    // own check of an idle connection (which closes it instead).
    macro_rules! abandon_a_query {
        ($pool:expr) => {{
            let mut connection = $pool.acquire().await.unwrap();
            proxy.stall();
            let query = sqlx::query("SELECT 1").execute(&mut *connection);
            let abandoned = tokio::time::timeout(Duration::from_millis(200), query).await;
            assert!(abandoned.is_err(), "a silent server answered");
        }};
    }
    match store.sqlx_pool() {
        ops_core::SqlxPool::MariaDb(pool) => abandon_a_query!(pool),
        ops_core::SqlxPool::Postgres(pool) => abandon_a_query!(pool),
        _ => unreachable!("only the servers can go silent"),
    }
    tokio::time::timeout(Store::CLOSE_TIMEOUT * 4, store.close())
        .await
        .expect("close waited on a connection the server stopped answering");
    proxy.cut();
    db
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_gives_up_on_a_silent_mariadb_connection() {
    run_on(
        Backend::MariaDb,
        close_gives_up_on_a_connection_the_server_stopped_answering,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_gives_up_on_a_silent_postgres_connection() {
    run_on(
        Backend::Postgres,
        close_gives_up_on_a_connection_the_server_stopped_answering,
    )
    .await;
}
