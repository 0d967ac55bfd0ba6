//! The simulated cluster: one hypervisor, its networks, the ops that work on them, and the two gates
//! asked the same question at the same moment.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ops_core::network::{Health, Host, Maintainer, MaintainerOptions, Role, SimulatedHost};
use ops_core::{
    EnqueueError, InstanceId, InterfaceId, NetworkId, NewObject, NodeId, ObjectState, OpId,
    OpState, Priority, Store, StoreError,
};
use ops_schemas::ShakenFistRepairs;
use ops_schemas::ops::{
    NetOp, NetTask, NodeInstNetIfaceOp, NodeInstNetIfaceTask, NodeNetOp, NodeNetTask,
};

use crate::SimError;

/// The namespace the simulator's objects live in.
pub const NAMESPACE: &str = "ops-sim";

/// What an op of the simulation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Work {
    /// `net_op network_deploy`, on the network node: the network's first op.
    Deploy,
    /// `node_net_op network_apply_create_hypervisor`: builds the bridge on the hypervisor when it completes.
    CreateOnHypervisor,
    /// `node_inst_net_iface_op hot_plug_instance_interface`: quick work on the instance's node.
    HotPlug,
}

impl Work {
    /// How the op is named in the demo.
    pub fn describe(self) -> &'static str {
        match self {
            Work::Deploy => "net_op network_deploy",
            Work::CreateOnHypervisor => "node_net_op network_apply_create_hypervisor",
            Work::HotPlug => "node_inst_net_iface_op hot_plug_instance_interface",
        }
    }
}

/// An op the simulation enqueued and has not finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimOp {
    /// The op.
    pub id: OpId,
    /// Its network.
    pub network: usize,
    /// What it does.
    pub work: Work,
    /// `queued` or `executing`.
    pub state: OpState,
}

/// A network of the simulation, with the objects that make the hypervisor look after it.
#[derive(Clone, Debug)]
pub struct SimNetwork {
    /// The network.
    pub id: NetworkId,
    /// Its bridge on the hypervisor.
    pub bridge: String,
    instance: InstanceId,
    interface: InterfaceId,
}

/// What each gate decided for one network in one maintainer pass, and the truth.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The network's index in the world.
    pub network: usize,
    /// The legacy latest-only gate would recreate it.
    pub legacy_recreates: bool,
    /// The targets gate (the real maintainer, in a dry run) would recreate it.
    pub targets_recreates: bool,
    /// The ops in flight on it, as the simulation knows them (not as either gate reads them).
    pub in_flight: Vec<Work>,
    /// Its bridge is down or missing.
    pub broken: bool,
}

impl Verdict {
    /// A recreate by the legacy gate while an op worked on the network.
    pub fn legacy_spurious(&self) -> bool {
        self.legacy_recreates && !self.in_flight.is_empty()
    }

    /// A recreate by the targets gate while an op worked on the network.
    pub fn targets_spurious(&self) -> bool {
        self.targets_recreates && !self.in_flight.is_empty()
    }

    /// A broken network nothing works on that the targets gate did not repair.
    pub fn targets_missed(&self) -> bool {
        self.broken && self.in_flight.is_empty() && !self.targets_recreates
    }
}

/// One hypervisor and its networks, on a real store.
pub struct World {
    store: Store,
    host: Arc<SimulatedHost>,
    node: NodeId,
    networks: Vec<SimNetwork>,
    ops: Vec<SimOp>,
    /// The legacy single pointer, `last_cluster_operation`, as Shaken Fist's call sites kept it: set by
    /// hand after an enqueue — except where a call site forgot.
    legacy_pointer: BTreeMap<usize, OpId>,
    maintainer: Maintainer<ShakenFistRepairs>,
    enqueued: u64,
    /// Every op the world enqueued, for [`World::finish`].
    all_ops: Vec<OpId>,
}

