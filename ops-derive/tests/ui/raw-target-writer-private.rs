//! Outside ops-core, target rows can only be written by enqueueing a `ClusterOperation`: the raw writer
//! and the row type it takes are crate-private.

async fn write_targets_by_hand(store: &ops_core::Store) {
    let op = ops_core::store::NewOp { op_type: "node_inst_op" };
    let _ = store.enqueue_new_op(&op).await;
}

fn main() {}
