//! The generated code names everything by absolute path: a module that shadows the prelude still derives
//! and enqueues (serde's `test_gen.rs` idea).

#![allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]

mod shadowed {
    use ::serde::{Deserialize, Serialize};
    use ops_core::{
        ClusterOperation, InstanceId, NetworkId, NodeId, OpTask, Priority, StoreOptions,
    };

    // Every name the generated code might reach for by its short form.
    struct Result;
    struct Ok;
    struct Err;
    struct Option;
    struct Some;
    struct None;
    struct Vec;
    struct String;
    struct Box;
    struct TargetSet;
    struct ContextSet;
    struct Store;
    mod core {}
    mod std {}

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    enum Task {
        Run,
    }

    impl OpTask for Task {
        fn name(self) -> &'static str {
            "run"
        }
    }

    #[derive(Serialize, Deserialize, ClusterOperation)]
    #[operation(name = "shadowed_op", tasks = Task, queue = node)]
    struct ShadowedOp {
        #[context]
        node_uuid: ::std::option::Option<NodeId>,
        #[target]
        instance_uuid: InstanceId,
        #[target]
        networks: ::std::vec::Vec<NetworkId>,
        #[context]
        note: ::std::string::String,
        size: ::std::boxed::Box<u64>,
    }

    #[tokio::test]
    async fn derives_and_enqueues_with_the_prelude_shadowed() {
        let store = StoreOptions::new("sqlite::memory:")
            .connect()
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let instance = InstanceId::new_v4();
        let op = ShadowedOp {
            node_uuid: ::std::option::Option::None,
            instance_uuid: instance,
            networks: ::std::vec![NetworkId::new_v4(), NetworkId::new_v4()],
            note: "hygiene".into(),
            size: ::std::boxed::Box::new(1),
        };
        ::std::assert_eq!(op.targets().len(), 3);
        op.enqueue(&store)
            .priority(Priority::Background)
            .task(Task::Run)
            .await
            .unwrap();
        ::std::assert!(store.has_pending(instance).await.unwrap());
    }
}