impl World {
    /// An empty hypervisor, registered in `store`.
    pub async fn new(store: &Store) -> Result<World, SimError> {
        let node = NodeId::new_v4();
        store
            .create_object(&NewObject::node(node, format!("sim-hypervisor-{node}")))
            .await?;
        let host = Arc::new(SimulatedHost::new(false));
        let mut options = MaintainerOptions::default().dry_run(true);
        options.settle = std::time::Duration::ZERO;
        options.queue_depth_threshold = u64::MAX;
        options.breaker_after = 0;
        let maintainer = Maintainer::new(
            store.clone(),
            host.clone(),
            Role::Hypervisor(node),
            ShakenFistRepairs,
        )
        .options(options);
        Ok(World {
            store: store.clone(),
            host,
            node,
            networks: Vec::new(),
            ops: Vec::new(),
            legacy_pointer: BTreeMap::new(),
            maintainer,
            enqueued: 0,
            all_ops: Vec::new(),
        })
    }

    /// The store the world writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The networks, by index.
    pub fn networks(&self) -> &[SimNetwork] {
        &self.networks
    }

    /// The ops enqueued and not finished.
    pub fn ops(&self) -> &[SimOp] {
        &self.ops
    }

    /// How many ops the world has enqueued.
    pub fn enqueued(&self) -> u64 {
        self.enqueued
    }

    /// Creates a network as Shaken Fist does for a first instance on this hypervisor: the network, the
    /// instance and its interface, then the deploy op and the create op that will build the bridge. The
    /// bridge does not exist until that op completes. When `forget_pointer`, the create op's call site
    /// forgets to set the legacy pointer (the forgotten-call race). Returns the network's index.
    pub async fn add_network(&mut self, forget_pointer: bool) -> Result<usize, SimError> {
        let id = NetworkId::new_v4();
        let mut vxid = vxid_of(id);
        loop {
            match self
                .store
                .create_object(&NewObject::network(
                    id,
                    format!("sim-{id}"),
                    NAMESPACE,
                    vxid,
                ))
                .await
            {
                Ok(()) => break,
                // Another run's network holds the VXLAN id: take the next one.
                Err(StoreError::InvalidObject { .. }) => vxid = (vxid % 0xff_fffe) + 1,
                Err(error) => return Err(error.into()),
            }
        }
        let (instance, interface) = (InstanceId::new_v4(), InterfaceId::new_v4());
        self.store
            .set_object_state(id.into(), ObjectState::Created, None)
            .await?;
        self.store
            .create_object(&NewObject::instance(
                instance,
                format!("sim-{instance}"),
                NAMESPACE,
                Some(self.node),
            ))
            .await?;
        for state in [ObjectState::Creating, ObjectState::Created] {
            self.store
                .set_object_state(instance.into(), state, None)
                .await?;
        }
        self.store
            .create_object(&NewObject::interface(
                interface, "eth0", NAMESPACE, instance, id,
            ))
            .await?;
        self.networks.push(SimNetwork {
            id,
            bridge: format!("br-vxlan-{vxid:06x}"),
            instance,
            interface,
        });
        let network = self.networks.len() - 1;
        self.enqueue(network, Work::Deploy, false).await?;
        self.enqueue(network, Work::CreateOnHypervisor, forget_pointer)
            .await?;
        Ok(network)
    }

    /// Enqueues `work` on a network through its op's generated builder (so its target rows are written),
    /// and sets the legacy pointer unless `forget_pointer`.
    pub async fn enqueue(
        &mut self,
        network: usize,
        work: Work,
        forget_pointer: bool,
    ) -> Result<OpId, SimError> {
        let net = &self.networks[network];
        let id = match work {
            Work::Deploy => {
                NetOp {
                    network_uuid: net.id,
                    node_uuid: None,
                    floating_address: None,
                    inner_address: None,
                }
                .enqueue(&self.store)
                .priority(Priority::UserWaiting)
                .task(NetTask::NetworkDeploy)
                .await
            }
            Work::CreateOnHypervisor => {
                NodeNetOp {
                    node_uuid: self.node,
                    network_uuid: net.id,
                }
                .enqueue(&self.store)
                .priority(Priority::UserWaiting)
                .task(NodeNetTask::NetworkApplyCreateHypervisor)
                .await
            }
            Work::HotPlug => {
                NodeInstNetIfaceOp {
                    node_uuid: self.node,
                    instance_uuid: net.instance,
                    network_uuid: net.id,
                    interface_uuid: net.interface,
                }
                .enqueue(&self.store)
                .priority(Priority::UserWaiting)
                .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
                .await
            }
        }
        .map_err(|source: EnqueueError| SimError::Enqueue(Box::new(source)))?;
        self.enqueued += 1;
        self.all_ops.push(id);
        self.ops.push(SimOp {
            id,
            network,
            work,
            state: OpState::Queued,
        });
        if !forget_pointer {
            self.legacy_pointer.insert(network, id);
        }
        Ok(id)
    }

