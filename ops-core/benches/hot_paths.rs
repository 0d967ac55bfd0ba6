//! The hot paths that need no server, measured with criterion so that a regression shows in review:
//! the derive-generated `targets()`, the wire form both ways, queue names, and a 3-target enqueue on
//! SQLite (the embedded default). Run with `cargo bench -p ops-core`; `opsctl bench` measures the
//! database-bound bars on every backend.

#[path = "../tests/support/mod.rs"]
mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_main};
use ops_core::{
    ClusterOperation, Envelope, Family, Header, InstanceId, InterfaceId, NetworkId, NodeId, OpId,
    Priority, QueueTarget, StoreOptions, queue_name,
};
use support::{NodeInstNetIfaceOp, NodeInstNetIfaceTask};

fn op() -> NodeInstNetIfaceOp {
    NodeInstNetIfaceOp {
        node_uuid: NodeId::new_v4(),
        instance_uuid: InstanceId::new_v4(),
        network_uuid: NetworkId::new_v4(),
        interface_uuid: InterfaceId::new_v4(),
    }
}

fn envelope() -> Envelope<NodeInstNetIfaceOp> {
    Envelope {
        header: Header {
            uuid: OpId::new_v4(),
            priority: Priority::UserFacing,
            request_id: Some("req-1234".to_owned()),
            tasks: vec![NodeInstNetIfaceTask::HotPlugInstanceInterface],
            depends_on: Vec::new(),
            runs_after: Vec::new(),
            version: 1,
        },
        body: op(),
    }
}

fn derived(c: &mut Criterion) {
    let op = op();
    c.bench_function("targets of a 3-target op", |b| {
        b.iter(|| black_box(&op).targets())
    });
    c.bench_function("context of a 3-target op", |b| {
        b.iter(|| black_box(&op).context())
    });
}

fn wire(c: &mut Criterion) {
    let envelope = envelope();
    let wire = envelope.to_wire().expect("wire form");
    c.bench_function("to_wire of a 3-target op", |b| {
        b.iter(|| black_box(&envelope).to_wire())
    });
    c.bench_function("from_wire of a 3-target op", |b| {
        b.iter(|| Envelope::<NodeInstNetIfaceOp>::from_wire(black_box(wire.clone())))
    });
}

fn queues(c: &mut Criterion) {
    let node = QueueTarget::Node(NodeId::new_v4());
    c.bench_function("queue name of a node's op", |b| {
        b.iter(|| {
            queue_name(
                black_box(node),
                Family::ClusterOperation,
                Priority::Background,
            )
        })
    });
}

fn sqlite_enqueue(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("ops-core-bench-{}", OpId::new_v4()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let url = format!("sqlite://{}", dir.join("ops.db").display());
    let store = runtime.block_on(async {
        let store = StoreOptions::new(&url)
            .create_if_missing(true)
            .connect()
            .await
            .expect("store");
        store.migrate().await.expect("migrate");
        store
    });
    c.bench_function("enqueue of a 3-target op on SQLite", |b| {
        b.iter(|| {
            runtime.block_on(async {
                op().enqueue(&store)
                    .priority(Priority::UserFacing)
                    .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
                    .await
                    .expect("enqueue")
            })
        })
    });
    runtime.block_on(store.close());
    let _ = std::fs::remove_dir_all(&dir);
}

// The macro's generated `benches` function cannot carry a doc comment.
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(
        benches,
        super::derived,
        super::wire,
        super::queues,
        super::sqlite_enqueue
    );
}
use group::benches;
criterion_main!(benches);
