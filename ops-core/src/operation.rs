//! The [`ClusterOperation`] trait and what an operation declares: targets, context, queue and header.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::{NodeId, ObjectId, ObjectRef, ObjectType, OpId, Priority, Target, WireError};

/// A typed cluster operation: a job that acts on target objects.
///
/// Implemented by `#[derive(ClusterOperation)]`, which reads `#[target]` / `#[context]` on the struct's
/// fields; the struct holds only the operation's own fields and the enqueue builder supplies the
/// [`Header`]. Only the derive may implement it: a hand-written impl would skip every check that no id field
/// was forgotten, so it does not compile (see `only_derive_is_allowed_to_implement_this_trait`).
pub trait ClusterOperation: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The operation's type, e.g. `node_inst_op`; also the `object_type` of its state row.
    const OP_TYPE: &'static str;
    /// The schema version written into every enqueued op.
    const VERSION: u32;
    /// Every `#[target]` field, in declaration order, with the kind of object it names: what an op's JSON
    /// Schema records as `x-targets`.
    const TARGET_FIELDS: &'static [(&'static str, ObjectType)];
    /// Every `#[context]` field, in declaration order (`x-context`).
    const CONTEXT_FIELDS: &'static [&'static str];
    /// Every `#[context]` field that gives a reason, with it: why an id of a targetable kind is context and
    /// not a target (`x-context-reasons`).
    const CONTEXT_REASONS: &'static [(&'static str, &'static str)];
    /// The op's task enum.
    type Task: OpTask;

    /// Every declared target whose value is present. `None` is skipped, collections give one target each,
    /// duplicates collapse.
    fn targets(&self) -> TargetSet;

    /// The object ids that are execution context (the node, ...): linked to the audit event, never targets.
    fn context(&self) -> ContextSet;

    /// Which queue's workers run this op.
    fn queue_target(&self) -> QueueTarget;

    /// The queue family: fixed by `family = ...`, or chosen per op by `queue = node_or_network_node`.
    fn family(&self) -> Family;

    /// The coalescing key of an enqueue of this op with `tasks`, when the op type coalesces (Shaken Fist's
    /// `net_op`): two queued ops with the same type and key do the same work. Given by the function named in
    /// `#[operation(coalesce = ...)]`; `None` (no coalescing) otherwise. The enqueue only asks when there is
    /// exactly one task and no dependency, as Shaken Fist's dedup does.
    fn coalescing(&self, tasks: &[Self::Task]) -> Option<CoalesceKey> {
        let _ = tasks;
        None
    }

    /// A hand-written impl fails without this, and its name says why: the trait is a promise the derive
    /// checks field by field (zerocopy's convention). Write `#[derive(ClusterOperation)]` instead.
    #[doc(hidden)]
    fn only_derive_is_allowed_to_implement_this_trait();
}

/// What makes two queued ops of one type interchangeable: an enqueue with the key of a queued op (at least
/// as urgent) returns that op instead of writing a new one, and a worker that completes an op completes its
/// queued siblings with it. Build it from the task and the fields that identify the work (`net_op`: the
/// task, the network and the node).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CoalesceKey(String);

impl CoalesceKey {
    /// The longest key the store keeps (`cluster_operations.coalesce_key` is `VARCHAR(255)`).
    pub const MAX_LEN: usize = 255;

    /// A key from named parts, `name=value;...`, a missing value written `-` (so `None` matches only
    /// `None`, as Shaken Fist binds it as `IS NULL`).
    pub fn from_parts<'a>(parts: impl IntoIterator<Item = (&'a str, Option<String>)>) -> Self {
        let parts: Vec<String> = parts
            .into_iter()
            .map(|(name, value)| format!("{name}={}", value.as_deref().unwrap_or("-")))
            .collect();
        CoalesceKey(parts.join(";"))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task of an operation: one variant of its task enum.
pub trait OpTask:
    Copy + Eq + fmt::Debug + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The snake_case name used on the wire (`health_check_kvm_process`).
    fn name(self) -> &'static str;
}

/// The targets of one op: a set of objects, each of a [`Target`] type.
///
/// Only typed target ids can be inserted, so a node or an untyped uuid can never become a target row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TargetSet(BTreeSet<ObjectRef>);

