use ops_core::*;

#[derive(ClusterOperation)]
#[operation(name = "node_inst_op", tasks = Task, queue = any)]
union NodeInstOp {
    instance: u64,
}

fn main() {}