    /// A worker picks up op `index` of [`World::ops`]: `queued → executing`.
    pub async fn start(&mut self, index: usize) -> Result<(), SimError> {
        let op = &mut self.ops[index];
        self.store
            .transition(op.id, OpState::Executing, None)
            .await?;
        op.state = OpState::Executing;
        Ok(())
    }

    /// A worker completes op `index` of [`World::ops`]: `executing → complete`; a create op brings its
    /// network's bridge up.
    pub async fn complete(&mut self, index: usize) -> Result<SimOp, SimError> {
        let op = self.ops[index];
        self.store
            .transition(op.id, OpState::Complete, None)
            .await?;
        if op.work == Work::CreateOnHypervisor {
            self.host
                .set_interface(&self.networks[op.network].bridge, true);
        }
        self.ops.remove(index);
        Ok(op)
    }

    /// Leaves nothing live behind in the store: the ops still in flight are aborted, every op the world
    /// enqueued is hard-deleted (with its queue row), and its networks, instances and interfaces are
    /// deleted — so a run on a shared database leaves no work for real workers and no network for a real
    /// maintainer.
    pub async fn finish(self) -> Result<(), SimError> {
        for op in &self.ops {
            self.store
                .transition(op.id, OpState::Abort, Some("the simulation ended"))
                .await?;
        }
        for op in &self.all_ops {
            self.store.hard_delete_op(*op).await?;
        }
        for net in &self.networks {
            for object in [
                ops_core::ObjectRef::from(net.interface),
                ops_core::ObjectRef::from(net.instance),
                ops_core::ObjectRef::from(net.id),
            ] {
                self.store
                    .set_object_state(object, ObjectState::Deleted, Some("the simulation ended"))
                    .await?;
            }
        }
        Ok(())
    }

    /// A network's bridge goes down with no op to blame: a real breakage, which both gates should repair.
    pub fn break_bridge(&self, network: usize) {
        self.host
            .set_interface(&self.networks[network].bridge, false);
    }

    /// Whether the bridge of `network` is up.
    pub fn bridge_up(&self, network: usize) -> bool {
        self.host
            .interface_up(&self.networks[network].bridge)
            .unwrap_or(false)
    }

    /// A maintainer pass, asked of both gates at the same moment: the legacy gate reads the op the legacy
    /// pointer names (in flight → leave the network alone), the targets gate is the real maintainer.
    pub async fn pass(&self) -> Result<Vec<Verdict>, SimError> {
        let report = self
            .maintainer
            .pass()
            .await
            .map_err(|error| SimError::Maintain(Box::new(error)))?;
        let targets: BTreeSet<NetworkId> = report.repaired.iter().map(|r| r.network).collect();
        let mut verdicts = Vec::with_capacity(self.networks.len());
        for (index, net) in self.networks.iter().enumerate() {
            let network = self
                .store
                .network(net.id)
                .await?
                .ok_or(SimError::Vanished(net.id))?;
            let host_health = network.host_health(&*self.host);
            let pointer_in_flight = match self.legacy_pointer.get(&index) {
                Some(op) => self
                    .store
                    .op_state(*op)
                    .await?
                    .is_some_and(OpState::is_in_flight),
                None => false,
            };
            verdicts.push(Verdict {
                network: index,
                legacy_recreates: !pointer_in_flight && !host_health.is_okay(),
                targets_recreates: targets.contains(&net.id),
                in_flight: self
                    .ops
                    .iter()
                    .filter(|op| op.network == index)
                    .map(|op| op.work)
                    .collect(),
                broken: matches!(host_health, Health::BridgeDown { .. }),
            });
        }
        Ok(verdicts)
    }
}

/// A VXLAN id (24 bits, never 0) from the network's uuid.
fn vxid_of(id: NetworkId) -> u32 {
    let bytes = uuid::Uuid::from(id).into_bytes();
    let vxid = u32::from_be_bytes([0, bytes[13], bytes[14], bytes[15]]);
    vxid.max(1)
}