impl TargetSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one target; a duplicate is ignored.
    pub fn insert<T: Target>(&mut self, id: T) {
        self.0.insert(id.object_ref());
    }

    /// Adds every target of a collection (`Vec<NetworkId>`, `BTreeSet<BlobId>`, `Option<InstanceId>`).
    pub fn extend<T: Target>(&mut self, ids: impl IntoIterator<Item = T>) {
        self.0.extend(ids.into_iter().map(|id| id.object_ref()));
    }

    /// The number of distinct targets.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the op targets nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The targets, ordered by type then uuid.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &ObjectRef> {
        self.0.iter()
    }

    /// Whether this object is a target.
    pub fn contains(&self, object: &ObjectRef) -> bool {
        self.0.contains(object)
    }
}

/// The object ids an op carries as execution context (a node, ...).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContextSet(BTreeSet<ObjectRef>);

impl ContextSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one context id.
    pub fn insert<I: ObjectId>(&mut self, id: I) {
        self.0.insert(id.object_ref());
    }

    /// Adds every id of a collection or option.
    pub fn extend<I: ObjectId>(&mut self, ids: impl IntoIterator<Item = I>) {
        self.0.extend(ids.into_iter().map(|id| id.object_ref()));
    }

    /// The context ids, ordered by type then uuid.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &ObjectRef> {
        self.0.iter()
    }
}

/// Where an op is queued: for one node, for any node, or for the network node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QueueTarget {
    /// Only this node's workers take it.
    Node(NodeId),
    /// Any node's workers may take it.
    Any,
    /// The network node's workers take it.
    NetworkNode,
}

impl fmt::Display for QueueTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueTarget::Node(node) => fmt::Display::fmt(node, f),
            QueueTarget::Any => f.write_str("any"),
            QueueTarget::NetworkNode => f.write_str("networknode"),
        }
    }
}

/// The queue family: ordinary cluster operations, or per-node network work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `clusteroperation`: the default.
    ClusterOperation,
    /// `network`: per-node network queues.
    Network,
}

impl Family {
    /// The name used in queue names.
    pub const fn as_str(self) -> &'static str {
        match self {
            Family::ClusterOperation => "clusteroperation",
            Family::Network => "network",
        }
    }
}

/// The work-queue name `{target}-{family}-{priority_name}`, e.g. `any-clusteroperation-background`.
pub fn queue_name(target: QueueTarget, family: Family, priority: Priority) -> String {
    format!("{target}-{}-{}", family.as_str(), priority.name())
}

/// A reference from one op to another in `depends_on` or `runs_after`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    /// The other op's type, e.g. `net_op`.
    pub op_type: String,
    /// The other op's id.
    pub op_uuid: OpId,
}

impl Dependency {
    /// A dependency on an op of a known type.
    pub fn on<Op: ClusterOperation>(op_uuid: OpId) -> Self {
        Dependency {
            op_type: Op::OP_TYPE.to_owned(),
            op_uuid,
        }
    }
}

/// The header every enqueued op carries (Shaken Fist's common op shape), supplied by the enqueue builder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(bound(deserialize = "T: OpTask"), deny_unknown_fields)]
pub struct Header<T> {
    /// The op's id.
    pub uuid: OpId,
    /// How urgent it is.
    pub priority: Priority,
    /// The API request that caused it; the key is always present, the value may be null.
    pub request_id: Option<String>,
    /// What to do, in order.
    pub tasks: Vec<T>,
    /// Hard dependencies; `null` on the wire reads as empty.
    #[serde(deserialize_with = "null_as_empty")]
    #[schemars(with = "Option<Vec<Dependency>>")]
    pub depends_on: Vec<Dependency>,
    /// Ordering-only dependencies; `null` on the wire reads as empty.
    #[serde(deserialize_with = "null_as_empty")]
    #[schemars(with = "Option<Vec<Dependency>>")]
    pub runs_after: Vec<Dependency>,
    /// The op's schema version.
    pub version: u32,
}

fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Dependency>, D::Error> {
    Ok(Option::<Vec<Dependency>>::deserialize(deserializer)?.unwrap_or_default())
}

/// An op in its wire form: the [`Header`] and the op's own fields in one flat JSON object, as Shaken Fist
/// stores and sends it (`cluster_operations.metadata_json`).
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope<Op: ClusterOperation> {
    /// The common header.
    pub header: Header<Op::Task>,
    /// The op's own fields.
    pub body: Op,
}

impl<Op: ClusterOperation> Envelope<Op> {
    /// The wire form: header and body keys in one object. Fails if either is not an object or the body uses
    /// a header key.
    pub fn to_wire(&self) -> Result<serde_json::Map<String, serde_json::Value>, WireError> {
        let mut wire = json_object(Op::OP_TYPE, "header", &self.header)?;
        for (key, value) in json_object(Op::OP_TYPE, "body", &self.body)? {
            if HEADER_KEYS.contains(&key.as_str()) {
                return Err(WireError::ReservedField {
                    op_type: Op::OP_TYPE,
                    field: key,
                });
            }
            wire.insert(key, value);
        }
        Ok(wire)
    }

