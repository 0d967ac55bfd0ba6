//! The 14 operations, one module each, with exactly the fields, targets, context and tasks of Shaken Fist's
//! operations table.

pub mod artifact_fetch_op;
pub mod imgcache_op;
pub mod net_iface_ip_op;
pub mod net_iface_op;
pub mod net_ip_op;
pub mod net_macaddr_ip_op;
pub mod net_op;
pub mod node_aop_op;
pub mod node_blob_op;
pub mod node_inst_net_iface_op;
pub mod node_inst_netdesc_op;
pub mod node_inst_op;
pub mod node_inst_snap_op;
pub mod node_net_op;

pub use artifact_fetch_op::{ArtifactFetchOp, ArtifactFetchTask};
pub use imgcache_op::{ImgcacheOp, ImgcacheTask};
pub use net_iface_ip_op::{NetIfaceIpOp, NetIfaceIpTask};
pub use net_iface_op::{NetIfaceOp, NetIfaceTask};
pub use net_ip_op::{NetIpOp, NetIpTask};
pub use net_macaddr_ip_op::{NetMacaddrIpOp, NetMacaddrIpTask};
pub use net_op::{NetOp, NetTask};
pub use node_aop_op::{NodeAopOp, NodeAopTask};
pub use node_blob_op::{NodeBlobOp, NodeBlobTask};
pub use node_inst_net_iface_op::{NodeInstNetIfaceOp, NodeInstNetIfaceTask};
pub use node_inst_netdesc_op::{NodeInstNetdescOp, NodeInstNetdescTask};
pub use node_inst_op::{NodeInstOp, NodeInstTask};
pub use node_inst_snap_op::{NodeInstSnapOp, NodeInstSnapTask, SnapshotRequest};
pub use node_net_op::{NodeNetOp, NodeNetTask};
