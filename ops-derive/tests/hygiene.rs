//! The generated code names everything by absolute path: a module that shadows the prelude still derives
//! and enqueues (serde's `test_gen.rs` idea).

#![allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]

mod shadowed {
    use ::serde::{Deserialize, Serialize};
    use ops_core::{
        ArtifactId, ClusterOperation, InstanceId, NetworkId, NodeId, OpData, OpTask, Priority,
        StoreOptions,
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
        layers: ::std::vec::Vec<Layer<u8>>,
    }

    /// `#[derive(OpData)]` in the same shadowed scope: a generic enum with every shape of variant.
    #[derive(Serialize, Deserialize, OpData)]
    enum Layer<T> {
        Base(#[context(reason = "the image layered on")] ArtifactId, T),
        Overlay {
            depth: T,
            #[context(reason = "the parent layer")]
            parent: ArtifactId,
        },
        Empty,
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
            layers: ::std::vec![
                Layer::Base(ArtifactId::new_v4(), 1),
                Layer::Overlay {
                    depth: 2,
                    parent: ArtifactId::new_v4()
                },
                Layer::Empty,
            ],
        };
        ::std::assert_eq!(op.targets().len(), 3);
        // The two artifacts are context; no node was given.
        ::std::assert_eq!(op.context().iter().len(), 2);
        op.enqueue(&store)
            .priority(Priority::Background)
            .task(Task::Run)
            .await
            .unwrap();
        ::std::assert!(store.has_pending(instance).await.unwrap());
    }
}