    /// Reads the wire form: the header keys make the header, every other key belongs to the body.
    pub fn from_wire(
        mut wire: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, serde_json::Error> {
        let mut header = serde_json::Map::new();
        for key in HEADER_KEYS {
            if let Some(value) = wire.remove(key) {
                header.insert(key.to_owned(), value);
            }
        }
        Ok(Envelope {
            header: serde_json::from_value(serde_json::Value::Object(header))?,
            body: serde_json::from_value(serde_json::Value::Object(wire))?,
        })
    }
}

fn json_object<T: Serialize>(
    op_type: &'static str,
    part: &'static str,
    value: &T,
) -> Result<serde_json::Map<String, serde_json::Value>, WireError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(WireError::NotAnObject { op_type, part }),
        Err(source) => Err(WireError::Serialize { op_type, source }),
    }
}

/// The key names of [`Header`]; an op body may not use them.
pub const HEADER_KEYS: [&str; 7] = [
    "uuid",
    "priority",
    "request_id",
    "tasks",
    "depends_on",
    "runs_after",
    "version",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_follow_target_family_priority() {
        let node: NodeId = "0b0a6a4e-8a37-4b5c-9d5c-3e9b1c0f2a10".parse().unwrap();
        assert_eq!(
            queue_name(
                QueueTarget::Any,
                Family::ClusterOperation,
                Priority::Background
            ),
            "any-clusteroperation-background"
        );
        assert_eq!(
            queue_name(
                QueueTarget::NetworkNode,
                Family::ClusterOperation,
                Priority::UserWaiting
            ),
            "networknode-clusteroperation-user_waiting"
        );
        assert_eq!(
            queue_name(
                QueueTarget::Node(node),
                Family::Network,
                Priority::Background
            ),
            "0b0a6a4e-8a37-4b5c-9d5c-3e9b1c0f2a10-network-background"
        );
    }

    #[test]
    fn family_serialises_lowercase() {
        assert_eq!(
            serde_json::to_string(&Family::ClusterOperation).unwrap(),
            "\"clusteroperation\""
        );
        assert_eq!(
            serde_json::from_str::<Family>("\"network\"").unwrap(),
            Family::Network
        );
    }

    #[test]
    fn dependency_wire_form() {
        let json = r#"{"op_type":"net_op","op_uuid":"0b0a6a4e-8a37-4b5c-9d5c-3e9b1c0f2a10"}"#;
        let dep: Dependency = serde_json::from_str(json).unwrap();
        assert_eq!(dep.op_type, "net_op");
        assert_eq!(serde_json::to_string(&dep).unwrap(), json);
        assert!(
            serde_json::from_str::<Dependency>(r#"{"op_type":"net_op","op_uuid":"x"}"#).is_err()
        );
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Task {
        NetworkDeploy,
    }

    impl OpTask for Task {
        fn name(self) -> &'static str {
            "network_deploy"
        }
    }

    #[test]
    fn header_reads_null_dependencies_as_empty_and_writes_lists() {
        let json = r#"{"uuid":"0b0a6a4e-8a37-4b5c-9d5c-3e9b1c0f2a10","priority":"background","request_id":null,
            "tasks":["network_deploy"],"depends_on":null,"runs_after":null,"version":3}"#;
        let header: Header<Task> = serde_json::from_str(json).unwrap();
        assert!(header.depends_on.is_empty() && header.runs_after.is_empty());
        assert_eq!(header.tasks, [Task::NetworkDeploy]);
        let value = serde_json::to_value(&header).unwrap();
        assert_eq!(value["depends_on"], serde_json::json!([]));
        assert_eq!(value["request_id"], serde_json::Value::Null);
        let keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
        let mut expected: Vec<_> = HEADER_KEYS.iter().map(|k| k.to_string()).collect();
        expected.sort();
        assert_eq!(keys, expected);
    }

    #[test]
    fn target_sets_collapse_duplicates() {
        let net: crate::NetworkId = "0b0a6a4e-8a37-4b5c-9d5c-3e9b1c0f2a10".parse().unwrap();
        let mut set = TargetSet::new();
        set.insert(net);
        set.extend([net, net]);
        set.extend(None::<crate::InstanceId>);
        assert_eq!(set.len(), 1);
        assert!(set.contains(&net.object_ref()));
    }
}
