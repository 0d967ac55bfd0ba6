//! The annotated twin of every forgotten-target compile-fail case: each container family, each through an
//! alias, each user type, compiles once annotated, and gives the targets and context it holds. (`Rc` is
//! `OpData` too, see plain-types.rs, but an operation must be `Send + Sync`.)

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::num::Wrapping;
use std::sync::Arc;

use ops_core::{
    ClusterOperation, ContextSet, InstanceId, NetworkId, NodeId, ObjectId, ObjectType, OpData,
};
use serde::{Deserialize, Serialize};

#[path = "../support/task.rs"]
mod task;
pub use task::Task;

type Net = NetworkId;
type Guest = InstanceId;

/// A newtype of an id, made `OpData` by saying its id is context, and why.
#[derive(Clone, Serialize, Deserialize, OpData)]
struct NetRef(#[context(reason = "a network the op reads, never changes")] NetworkId);

/// A nested struct: its id is context, its other fields are plain.
#[derive(Clone, Serialize, Deserialize, OpData)]
struct Hop {
    #[context(reason = "a hop is read to route, not acted on")]
    network: Net,
    weight: u8,
}

/// A nested enum, with every shape of variant.
#[derive(Clone, Serialize, Deserialize, OpData)]
enum Route {
    Direct(#[context(reason = "the route's network is read, not acted on")] NetworkId),
    Via {
        #[context]
        node: NodeId,
        hops: Vec<Hop>,
    },
    Unrouted,
}

/// A generic nested type, `OpData` whenever its argument is.
#[derive(Clone, Serialize, Deserialize, OpData)]
struct Pair<T> {
    first: T,
    second: T,
}

type Hops = Vec<Hop>;

#[derive(Serialize, Deserialize, ClusterOperation)]
#[operation(name = "forms_op", tasks = Task, queue = any)]
pub struct FormsOp {
    #[target]
    set: HashSet<NetworkId>,
    #[target]
    set_alias: HashSet<Net>,
    #[target]
    map_key: BTreeMap<NetworkId, u32>,
    #[target]
    map_key_alias: BTreeMap<Net, u32>,
    #[target]
    map_value: HashMap<String, NetworkId>,
    #[target]
    map_value_alias: HashMap<String, Net>,
    #[target]
    arc: Arc<NetworkId>,
    #[target]
    arc_alias: Arc<Net>,
    #[target]
    boxed: Box<NetworkId>,
    #[target]
    array: [NetworkId; 2],
    #[target]
    array_alias: [Net; 2],
    #[target]
    slice: Box<[InstanceId]>,
    #[target]
    slice_alias: Box<[Guest]>,
    #[target]
    tuple: (NetworkId, u8),
    #[target]
    tuple_alias: (Net, u8),
    #[target]
    deque: VecDeque<InstanceId>,
    #[target]
    cow: Cow<'static, [NetworkId]>,
    #[target]
    nested_tuples: Vec<(String, Option<(u8, Guest)>)>,
    #[context]
    nodes: HashSet<NodeId>,
    #[context(reason = "networks this op has seen, reported, not acted on")]
    networks_seen: BTreeMap<NetworkId, NodeId>,
    newtype: NetRef,
    hops: Vec<Hop>,
    route: Route,
    via: Route,
    maybe_hops: Option<Vec<Hop>>,
    hops_alias: Hops,
    pair: Pair<String>,
    #[plain]
    counter: Wrapping<u32>,
}

/// An op holding 12 network ids, 5 instance ids and 3 node ids in every form; also used by
/// ops-schemas/tests/promise.rs, which enqueues it and compares the stored rows with its JSON.
pub fn forms_op(ids: &[NetworkId; 12], guests: &[InstanceId; 5], nodes: &[NodeId; 3]) -> FormsOp {
    let hop = |network: NetworkId| Hop { network, weight: 1 };
    FormsOp {
        set: [ids[0]].into(),
        set_alias: [ids[1]].into(),
        map_key: [(ids[2], 7)].into(),
        map_key_alias: [(ids[3], 7)].into(),
        map_value: [("a".to_owned(), ids[4])].into(),
        map_value_alias: [("b".to_owned(), ids[5])].into(),
        arc: Arc::new(ids[6]),
        arc_alias: Arc::new(ids[7]),
        boxed: Box::new(ids[8]),
        array: [ids[9], ids[9]],
        array_alias: [ids[10], ids[0]],
        slice: vec![guests[0]].into_boxed_slice(),
        slice_alias: vec![guests[1], guests[2]].into_boxed_slice(),
        tuple: (ids[11], 3),
        tuple_alias: (ids[11], 4),
        deque: [guests[3]].into(),
        cow: Cow::Owned(vec![ids[0]]),
        nested_tuples: vec![
            ("x".to_owned(), Some((1, guests[4]))),
            ("y".to_owned(), None),
        ],
        nodes: [nodes[0]].into(),
        networks_seen: [(ids[0], nodes[1])].into(),
        newtype: NetRef(ids[1]),
        hops: vec![hop(ids[2])],
        route: Route::Direct(ids[3]),
        via: Route::Via {
            node: nodes[2],
            hops: vec![hop(ids[4])],
        },
        maybe_hops: Some(vec![hop(ids[5])]),
        hops_alias: vec![hop(ids[6])],
        pair: Pair {
            first: "a".into(),
            second: "b".into(),
        },
        counter: Wrapping(1),
    }
}

fn main() {
    let ids: [NetworkId; 12] = std::array::from_fn(|_| NetworkId::new_v4());
    let guests: [InstanceId; 5] = std::array::from_fn(|_| InstanceId::new_v4());
    let nodes: [NodeId; 3] = std::array::from_fn(|_| NodeId::new_v4());
    let op = forms_op(&ids, &guests, &nodes);

    // Every target id once: the twelve networks and the five guests.
    let targets = op.targets();
    assert_eq!(targets.len(), 17);
    for id in &ids {
        assert!(targets.contains(&id.object_ref()), "{id} is a target");
    }
    for guest in &guests {
        assert!(targets.contains(&guest.object_ref()), "{guest} is a target");
    }

    // Context: the `#[context]` fields' ids, and the ids nested types declare `#[context]`.
    let context: Vec<_> = op.context().iter().copied().collect();
    let mut expected = ContextSet::new();
    expected.extend(nodes.iter().copied());
    expected.extend(ids[..7].iter().copied());
    assert_eq!(context, expected.iter().copied().collect::<Vec<_>>());
    assert!(
        context
            .iter()
            .all(|object| matches!(object.object_type, ObjectType::Network | ObjectType::Node))
    );

    assert_eq!(
        FormsOp::TARGET_FIELDS
            .iter()
            .map(|(_, object_type)| *object_type)
            .collect::<Vec<_>>(),
        [
            vec![ObjectType::Network; 11],
            vec![ObjectType::Instance; 2],
            vec![ObjectType::Network; 2],
            vec![ObjectType::Instance],
            vec![ObjectType::Network],
            vec![ObjectType::Instance],
        ]
        .concat()
    );
    assert_eq!(FormsOp::CONTEXT_FIELDS, &["nodes", "networks_seen"]);
    assert_eq!(
        FormsOp::CONTEXT_REASONS,
        &[(
            "networks_seen",
            "networks this op has seen, reported, not acted on"
        )]
    );
}
