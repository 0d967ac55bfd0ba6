//! Objects on every backend: registering them, their state machines, the networks a maintainer looks at,
//! and the external views whose JSON shape Shaken Fist's API consumers rely on.

mod support;

use ops_core::view::ExternalView;
use ops_core::{
    ArtifactId, BlobId, InstanceId, InterfaceId, NetworkId, NewObject, NodeId, ObjectRef,
    ObjectState, ObjectType, OpState, Store, StoreError,
};
use ops_testkit::backend_tests;
use serde_json::{Value, json};
use support::{NodeInstNetIfaceOp, NodeInstNetIfaceTask, enqueue_net_op};

async fn view(store: &Store, object: impl Into<ObjectRef>) -> Value {
    let view: ExternalView = store
        .external_view(object.into())
        .await
        .expect("read the view")
        .expect("a view");
    serde_json::to_value(view).expect("a view is JSON")
}

async fn created(store: &Store, object: impl Into<ObjectRef>) {
    store
        .set_object_state(object.into(), ObjectState::Created, None)
        .await
        .expect("move to created");
}

backend_tests! {
    async fn objects_are_found_by_name_in_a_namespace_or_in_all(db: &TestDb) {
        let store = db.migrated_store().await;
        let mut ours = Vec::new();
        for (vxid, namespace) in [(1, "team-a"), (2, "team-a"), (3, "team-b")] {
            let id = NetworkId::new_v4();
            store.create_object(&NewObject::network(id, "web", namespace, vxid)).await.unwrap();
            ours.push((id, namespace));
        }
        store.create_object(&NewObject::network(NetworkId::new_v4(), "db", "team-a", 4)).await.unwrap();
        let uuids = |records: Vec<ops_core::ObjectRecord>| records.into_iter().map(|r| r.object.uuid).collect::<Vec<_>>();
        let mut team_a: Vec<_> = ours.iter().filter(|(_, ns)| *ns == "team-a").map(|(id, _)| uuid::Uuid::from(*id)).collect();
        team_a.sort();
        assert_eq!(uuids(store.objects_named(ObjectType::Network, "web", Some("team-a")).await.unwrap()), team_a);
        assert_eq!(store.objects_named(ObjectType::Network, "web", None).await.unwrap().len(), 3);
        assert!(store.objects_named(ObjectType::Network, "web", Some("team-c")).await.unwrap().is_empty());
        assert!(store.objects_named(ObjectType::Instance, "web", None).await.unwrap().is_empty());
        let found = store.objects_named(ObjectType::Network, "db", None).await.unwrap();
        assert_eq!((found.len(), found[0].namespace.as_str(), found[0].name.as_str()), (1, "team-a", "db"));
    }

    /// The JSON of each type's view, pinned: instances, networks and artifacts carry
    /// `last_cluster_operation` (the newest op in any state, or null); blobs, interfaces and nodes do not.
    async fn external_views_keep_shaken_fists_shape_for_all_six_types(db: &TestDb) {
        let store = db.migrated_store().await;
        let (node, network, instance) = (NodeId::new_v4(), NetworkId::new_v4(), InstanceId::new_v4());
        let (interface, artifact, blob) = (InterfaceId::new_v4(), ArtifactId::new_v4(), BlobId::new_v4());
        for new in [
            NewObject::node(node, "hv1"),
            NewObject::network(network, "web", "ns1", 0x2a).dhcp(true),
            NewObject::instance(instance, "vm1", "ns1", Some(node)),
            NewObject::interface(interface, "eth0", "ns1", instance, network),
            NewObject::artifact(artifact, "image", "ns1"),
            NewObject::blob(blob, "blob", "ns1"),
        ] {
            store.create_object(&new).await.unwrap();
        }
        assert_eq!(
            view(&store, network).await,
            json!({
                "uuid": network, "name": "web", "namespace": "ns1", "state": "initial", "vxlan_id": 42,
                "provide_dhcp": true, "provide_dns": false, "error_message": null, "last_cluster_operation": null,
            })
        );
        let op = enqueue_net_op(&store, network).await;
        let hot_plug = NodeInstNetIfaceOp { node_uuid: node, instance_uuid: instance, network_uuid: network, interface_uuid: interface }
            .enqueue(&store)
            .priority(ops_core::Priority::UserWaiting)
            .task(NodeInstNetIfaceTask::HotPlugInstanceInterface)
            .await
            .unwrap();
        // The newest op, whatever its state: a completed op still counts.
        store.transition(hot_plug, OpState::Executing, None).await.unwrap();
        store.transition(hot_plug, OpState::Complete, None).await.unwrap();
        store.set_object_state(network.into(), ObjectState::Created, None).await.unwrap();
        store.set_object_state(network.into(), ObjectState::Error, Some("bridge missing")).await.unwrap();
        assert_eq!(
            view(&store, network).await,
            json!({
                "uuid": network, "name": "web", "namespace": "ns1", "state": "error", "vxlan_id": 42,
                "provide_dhcp": true, "provide_dns": false, "error_message": "bridge missing",
                "last_cluster_operation": {"op_type": "node_inst_net_iface_op", "op_uuid": hot_plug},
            })
        );
        assert_ne!(op, hot_plug);
        assert_eq!(
            view(&store, instance).await,
            json!({
                "uuid": instance, "name": "vm1", "namespace": "ns1", "state": "initial", "node": node,
                "error_message": null,
                "last_cluster_operation": {"op_type": "node_inst_net_iface_op", "op_uuid": hot_plug},
            })
        );
        assert_eq!(
            view(&store, artifact).await,
            json!({"uuid": artifact, "name": "image", "namespace": "ns1", "state": "initial", "last_cluster_operation": null})
        );
        // Targeted by the hot-plug op, but an interface's view has no last_cluster_operation.
        assert_eq!(
            view(&store, interface).await,
            json!({
                "uuid": interface, "name": "eth0", "namespace": "ns1", "state": "initial",
                "instance_uuid": instance, "network_uuid": network,
            })
        );
        assert_eq!(view(&store, blob).await, json!({"uuid": blob, "name": "blob", "namespace": "ns1", "state": "initial"}));
        let node_ref = ObjectRef { object_type: ObjectType::Node, uuid: node.into() };
        assert_eq!(view(&store, node_ref).await, json!({"uuid": node, "name": "hv1", "state": "created"}));
        assert!(store.external_view(NetworkId::new_v4().into()).await.unwrap().is_none());
    }

    /// Each type moves only as its machine allows; the same state again is no change, and an unknown
    /// object is an error.
    async fn object_states_follow_their_types_machine(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        store.create_object(&NewObject::network(network, "n", "ns", 7)).await.unwrap();
        let object = ObjectRef::from(network);
        assert_eq!(store.set_object_state(object, ObjectState::Created, None).await.unwrap(), ObjectState::Initial);
        assert_eq!(store.set_object_state(object, ObjectState::Created, None).await.unwrap(), ObjectState::Created);
        let err = store.set_object_state(object, ObjectState::Initial, None).await.unwrap_err();
        assert_eq!(err.to_string(), format!("network {network} cannot move from `created` to `initial`"));
        store.set_object_state(object, ObjectState::DeleteWait, None).await.unwrap();
        store.set_object_state(object, ObjectState::Deleted, None).await.unwrap();
        assert!(matches!(
            store.set_object_state(object, ObjectState::Created, None).await,
            Err(StoreError::IllegalObjectTransition { from: ObjectState::Deleted, .. })
        ));
        let missing = ObjectRef::from(NetworkId::new_v4());
        assert!(matches!(
            store.set_object_state(missing, ObjectState::Created, None).await,
            Err(StoreError::ObjectNotFound(object)) if object == missing
        ));
        let record = store.object(object).await.unwrap().unwrap();
        assert_eq!(record.state, Some(ObjectState::Deleted));
        let story = db.count(&format!("event_objects WHERE object_type = 'network' AND object_uuid = '{network}'")).await;
        assert_eq!(story, 4, "one mutate event per change, the first state included, none for no change");
    }

    /// An object registered twice, under a taken VXLAN id, or with another type's details is refused, and
    /// nothing of it is written.
    async fn a_refused_registration_writes_nothing(db: &TestDb) {
        let store = db.migrated_store().await;
        let network = NetworkId::new_v4();
        store.create_object(&NewObject::network(network, "n", "ns", 7)).await.unwrap();
        let before = (db.count("networks").await, db.count("object_states").await, db.count("events").await);
        let again = store.create_object(&NewObject::network(network, "n", "ns", 8)).await.unwrap_err();
        assert_eq!(again.to_string(), format!("network {network} exists already"));
        let other = NetworkId::new_v4();
        let taken = store.create_object(&NewObject::network(other, "m", "ns", 7)).await.unwrap_err();
        assert_eq!(taken.to_string(), format!("cannot register network {other}: its registry row, or VXLAN id 7, is taken"));
        let mut mismatched = NewObject::artifact(ArtifactId::new_v4(), "a", "ns");
        mismatched.details = NewObject::instance(InstanceId::new_v4(), "i", "ns", None).details;
        let mismatch = store.create_object(&mismatched).await.unwrap_err();
        assert!(mismatch.to_string().ends_with("its details are not a artifact's"), "{mismatch}");
        let after = (db.count("networks").await, db.count("object_states").await, db.count("events").await);
        assert_eq!(before, after);
    }

    /// The network node looks at every active network; a hypervisor at the active networks of the
    /// created instances placed on it, through their interfaces.
    async fn each_maintainer_sees_its_own_networks(db: &TestDb) {
        let store = db.migrated_store().await;
        let (here, elsewhere) = (NodeId::new_v4(), NodeId::new_v4());
        let networks: Vec<NetworkId> = (0..4).map(|_| NetworkId::new_v4()).collect();
        for (vxid, network) in (1..).zip(&networks) {
            store.create_object(&NewObject::network(*network, "n", "ns", vxid)).await.unwrap();
            created(&store, *network).await;
        }
        store.set_object_state(networks[3].into(), ObjectState::Deleted, None).await.unwrap();
        let placed = [(here, networks[0], true), (here, networks[1], false), (elsewhere, networks[2], true), (here, networks[3], true)];
        for (node, network, running) in placed {
            let instance = InstanceId::new_v4();
            store.create_object(&NewObject::instance(instance, "vm", "ns", Some(node))).await.unwrap();
            if running {
                store.set_object_state(instance.into(), ObjectState::Creating, None).await.unwrap();
                created(&store, instance).await;
            }
            let interface = InterfaceId::new_v4();
            store.create_object(&NewObject::interface(interface, "eth0", "ns", instance, network)).await.unwrap();
        }
        let ids = |networks: Vec<ops_core::Network>| networks.into_iter().map(|n| n.id).collect::<Vec<_>>();
        let mut active = networks[..3].to_vec();
        active.sort_by_key(|id| id.to_string());
        assert_eq!(ids(store.active_networks().await.unwrap()), active);
        assert_eq!(ids(store.networks_of_node(here).await.unwrap()), [networks[0]]);
        assert_eq!(store.live_interfaces(networks[1]).await.unwrap(), 1);
        assert_eq!(store.live_interfaces(NetworkId::new_v4()).await.unwrap(), 0);
        let network = store.network(networks[0]).await.unwrap().unwrap();
        assert_eq!((network.bridge().as_deref(), network.state), (Some("br-vxlan-000001"), Some(ObjectState::Created)));
    }
}
